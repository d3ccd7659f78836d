"""Shared fixtures: where the real data live (``../shared`` next to the repository).

Tests that use real data fail, with a message saying where the folder was
expected, when it is missing: nothing is skipped silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()

#: fixtures and the scripts that made them are data, not tests (also under --doctest-modules)
collect_ignore_glob = ["data/*"]


def _require(path: Path, what: str) -> Path:
    if not path.is_dir():
        pytest.fail(
            f"{what} not found at {path}: these tests read real data from ../shared next to the "
            "repository root (see ../shared/data/README.md)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` relative to the repository root (data, videos, models)."""
    return _require(SHARED, "the shared folder")


@pytest.fixture(scope="session")
def shared_data(shared_dir: Path) -> Path:
    """``../shared/data``: the real data sets, read in place."""
    return _require(shared_dir / "data", "the shared data folder")
