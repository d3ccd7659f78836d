"""Joint features: per-group relative position and displacement descriptors.

:class:`JointFeatures` (a scikit-learn transformer) turns pose sequences into
:class:`~skelbehave.features.descriptors.LocalDescriptors`; the low-level
functions expose the same numba kernels (and, with ``backend="numpy"``, their
NumPy references) on concatenated ``(N, J, C)`` arrays plus offsets.
"""

from .descriptors import LocalDescriptors
from .joint import (
    JointFeatures,
    joint_groups,
    keyframe_indices,
    normalization_params,
    normalize,
    relative_displacement,
    relative_position,
)

__all__ = [
    "JointFeatures",
    "LocalDescriptors",
    "joint_groups",
    "keyframe_indices",
    "normalization_params",
    "normalize",
    "relative_displacement",
    "relative_position",
]
