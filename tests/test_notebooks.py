"""Execute the notebooks in ``notebooks/`` (as CI does) and check they are committed without outputs.

Each notebook runs in a fresh kernel with its own folder (``notebooks/``) as
working directory; the notebooks find the repository root themselves, so they
also run from the root. Their budgets are small (subsets of MSR Action3D, a
tiny CNN, 5 s of video): together they take about 2-4 minutes on two cores.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need nbformat and nbclient (the dev extra)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need nbformat and nbclient (the dev extra)")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_feature_counts.ipynb", "02_pruning.ipynb", "03_video_to_behavior.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cell"
    for c in code:
        assert c.outputs == [] and c.execution_count is None, f"{name}: a cell was committed with outputs"


#: the extra each notebook needs (a light install skips it, saying so; see tests/conftest.py)
RUNS = [
    "01_feature_counts.ipynb",
    pytest.param("02_pruning.ipynb", marks=pytest.mark.cnn),
    pytest.param("03_video_to_behavior.ipynb", marks=pytest.mark.video),
]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", RUNS)
def test_notebook_runs(name, shared_dir, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    elapsed = time.perf_counter() - t0
    images = sum(
        1 for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})
    )
    assert images >= 2, f"{name} drew {images} figures"
    print(f"{name}: {elapsed:.0f} s")
