"""Reading and writing pose files.

One module per format; :func:`read_poses` picks the reader from the file's
content (``format="auto"``), :func:`write_poses` writes the package's own
pose CSV. Every reader returns a list of :class:`~skelbehave.PoseSequence`,
one per person / animal / body in the file.

Formats
-------
``pose_csv``
    The package's own CSV (``data_specs/pose_csv.md``): exact round trip.
``dlc``
    DeepLabCut CSV, single-animal (3 header rows) or multi-animal (4 header
    rows with ``individuals``); 2-D, confidence = likelihood.
``ntu_skeleton``
    NTU RGB+D ``.skeleton`` text files (Kinect v2, 25 joints, several bodies).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import ParameterTypeError, PoseDataError
from ..poses import PoseSequence
from .dlc import read_dlc_csv
from .files import check_path, open_regular
from .ntu import read_ntu_skeleton
from .pose_csv import FORMAT_NAME, read_pose_csv, write_pose_csv

__all__ = [
    "FORMATS",
    "read_poses",
    "write_poses",
    "detect_format",
    "read_pose_csv",
    "write_pose_csv",
    "read_dlc_csv",
    "read_ntu_skeleton",
]

FORMATS = ("pose_csv", "dlc", "ntu_skeleton")


def detect_format(path) -> str:
    """Guess a pose file's format from its first bytes (and extension).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = open(f, "w").write("scorer,DLC_resnet50,DLC_resnet50\\n")
    >>> detect_format(f)
    'dlc'
    """
    p = check_path(path)
    with open_regular(p) as fh:
        head = fh.read(4096)
    first = head.split(b"\n", 1)[0].strip().lower()
    if first.startswith(b"#") and FORMAT_NAME.encode() in first:
        return "pose_csv"
    if first.startswith(b"scorer,") or first.startswith(b"scorer;"):
        return "dlc"
    if p.suffix.lower() == ".skeleton":
        return "ntu_skeleton"
    if not head.strip():
        raise PoseDataError("empty file: cannot tell its format", path=p, line=1)
    found = first[:60].decode(errors="replace")
    raise PoseDataError(
        f"unknown pose file format: expected a first line '# {FORMAT_NAME} v1' (pose CSV), "
        f"'scorer,...' (DeepLabCut CSV) or a .skeleton file (NTU RGB+D); found {found!r}",
        path=p,
        line=1,
    )


def read_poses(path, format: str = "auto", **kw) -> list[PoseSequence]:
    """Read a pose file into one :class:`PoseSequence` per person or animal.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : {"auto", "pose_csv", "dlc", "ntu_skeleton"}
        ``"auto"`` looks at the first line (and the ``.skeleton`` extension).
    **kw
        Passed to the reader, e.g. ``fps=30`` (DeepLabCut files store no
        frame rate; without it ``fps`` is None), ``layout=`` for DeepLabCut.

    Returns
    -------
    list of PoseSequence

    Raises
    ------
    PoseDataError
        Bad content, naming file, line and column;
        :class:`~skelbehave.errors.PoseFileNotFoundError` when the file is missing.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.zeros((4, 33, 3)), "mediapipe33", fps=30)
    >>> f = write_poses(os.path.join(tempfile.mkdtemp(), "a.csv"), seq)
    >>> read_poses(f)[0].n_frames
    4
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError(f"path must be a file name (str or path-like), got {type(path).__name__}")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "pose_csv":
        return read_pose_csv(path, **kw)
    if fmt == "dlc":
        return read_dlc_csv(path, **kw)
    if fmt == "ntu_skeleton":
        return read_ntu_skeleton(path, **kw)
    raise PoseDataError(f"unknown format {format!r}; known formats: auto, {', '.join(FORMATS)}", path=path)


def write_poses(
    path, sequences: PoseSequence | Iterable[PoseSequence], format: str = "pose_csv", **kw
) -> Path:
    """Write pose sequences; only the package's own ``pose_csv`` is written.

    See :func:`~skelbehave.io.pose_csv.write_pose_csv` for the options.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.zeros((2, 20, 3)), "msr20", fps=15)
    >>> write_poses(os.path.join(tempfile.mkdtemp(), "a.csv"), seq).name
    'a.csv'
    """
    if format != "pose_csv":
        raise PoseDataError(
            f"cannot write format {format!r}: only 'pose_csv' is written (read the others, "
            "then write them as pose CSV)",
            path=os.fspath(path),
        )
    return write_pose_csv(path, sequences, **kw)
