"""Optional dependencies: import a module of an extra, or say which extra to install.

The core install (``pip install skelbehave``) reads pose files, fits, scores and
plots. Video (MediaPipe, OpenCV), the CNN (torch), Dask clusters, the pose
formats of other tools (movement, sleap-io) and model export (onnx) come with
extras; :func:`require` is the one place that turns a missing one into a
:class:`~skelbehave.errors.MissingDependencyError` naming the extra.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ..errors import MissingDependencyError

#: extra name -> what it brings (for messages)
EXTRAS: dict[str, str] = {
    "video": "MediaPipe and OpenCV",
    "cnn": "PyTorch and torch-pruning",
    "dask": "dask.distributed",
    "formats": "movement, sleap-io and PyTables",
    "export": "onnx, onnxruntime and skl2onnx",
}


def missing(modules: tuple[str, ...] | list[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here (found without importing them).

    Examples
    --------
    >>> missing(("json", "no_such_module_xyz"))
    ['no_such_module_xyz']
    """
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package missing, or blocked
            found = False
        if not found:
            out.append(name)
    return out


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise one clear error naming the extra that provides it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"mediapipe"``.
    extra : str
        The package extra that installs it (a key of :data:`EXTRAS`).
    feature : str
        What the caller wanted to do, for the message (e.g. ``"pose extraction"``).

    Examples
    --------
    >>> require("json", "video", "reading").__name__
    'json'
    >>> try:
    ...     require("no_such_module_xyz", "video", "pose extraction")
    ... except ImportError as exc:
    ...     print(str(exc).split("; ")[1])
    install them with: pip install "skelbehave[video]"
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; expected one of {sorted(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs {EXTRAS[extra]} (module {module!r} is not installed); "
            f'install them with: pip install "skelbehave[{extra}]"'
        ) from exc
