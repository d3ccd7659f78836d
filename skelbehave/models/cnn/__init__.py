"""Lightweight temporal 1-D CNN with sparsity training and physical channel pruning.

Needs the ``cnn`` extra (PyTorch and Torch-Pruning)::

    pip install 'skelbehave[cnn]'

Without them, importing this package works but asking for any of its names
raises :class:`skelbehave.errors.MissingDependencyError` saying how to install.

Examples
--------
>>> from skelbehave.models.cnn import CNNClassifier  # doctest: +SKIP
>>> clf = CNNClassifier(doconv=True, sparsity=1e-4, prune_ratio=0.5, random_state=0)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..._util.optional import require

__all__ = [
    "CNNClassifier",
    "DOConv1d",
    "StreamNet",
    "TwoStreamNet",
    "cost_table",
    "fold_doconv",
    "model_cost",
    "prune_stream",
]

INSTALL_HINT = "pip install 'skelbehave[cnn]'"

_LAZY = {
    "CNNClassifier": "estimator",
    "DOConv1d": "doconv",
    "fold_doconv": "doconv",
    "unfold_to_doconv": "doconv",
    "StreamNet": "network",
    "TwoStreamNet": "network",
    "prune_stream": "slimming",
    "model_cost": "report",
    "cost_table": "report",
}


def _require(name: str) -> ModuleType:
    """Import an optional dependency of the CNN or raise a helpful error."""
    return require(name, "cnn", "the CNN classifier")


def __getattr__(name: str):
    if name in _LAZY:
        _require("torch")
        _require("torch_pruning")
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
