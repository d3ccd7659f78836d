"""Internal utilities: files (fs), threads and parallel runs (parallel)."""
