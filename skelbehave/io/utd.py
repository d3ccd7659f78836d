"""UTD-MHAD skeleton files (``aA_sS_tT_skeleton.mat``, variable ``d_skel`` of shape (20, 3, T)).

Kinect v1 skeleton stream (30 Hz); joints are reordered from the UTD order to
the ``kinect_v1`` layout.
"""

from __future__ import annotations

import numpy as np
from scipy.io import loadmat

from ..errors import PoseDataError
from ..poses import PoseSequence
from .filenames import ids_from_name
from .files import check_path, open_regular

__all__ = ["FPS", "read_utd_skeleton"]

FPS = 30.0
"""Kinect v1 skeleton stream rate."""

# UTD order: head, shoulder_center, spine, hip_center, then the limbs as kinect_v1.
_UTD_TO_KINECT = np.r_[3, 2, 1, 0, 4:20]


def read_utd_skeleton(path) -> PoseSequence:
    """One UTD-MHAD ``aA_sS_tT_skeleton.mat`` file, reordered to the ``kinect_v1`` layout.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/utd_mhad/a1_s1_t1_skeleton.mat"
    >>> read_utd_skeleton(f).n_joints if os.path.exists(f) else 20
    20
    """
    path = check_path(path)
    try:
        with open_regular(path) as fh:
            mat = loadmat(fh)
    except PoseDataError:
        raise
    except Exception as exc:  # scipy raises several types for corrupt files
        raise PoseDataError(f"not a readable MATLAB file: {exc}", path=path) from None
    if "d_skel" not in mat:
        raise PoseDataError(
            f"expected a variable 'd_skel', found {sorted(k for k in mat if not k.startswith('__'))}",
            path=path,
        )
    d = np.asarray(mat["d_skel"], dtype=np.float64)
    if d.ndim != 3 or d.shape[:2] != (20, 3):
        raise PoseDataError(f"'d_skel' must have shape (20, 3, frames), found {d.shape}", path=path)
    pos = d.transpose(2, 0, 1)[:, _UTD_TO_KINECT]
    a, s, t = ids_from_name(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat", path.name, path)
    seq = PoseSequence(
        pos, "kinect_v1", fps=FPS, meta={"source": str(path), "action": a, "subject": s, "trial": t}
    )
    return seq.mark_zero_frames_missing()
