"""Joint features: per-group relative position, displacement and acceleration descriptors.

Velocity, acceleration, root, body scale and heading are defined once, in
:mod:`skelbehave.features.kinematics`.

:class:`JointFeatures` (a scikit-learn transformer) turns pose sequences into
:class:`~skelbehave.features.descriptors.LocalDescriptors`; the low-level
functions of :mod:`skelbehave.features.ragged` expose the same numba kernels
(and, with ``backend="numpy"``, their NumPy references) on concatenated
``(N, J, C)`` arrays plus offsets.
"""

from . import kinematics
from ._compat import upgrade_v1_components
from .descriptors import BlockInfo, LocalDescriptors
from .joint import JointFeatures, joint_groups
from .ragged import (
    keyframe_indices,
    normalization_params,
    normalize,
    relative_displacement,
    relative_position,
)

__all__ = [
    "BlockInfo",
    "JointFeatures",
    "LocalDescriptors",
    "joint_groups",
    "keyframe_indices",
    "normalization_params",
    "normalize",
    "relative_displacement",
    "relative_position",
    "kinematics",
    "upgrade_v1_components",
]
