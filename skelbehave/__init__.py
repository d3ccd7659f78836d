"""skelbehave: skeleton-based behaviour analytics.

Pose files or videos in, behaviour labels out: per clip, or frame by frame
along long recordings. ``skelbehave.load(path)`` reads any saved model file
(clip-level :class:`BehaviorModel`, frame-level :class:`FrameLevelModel`, or
a CNN saved on its own), including files of the first release; see
:func:`skelbehave.pipeline.persist.load`.

Examples
--------
>>> import skelbehave
>>> skelbehave.get_layout("msr20").n_joints
20
>>> skelbehave.FrameLevelModel().window
31
"""

from __future__ import annotations

from importlib import import_module

from ._version import __version__
from .errors import SkelbehaveError
from .layouts import get_layout
from .poses import PoseSequence

__all__ = [
    "BehaviorModel",
    "FrameLevelModel",
    "PoseSequence",
    "SkelbehaveError",
    "__version__",
    "fit",
    "get_layout",
    "read_poses",
    "load",
]

# The modelling stack (numba, scikit-learn) loads on first use, keeping
# ``import skelbehave`` fast for readers and the CLI.
_LAZY = {
    "fit": "pipeline",
    "load": "pipeline",
    "BehaviorModel": "pipeline",
    "FrameLevelModel": "pipeline",
    "read_poses": "io",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'skelbehave' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
