"""Reading and writing pose files.

One module per format; :func:`read_poses` picks the reader from the file's
content (``format="auto"``, see :func:`detect_format`), :func:`write_poses`
writes the package's own pose CSV or, through the libraries made for them,
the formats of other tools. Every reader returns a list of
:class:`~skelbehave.PoseSequence`, one per person / animal / body in the file.

Formats
-------
``pose_csv``
    The package's own CSV (``data_specs/pose_csv.md``): exact round trip.
``dlc``
    DeepLabCut CSV, single-animal (3 header rows) or multi-animal (4 header
    rows with ``individuals``); 2-D, confidence = likelihood. DeepLabCut
    ``.h5`` (pandas HDF5) is read and written through movement.
``ntu_skeleton``
    NTU RGB+D ``.skeleton`` text files (Kinect v2, 25 joints, several bodies).
``sleap``
    SLEAP analysis ``.h5`` (through movement) and ``.slp`` labels (read
    through movement, written with sleap-io).
``nwb``
    NWB files with ndx-pose pose estimation (through movement; one
    individual per file).
``lightning_pose``
    LightningPose CSV (DeepLabCut's single-animal layout; ``auto`` reads it
    as ``dlc``).
``anipose``
    Anipose 3-D triangulation CSV (read only, through movement).
``movement``
    A movement poses dataset saved as netCDF (``.nc``, ``ds.to_netcdf``).
``coco``
    COCO-style keypoint JSON: per-frame detections or a COCO annotation
    file, with track ids (:mod:`skelbehave.io.coco`, no extra needed).

The formats of other tools (all but ``pose_csv``, ``dlc`` CSV,
``ntu_skeleton`` and ``coco``) need the ``formats`` extra (``pip install
"skelbehave[formats]"``: movement, sleap-io, PyTables); movement and
sleap-io are imported only when such a file is read or written.
:func:`from_movement` and :func:`to_movement` convert between a movement
dataset and pose sequences.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import ParameterTypeError, PoseDataError
from ..poses import PoseSequence
from .annotations import read_annotations, write_boris_events
from .coco import looks_like_coco, read_coco, write_coco
from .dlc import read_dlc_csv
from .files import check_path, open_regular
from .movement_io import (
    MOVEMENT_FORMATS,
    from_movement,
    hdf5_kind,
    read_movement,
    to_movement,
    write_movement,
)
from .movement_netcdf import read_movement_netcdf, write_movement_netcdf
from .ntu import read_ntu_skeleton
from .pose_csv import FORMAT_NAME, read_pose_csv, write_pose_csv

__all__ = [
    "FORMATS",
    "WRITE_FORMATS",
    "read_poses",
    "write_poses",
    "detect_format",
    "read_pose_csv",
    "write_pose_csv",
    "read_dlc_csv",
    "read_ntu_skeleton",
    "read_coco",
    "write_coco",
    "from_movement",
    "to_movement",
    "read_movement",
    "write_movement",
    "read_annotations",
    "write_boris_events",
]

#: every format :func:`read_poses` reads (``format=`` names)
FORMATS = ("pose_csv", "dlc", "ntu_skeleton", "sleap", "nwb", "lightning_pose", "anipose", "movement", "coco")
#: the formats :func:`write_poses` writes
WRITE_FORMATS = ("pose_csv", "dlc", "sleap", "nwb", "lightning_pose", "movement", "coco")

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Anipose CSV: a header of ``<keypoint>_x`` ... columns and the camera/frame columns
_ANIPOSE_COLUMNS = (b"fnum", b"M_00")


def _is_hdf5(head: bytes) -> bool:
    """HDF5's signature at offset 0 or at a user-block offset (512, 1024, 2048)."""
    return any(head[o : o + 8] == _HDF5_SIGNATURE for o in (0, 512, 1024, 2048))


def detect_format(path) -> str:
    """Tell a pose file's format from its content (and extension).

    Text files by their first line (pose CSV ``# skelbehave-pose``,
    DeepLabCut ``scorer,...``, Anipose ``..._x,...,fnum,...``), HDF5 files
    (``.h5``, ``.slp``, ``.nwb``) by what they hold (a pandas frame:
    DeepLabCut; ``tracks``/``node_names`` or SLEAP labels: SLEAP; an NWB
    root: NWB; a netCDF ``position`` variable: movement), JSON by a
    ``"keypoints"`` field (COCO-style), NTU by the ``.skeleton`` extension.
    LightningPose CSVs look like DeepLabCut's and are read as ``dlc``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    PoseDataError
        A file of no known pose format (the message lists what was
        expected), a damaged HDF5 file.
    MissingDependencyError
        An HDF5 file without h5py installed (the ``formats`` extra).

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
    if _is_hdf5(head):
        return hdf5_kind(p)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") and looks_like_coco(p):
        return "coco"
    cols = head.split(b"\n", 1)[0].strip().split(b",")
    if all(c in cols for c in _ANIPOSE_COLUMNS) and any(c.endswith(b"_x") for c in cols):
        return "anipose"
    if not head.strip():
        raise PoseDataError("empty file: cannot tell its format", path=p, line=1)
    found = re.sub(rb"[^\x20-\x7e]", b".", head.split(b"\n", 1)[0][:60]).decode()
    raise PoseDataError(
        f"unknown pose file format: expected a first line '# {FORMAT_NAME} v1' (pose CSV), "
        "'scorer,...' (DeepLabCut / LightningPose CSV) or Anipose columns, an HDF5 file "
        "(DeepLabCut .h5, SLEAP .slp / analysis .h5, NWB, movement .nc), COCO-style JSON with 'keypoints', "
        f"or a .skeleton file (NTU RGB+D); found {found!r}",
        path=p,
        line=1,
    )


def read_poses(path, format: str = "auto", **kw) -> list[PoseSequence]:
    """Read a pose file into one :class:`PoseSequence` per person or animal.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : str
        ``"auto"`` or one of :data:`FORMATS` (``pose_csv``, ``dlc``,
        ``ntu_skeleton``, ``sleap``, ``nwb``, ``lightning_pose``, ``anipose``,
        ``movement``, ``coco``). ``"auto"`` tells the format from the content (:func:`detect_format`).
    **kw
        Passed to the reader, e.g. ``fps=30`` (only pose CSV, NWB and COCO
        files written by :func:`write_poses` record the frame rate; without
        it ``fps`` is None elsewhere), ``layout=``.

    Returns
    -------
    list of PoseSequence

    Raises
    ------
    PoseDataError
        Bad content, naming file, line and column;
        :class:`~skelbehave.errors.PoseFileNotFoundError` when the file is missing.
    MissingDependencyError
        A format of another tool without the ``formats`` extra installed.

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
        if _is_hdf5(_head(path)):
            return read_movement(path, "dlc", **kw)
        return read_dlc_csv(path, **kw)
    if fmt == "ntu_skeleton":
        return read_ntu_skeleton(path, **kw)
    if fmt == "coco":
        return read_coco(path, **kw)
    if fmt == "movement":
        return read_movement_netcdf(path, **kw)
    if fmt in MOVEMENT_FORMATS:
        return read_movement(path, fmt, **kw)
    raise PoseDataError(f"unknown format {format!r}; known formats: auto, {', '.join(FORMATS)}", path=path)


def _head(path) -> bytes:
    with open_regular(check_path(path)) as fh:
        return fh.read(4096)


def write_poses(
    path, sequences: PoseSequence | Iterable[PoseSequence], format: str = "pose_csv", **kw
) -> Path | list[Path]:
    """Write pose sequences: the package's pose CSV, or another tool's format.

    Parameters
    ----------
    path : str or path-like
        The file. For ``dlc`` its suffix chooses ``.h5`` or ``.csv``, for
        ``sleap`` ``.h5`` (analysis) or ``.slp``.
    sequences : PoseSequence or list of PoseSequence
    format : {"pose_csv", "dlc", "sleap", "nwb", "lightning_pose", "movement", "coco"}
        ``pose_csv``: :func:`~skelbehave.io.pose_csv.write_pose_csv`;
        ``coco``: :func:`~skelbehave.io.coco.write_coco`; ``movement``: netCDF
        (:func:`~skelbehave.io.movement_netcdf.write_movement_netcdf`); the others through
        movement (:func:`~skelbehave.io.movement_io.write_movement`, the
        ``formats`` extra).
    **kw
        Passed to the writer.

    Returns
    -------
    Path or list of Path
        The file written; a list when a one-individual format (NWB,
        LightningPose) is written one file per individual.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.zeros((2, 20, 3)), "msr20", fps=15)
    >>> write_poses(os.path.join(tempfile.mkdtemp(), "a.csv"), seq).name
    'a.csv'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError(f"path must be a file name (str or path-like), got {type(path).__name__}")
    if format == "pose_csv":
        return write_pose_csv(path, sequences, **kw)
    if format == "coco":
        return write_coco(path, sequences, **kw)
    if format == "movement":
        return write_movement_netcdf(path, sequences, **kw)
    if format in MOVEMENT_FORMATS and format in WRITE_FORMATS:
        written = write_movement(path, sequences, format, **kw)
        return written[0] if len(written) == 1 else written
    raise PoseDataError(
        f"cannot write format {format!r}: the written formats are {', '.join(WRITE_FORMATS)}",
        path=os.fspath(path),
    )
