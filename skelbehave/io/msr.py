"""MSR Action3D skeleton files (``aAA_sSS_eEE_skeleton3D.txt``: 20 lines ``x y z c`` per frame).

Kinect v1 skeletons (layout ``msr20``), captured at 15 frames per second
(Li, Zhang & Liu, CVPR workshops 2010, section 4).
"""

from __future__ import annotations

import numpy as np

from ..errors import PoseDataError
from ..poses import PoseSequence
from .filenames import ids_from_name
from .files import check_path, read_regular_bytes

__all__ = ["FPS", "read_msr_skeleton"]

FPS = 15.0
"""Capture rate of MSR Action3D (Li et al., 2010)."""


def read_msr_skeleton(path) -> PoseSequence:
    """One MSR Action3D ``*_skeleton3D.txt`` file (20 lines ``x y z c`` per frame).

    All-zero frames (no skeleton found) become NaN; ``c`` is the confidence.

    Examples
    --------
    >>> import os
    >>> f = "../shared/data/msr_action3d/a01_s01_e01_skeleton3D.txt"
    >>> read_msr_skeleton(f).layout.name if os.path.exists(f) else "msr20"
    'msr20'
    """
    path = check_path(path)
    text = read_regular_bytes(path).decode("ascii", errors="replace")
    try:
        vals = np.array(text.split(), dtype=np.float64)
    except ValueError:
        for k, ln in enumerate(text.splitlines(), 1):
            for c, tok in enumerate(ln.split(), 1):
                try:
                    float(tok)
                except ValueError:
                    raise PoseDataError(
                        f"expected a number, found {tok[:40]!r}", path=path, line=k, column=c
                    ) from None
        raise
    if vals.size == 0:
        raise PoseDataError("empty file; expected 20 lines 'x y z c' per frame", path=path, line=1)
    if vals.size % 80:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        bad = next((k for k, ln in enumerate(lines) if len(ln.split()) != 4), None)
        if bad is not None:
            raise PoseDataError(
                f"expected 4 numbers 'x y z c', found {len(lines[bad].split())}", path=path, line=bad + 1
            )
        raise PoseDataError(
            f"expected 20 joint lines per frame (layout msr20), found {len(lines)} lines: "
            f"{len(lines) // 20} frames and {len(lines) % 20} extra lines (truncated?)",
            path=path,
        )
    if not np.isfinite(vals).all():
        raise PoseDataError("non-finite number in the file", path=path)
    arr = vals.reshape(-1, 20, 4)
    a, s, e = ids_from_name(r"a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt", path.name, path)
    seq = PoseSequence(
        arr[:, :, :3],
        "msr20",
        fps=FPS,
        confidence=arr[:, :, 3],
        meta={"source": str(path), "action": a, "subject": s, "repetition": e, "units": "m"},
    )
    return seq.mark_zero_frames_missing()
