"""Doctests of modules whose examples need an extra are skipped, saying which, when it is missing.

A light install (``pip install .``, no extras) then runs ``pytest --doctest-modules skelbehave tests``
cleanly; ``tests/conftest.py`` does the same for the test modules (markers ``video`` and ``cnn``).
"""

from __future__ import annotations

import pytest

from skelbehave._util.optional import missing as _missing

#: module path (prefix) -> (extra, modules its docstring examples import)
DOCTEST_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "skelbehave/models/cnn/": ("cnn", ("torch", "torch_pruning")),
    "skelbehave/pipeline/persist.py": ("cnn", ("torch", "torch_pruning")),  # load() shows a CNN too
    "skelbehave/io/movement_": ("formats", ("movement", "sleap_io")),
    "skelbehave/pipeline/export.py": ("export", ("onnx", "onnxruntime", "skl2onnx")),
    "skelbehave/pose/live.py": ("video", ("mediapipe", "cv2")),
    "skelbehave/pose/live_sources.py": ("video", ("mediapipe", "cv2")),
    "skelbehave/pose/video.py": ("video", ("mediapipe", "cv2")),
}


# modules that import torch at the top cannot even be collected without it
collect_ignore_glob = ["skelbehave/models/cnn/*.py"] if _missing(("torch",)) else []


def pytest_collection_modifyitems(config, items):
    """Skip the doctests of :data:`DOCTEST_EXTRAS` whose extra is not installed."""
    missing = {prefix: _missing(mods) for prefix, (_, mods) in DOCTEST_EXTRAS.items()}
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        path = item.nodeid.split("::", 1)[0]
        for prefix, (extra, _) in DOCTEST_EXTRAS.items():
            if path.startswith(prefix) and missing[prefix]:
                gone = ", ".join(missing[prefix])
                reason = f'needs the {extra} extra ({gone}): pip install "skelbehave[{extra}]"'
                item.add_marker(pytest.mark.skip(reason=reason))
