"""Pose files of other tools through `movement <https://movement.neuroinformatics.dev>`_ and sleap-io.

``movement`` (neuroinformatics-unit) holds pose tracks as an
:class:`xarray.Dataset` with dimensions ``time``, ``space``, ``keypoints``,
``individuals`` and the variables ``position`` and ``confidence``; its loaders
and savers read and write DeepLabCut (``.h5``/``.csv``), SLEAP (analysis
``.h5``; ``.slp`` through sleap-io), LightningPose (``.csv``), Anipose
(``.csv``, read only) and NWB files with ndx-pose. This module converts both
ways between such a dataset and :class:`~skelbehave.PoseSequence` (one per
individual) and reads and writes those files through the libraries.

The libraries come with the ``formats`` extra (``pip install
"skelbehave[formats]"``); they are imported only when a function here is
called, so ``import skelbehave.io`` stays light.

What each format keeps
----------------------
=================  =======  ==========  ==============================================
format             fps      confidence  notes
=================  =======  ==========  ==============================================
``dlc`` (.h5/.csv) no       likelihood  several individuals in one file
``sleap`` (.h5)    no       point score movement's loader reads positions as float32
``sleap`` (.slp)   no       point score written with sleap-io (predicted instances)
``lightning_pose`` no       likelihood  one individual per file
``anipose``        no       score       3-D; read only; keypoints in sorted order
``nwb``            yes      confidence  one individual per file (NWB has one subject)
=================  =======  ==========  ==============================================

Files of formats that hold one individual are written one per individual as
``<stem>_<individual><suffix>`` (movement's convention) when there are several.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .._util.fs import atomic_path
from .._util.optional import require
from ..errors import ParameterError, ParameterTypeError, PoseDataError
from ..layouts import JointLayout
from ..poses import PoseSequence
from .files import check_path
from .movement_convert import (
    MOVEMENT_FORMATS,
    PIXEL_FORMATS,
    check_sequences,
    from_movement,
    quiet_movement,
    require_movement,
    to_movement,
)

__all__ = [
    "MOVEMENT_FORMATS",
    "hdf5_kind",
    "from_movement",
    "to_movement",
    "read_movement",
    "write_movement",
]

_SOFTWARE_TO_FORMAT = {v.lower(): k for k, v in MOVEMENT_FORMATS.items()}
#: suffixes each format reads / writes
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "dlc": (".h5", ".csv"),
    "sleap": (".h5", ".slp"),
    "lightning_pose": (".csv",),
    "anipose": (".csv",),
    "nwb": (".nwb",),
}


def hdf5_kind(path) -> str:
    """Which tool wrote an HDF5 pose file: ``"dlc"``, ``"sleap"``, ``"nwb"`` or ``"movement"``.

    Told from the content:

    a pandas frame (DeepLabCut's ``df_with_missing``) is DeepLabCut; datasets
    ``tracks`` and ``node_names`` (an analysis file) or SLEAP's labels layout
    (``metadata``, ``frames``, ``instances``; a ``.slp``) are SLEAP; a root
    with ``nwb_version`` is NWB; a netCDF-4 file with a ``position`` variable
    is a movement dataset (``.nc``).

    Raises
    ------
    PoseDataError
        A damaged or truncated HDF5 file, or one of none of these kinds,
        listing its top-level keys.
    MissingDependencyError
        h5py is not installed (the ``formats`` extra).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.ones((3, 2, 2)), JointLayout.from_names(["nose", "tail"]))
    >>> hdf5_kind(write_movement(os.path.join(tempfile.mkdtemp(), "v.h5"), seq, "dlc")[0])
    'dlc'
    """
    h5py = require("h5py", "formats", "telling HDF5 pose files apart (DeepLabCut, SLEAP, NWB, movement)")
    p = check_path(path)
    try:
        with h5py.File(p, "r") as f:
            if "nwb_version" in f.attrs:
                return "nwb"
            keys = set(f.keys())
            if "position" in keys and "_NCProperties" in f.attrs:
                return "movement"
            if {"tracks", "node_names"} <= keys:
                return "sleap"
            if "metadata" in keys and {"frames", "instances"} <= keys:
                return "sleap"
            for k in sorted(keys):
                obj = f.get(k)
                if isinstance(obj, h5py.Group) and ("pandas_type" in obj.attrs or k == "df_with_missing"):
                    return "dlc"
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PoseDataError(f"damaged or truncated HDF5 file: {msg}", path=p) from None
    raise PoseDataError(
        "an HDF5 file that is no pose file: expected DeepLabCut (a pandas 'df_with_missing'), SLEAP "
        "(analysis 'tracks'/'node_names', or .slp labels), NWB or a movement netCDF dataset "
        "('position'); found top-level keys "
        f"{sorted(keys)[:10]}",
        path=p,
    )


def _format_name(format: str) -> str:
    """A skelbehave format name from a format or a movement ``source_software`` name."""
    if not isinstance(format, str):
        raise ParameterTypeError(f"format must be a string, got {type(format).__name__}")
    key = format if format in MOVEMENT_FORMATS else _SOFTWARE_TO_FORMAT.get(format.lower())
    if key is None:
        known = ", ".join(f"{k} ({v})" for k, v in MOVEMENT_FORMATS.items())
        raise ParameterError(f"unknown movement format {format!r}; expected one of {known}")
    return key


_READ_ERRORS = (ValueError, KeyError, OSError, TypeError, AttributeError, IndexError, RuntimeError)


def _load(fmt: str, path: Path, fps):
    """movement's loader for ``fmt`` (sleap-io for what it reads); library errors become PoseDataError."""
    require_movement(f"reading {MOVEMENT_FORMATS[fmt]} files")
    if fmt in ("dlc",) and path.suffix.lower() == ".h5":
        require("tables", "formats", "reading DeepLabCut .h5 files")
    from movement.io import load_poses

    loaders = {
        "dlc": lambda: load_poses.from_dlc_file(path, fps=fps),
        "sleap": lambda: load_poses.from_sleap_file(path, fps=fps),
        "lightning_pose": lambda: load_poses.from_lp_file(path, fps=fps),
        "anipose": lambda: load_poses.from_anipose_file(path, fps=fps),
        "nwb": lambda: load_poses.from_nwb_file(path),
    }
    try:
        with quiet_movement():
            return loaders[fmt]()
    except _READ_ERRORS as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if fmt == "nwb" and isinstance(exc, KeyError):
            msg = f"no pose estimation (ndx-pose 'PoseEstimation' in the 'behavior' module): {msg}"
        raise PoseDataError(f"cannot read as a {MOVEMENT_FORMATS[fmt]} file: {msg}", path=path) from None


def _nwb_skeleton_order(ds, path: Path):
    """Put the keypoints in the order of the file's ndx-pose skeleton (movement's loader sorts them)."""
    pynwb = require("pynwb", "formats", "reading NWB files")
    try:
        with pynwb.NWBHDF5IO(os.fspath(path), mode="r") as io:
            pose = io.read().processing["behavior"]["PoseEstimation"]
            skeleton = getattr(pose, "skeleton", None)
            nodes = [str(n) for n in skeleton.nodes[:]] if skeleton is not None else []
    except _READ_ERRORS:
        return ds
    have = [str(k) for k in ds["keypoints"].values]
    if sorted(nodes) != sorted(have) or nodes == have:
        return ds
    return ds.sel(keypoints=nodes)


def read_movement(
    path,
    source_software: str,
    *,
    fps: float | None = None,
    layout: str | JointLayout | None = None,
    layout_name: str | None = None,
) -> list[PoseSequence]:
    """Read a pose file through movement's loader: one :class:`PoseSequence` per individual.

    Parameters
    ----------
    path : str or path-like
        The file: DeepLabCut ``.h5``/``.csv``, SLEAP ``.slp`` or analysis
        ``.h5``, LightningPose ``.csv``, Anipose ``.csv`` or NWB ``.nwb``.
    source_software : str
        ``"dlc"``, ``"sleap"``, ``"lightning_pose"``, ``"anipose"``, ``"nwb"``
        or movement's names (``"DeepLabCut"``, ``"SLEAP"``, ...).
    fps : float, optional
        Frames per second (only NWB files record it; a value that differs
        from the file's raises).
    layout : str or JointLayout, optional
        See :func:`from_movement`.
    layout_name : str, optional
        Name of a layout built from the keypoint names (default: the format
        name, ``"dlc"`` for DeepLabCut, as :func:`~skelbehave.io.read_dlc_csv`).

    Returns
    -------
    list of PoseSequence

    Raises
    ------
    PoseDataError
        A file the library cannot read, naming the file.
    MissingDependencyError
        The ``formats`` extra is not installed.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.arange(12.0).reshape(2, 3, 2), JointLayout.from_names(["a", "b", "c"]),
    ...                    confidence=np.full((2, 3), 0.5), meta={"person": "rat"})
    >>> f = write_movement(os.path.join(tempfile.mkdtemp(), "rat.analysis.h5"), seq, "sleap")[0]
    >>> back = read_movement(f, "sleap")[0]
    >>> back.layout.joints, back.meta["person"], float(back.position[1, 2, 1])
    (('a', 'b', 'c'), 'rat', 11.0)
    """
    fmt = _format_name(source_software)
    p = check_path(path)
    if p.suffix.lower() not in _SUFFIXES[fmt]:
        raise PoseDataError(
            f"a {MOVEMENT_FORMATS[fmt]} file must end with {' or '.join(_SUFFIXES[fmt])}, got {p.name!r}",
            path=p,
        )
    if fmt == "nwb":
        require_movement("reading NWB files")
        fps_arg = None
    else:
        fps_arg = fps
    ds = _load(fmt, p, fps_arg)
    if fmt == "nwb":
        ds = _nwb_skeleton_order(ds, p)
    seqs = from_movement(ds, fps=fps, layout=layout, layout_name=layout_name or fmt, source=p)
    if fmt in PIXEL_FORMATS:
        for s in seqs:
            s.meta["units"] = "px"
    return seqs


@contextlib.contextmanager
def _new_file(path: Path) -> Iterator[Path]:
    """A temporary name next to ``path`` that does not exist yet (movement's savers refuse to overwrite).

    Renamed onto ``path`` on success (see :func:`~skelbehave._util.fs.atomic_path`).
    """
    with atomic_path(path) as tmp:
        tmp.unlink(missing_ok=True)
        yield tmp


def _split_name(path: Path, who: str) -> Path:
    return path.with_name(f"{path.stem}_{who}{path.suffix}")


def _write_dlc_df(df, tmp: Path) -> None:
    """Save a DeepLabCut-style DataFrame as DeepLabCut does (what movement's ``to_dlc_file`` does)."""
    if tmp.suffix.lower() == ".csv":
        df.to_csv(tmp, sep=",")
    else:
        df.to_hdf(tmp, key="df_with_missing")


def _write_slp(ds, tmp: Path, video: str) -> None:
    """A SLEAP labels file of predicted instances, through sleap-io."""
    sio = require("sleap_io", "formats", "writing SLEAP .slp files")
    pos = np.asarray(
        ds["position"].transpose("time", "individuals", "keypoints", "space").values, dtype=float
    )
    conf = np.asarray(ds["confidence"].transpose("time", "individuals", "keypoints").values, dtype=float)
    arr = np.concatenate([pos, conf[..., None]], axis=-1)
    skeleton = sio.Skeleton([str(k) for k in ds["keypoints"].values])
    tracks = [sio.Track(name=str(n)) for n in ds["individuals"].values]
    labels = sio.Labels.from_numpy(
        arr, videos=[sio.Video(filename=video)], skeletons=[skeleton], tracks=tracks, return_confidence=True
    )
    sio.save_slp(labels, os.fspath(tmp), verbose=False)


def write_movement(
    path, sequences: PoseSequence | Iterable[PoseSequence], format: str, *, video: str | None = None
) -> list[Path]:
    """Write pose sequences of one recording through movement's savers (sleap-io for ``.slp``).

    Parameters
    ----------
    path : str or path-like
        The file; its suffix chooses the file type where a format has two
        (DeepLabCut ``.h5`` or ``.csv``, SLEAP analysis ``.h5`` or ``.slp``).
    sequences : PoseSequence or list of PoseSequence
        One per individual (see :func:`to_movement`).
    format : {"dlc", "sleap", "lightning_pose", "nwb"}
        Or movement's names (``"DeepLabCut"``, ...). Anipose files are read
        only (movement has no Anipose saver).
    video : str, optional
        The video file a ``.slp`` refers to (default ``<stem>.mp4``).

    Returns
    -------
    list of Path
        The files written: ``path`` itself, or for LightningPose and NWB with
        several individuals one ``<stem>_<individual><suffix>`` per
        individual. Each is written to a temporary name and renamed.

    Raises
    ------
    PoseDataError
        A suffix the format does not use, sequences that do not form one
        recording, NWB without ``fps`` (NWB stores time in seconds).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.ones((3, 2, 2)), JointLayout.from_names(["nose", "tail"]), fps=30)
    >>> [p.name for p in write_movement(os.path.join(tempfile.mkdtemp(), "v.csv"), seq, "dlc")]
    ['v.csv']
    """
    fmt = _format_name(format)
    if fmt == "anipose":
        raise ParameterError("Anipose files are read only: movement has no Anipose saver")
    seqs = check_sequences(sequences)
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES[fmt]:
        raise PoseDataError(
            f"a {MOVEMENT_FORMATS[fmt]} file must end with {' or '.join(_SUFFIXES[fmt])}, got {path.name!r}",
            path=path,
        )
    if path.is_dir():
        raise PoseDataError("is a folder; expected a file name to write", path=path)
    if fmt == "nwb" and seqs[0].fps is None:
        raise PoseDataError(
            "NWB stores time in seconds: the sequences need fps (pass fps=... when reading)", path=path
        )
    if fmt == "dlc" and suffix == ".h5":
        require("tables", "formats", "writing DeepLabCut .h5 files")
    require_movement(f"writing {MOVEMENT_FORMATS[fmt]} files")
    with quiet_movement():
        return _write(path, seqs, fmt, suffix, video)


def _write(path: Path, seqs: list[PoseSequence], fmt: str, suffix: str, video: str | None) -> list[Path]:
    """:func:`write_movement` once the arguments are checked."""
    from movement.io import save_poses

    ds = to_movement(seqs, source_software=MOVEMENT_FORMATS[fmt])
    who = [str(n) for n in ds["individuals"].values]
    written: list[Path] = []
    if fmt == "dlc" and len(who) > 1:
        with _new_file(path) as tmp:
            save_poses.to_dlc_file(ds, tmp, split_individuals=False)
        written.append(path)
    elif fmt in ("dlc", "lightning_pose"):  # single-animal DeepLabCut layout (3 header rows)
        dfs = save_poses.to_dlc_style_df(ds, split_individuals=True)
        for name, df in dfs.items():
            out = path if len(who) == 1 else _split_name(path, name)
            with _new_file(out) as tmp:
                _write_dlc_df(df, tmp)
            written.append(out)
    elif fmt == "sleap" and suffix == ".h5":
        with _new_file(path) as tmp:
            save_poses.to_sleap_analysis_file(ds, tmp)
        written.append(path)
    elif fmt == "sleap":
        with _new_file(path) as tmp:
            _write_slp(ds, tmp, video or path.with_suffix(".mp4").name)
        written.append(path)
    else:  # nwb
        pynwb = require("pynwb", "formats", "writing NWB files")
        from movement.io.nwb import NWBFileSaveConfig

        started = seqs[0].meta.get("session_start_time") or datetime.now(UTC)
        config = NWBFileSaveConfig(nwbfile_kwargs={"session_start_time": started})
        files = save_poses.to_nwb_file(ds, config)
        files = files if isinstance(files, list) else [files]
        for name, nwbfile in zip(who, files, strict=True):
            out = path if len(who) == 1 else _split_name(path, name)
            with _new_file(out) as tmp:
                with pynwb.NWBHDF5IO(os.fspath(tmp), mode="w") as io:
                    io.write(nwbfile)
            written.append(out)
    return written
