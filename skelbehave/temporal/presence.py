"""Frames with a pose and sequences without one: the package's one definition of "absent".

A frame holds a pose when at least one joint has every coordinate finite and
not every finite coordinate is exactly 0 (Kinect and several exporters write
all-zero joints when they tracked nobody). A sequence with no such frame (all
NaN, all zero, or no frame at all) has no pose: models never give it a
behaviour. Predictions mark it with :data:`NO_POSE` (labels) or NaN
(probabilities); frame-level predictions mark the frames where nobody is
present the same way, and bouts, time budgets and metrics leave them out.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ABSENT", "NO_POSE", "has_pose", "present_frames", "stretches"]

#: label of a sequence, segment or frame without a pose (never a behaviour)
NO_POSE = "no_pose"

#: class index of a frame without a pose in arrays of class indices
ABSENT = -1


def present_frames(sequence) -> np.ndarray:
    """Boolean ``(T,)``: True where the frame holds a pose (see the module docstring).

    Parameters
    ----------
    sequence : PoseSequence or array (T, J, C)

    Examples
    --------
    >>> p = np.ones((4, 3, 2)); p[1] = np.nan; p[2] = 0.0
    >>> present_frames(p).tolist()
    [True, False, False, True]
    """
    pos = np.asarray(getattr(sequence, "position", sequence), dtype=np.float64)
    if pos.ndim != 3 or len(pos) == 0:
        return np.zeros(len(pos) if pos.ndim else 0, dtype=bool)
    finite = np.isfinite(pos)
    joint_ok = finite.all(axis=2).any(axis=1)
    nonzero = (np.where(finite, pos, 0.0) != 0.0).any(axis=(1, 2))
    return joint_ok & nonzero


def has_pose(sequence) -> bool:
    """Whether any frame of ``sequence`` holds a pose.

    Examples
    --------
    >>> has_pose(np.zeros((10, 20, 3))), has_pose(np.zeros((0, 20, 3))), has_pose(np.ones((1, 20, 3)))
    (False, False, True)
    """
    return bool(present_frames(sequence).any())


def stretches(present: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of every run of True in ``present``.

    Examples
    --------
    >>> stretches(np.array([True, True, False, True]))
    [(0, 2), (3, 4)]
    """
    p = np.r_[False, np.asarray(present, dtype=bool), False].astype(np.int8)
    d = np.diff(p)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))
