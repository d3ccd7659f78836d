"""Shared fixtures: where the real data live (``../shared`` next to the repository).

Tests that use real data fail, with a message saying where the folder was
expected, when it is missing: nothing is skipped silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skelbehave._util.optional import missing as _missing

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


#: pytest marker -> (extra, modules it needs): tests marked with it are skipped, with the reason, without them
EXTRA_MARKERS = {
    "video": ("video", ("mediapipe", "cv2")),
    "cnn": ("cnn", ("torch", "torch_pruning")),
}


#: test modules that import the CNN (torch) at the top: not collected without the cnn extra (the session
#: header names them), as their imports would fail; their VLAD / frame-level cases run with the dev install
TORCH_MODULES = ("test_degenerate.py", "test_estimator_checks.py")

if _missing(("torch",)):
    collect_ignore_glob = [*collect_ignore_glob, *TORCH_MODULES]


def pytest_report_header(config):
    """Say which extras are missing, so skipped and uncollected tests are never a surprise."""
    lines = []
    for mark, (extra, mods) in EXTRA_MARKERS.items():
        gone = _missing(mods)
        if gone:
            lines.append(f"tests marked {mark!r} are skipped: no {extra} extra ({', '.join(gone)})")
    if _missing(("torch",)):
        lines.append(f"light install: not collected without torch: {', '.join(TORCH_MODULES)}")
    return lines


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``video`` / ``cnn`` when that extra is not installed (a light install)."""
    missing = {mark: _missing(mods) for mark, (_, mods) in EXTRA_MARKERS.items()}
    for item in items:
        for mark, (extra, _) in EXTRA_MARKERS.items():
            if missing[mark] and item.get_closest_marker(mark) is not None:
                reason = (
                    f"needs the {extra} extra ({', '.join(missing[mark])} not installed): "
                    f'pip install "skelbehave[{extra}]"'
                )
                item.add_marker(pytest.mark.skip(reason=reason))
