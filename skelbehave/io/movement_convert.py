"""Conversion between movement's poses dataset and :class:`~skelbehave.PoseSequence`.

movement (neuroinformatics-unit) holds pose tracks as an :class:`xarray.Dataset`
with dimensions ``time``, ``space``, ``keypoints``, ``individuals`` and the
variables ``position`` and ``confidence``. :func:`from_movement` turns one into
one sequence per individual, :func:`to_movement` back. Files are read and
written in :mod:`skelbehave.io.movement_io`. xarray and movement come with the
``formats`` extra and are imported only when a function here is called.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._util.optional import require
from ..errors import LayoutError, ParameterError, ParameterTypeError, PoseDataError
from ..layouts import JointLayout, get_layout, list_layouts
from ..poses import PoseSequence

__all__ = [
    "MOVEMENT_FORMATS",
    "PIXEL_FORMATS",
    "from_movement",
    "to_movement",
    "check_sequences",
    "require_movement",
    "quiet_movement",
]

#: skelbehave format name -> movement's ``source_software``
MOVEMENT_FORMATS: dict[str, str] = {
    "dlc": "DeepLabCut",
    "sleap": "SLEAP",
    "lightning_pose": "LightningPose",
    "anipose": "Anipose",
    "nwb": "NWB",
}
_SOFTWARE_TO_FORMAT = {v.lower(): k for k, v in MOVEMENT_FORMATS.items()}
#: formats whose coordinates are image pixels
PIXEL_FORMATS = ("dlc", "sleap", "lightning_pose")
#: the longest frame range a dataset's time coordinate may span (frames)
MAX_FRAMES = 50_000_000


def require_movement(feature: str):
    """Import movement (and with it xarray), naming the ``formats`` extra when missing.

    movement sends every warning of the process to its own log when it is
    first imported (``warnings.showwarning``); the previous handler is put
    back, so the package's warnings keep their usual form.
    """
    first = "movement" not in sys.modules
    shown = warnings.showwarning
    module = require("movement", "formats", feature)
    if first:
        warnings.showwarning = shown
    return module


@contextlib.contextmanager
def quiet_movement() -> Iterator[None]:
    """Silence movement's log (loguru) inside the block.

    movement logs each error it raises to stderr before raising it; the
    package raises one :class:`~skelbehave.errors.PoseDataError` instead, so
    the command line prints one line.
    """
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - movement depends on loguru
        yield
        return
    logger.disable("movement")
    try:
        yield
    finally:
        logger.enable("movement")


def _dim(da, names: Sequence[str], what: str, source, *, optional: bool = False) -> str | None:
    """The first of ``names`` that is a dimension of ``da``."""
    for n in names:
        if n in da.dims:
            return n
    if optional:
        return None
    raise PoseDataError(
        f"movement dataset: 'position' has dimensions {list(da.dims)}, expected a {what} dimension "
        f"({' or '.join(repr(n) for n in names)})",
        path=source,
    )


def _layout_for(names: list[str], layout, layout_name: str, source) -> JointLayout:
    """The given layout (checked against ``names``), a built-in one with these joints, or a new one."""
    if layout is not None:
        lay = get_layout(layout)
        if list(lay.joints) != names:
            raise PoseDataError(
                f"layout {lay.name!r} expects joints {list(lay.joints)}, the file has keypoints {names}",
                path=source,
            )
        return lay
    for name in list_layouts():
        lay = get_layout(name)
        if list(lay.joints) == names:
            return lay
    try:
        return JointLayout.from_names(names, name=layout_name)
    except LayoutError as exc:
        raise PoseDataError(f"keypoint names: {exc}", path=source) from None


def _frame_numbers(times: np.ndarray, fps: float | None, in_seconds: bool, source) -> np.ndarray:
    """Integer frame numbers of the time coordinate (seconds * fps, or frames)."""
    if times.size == 0:
        return times.astype(np.int64)
    t = np.asarray(times, dtype=np.float64)
    if not np.isfinite(t).all():
        raise PoseDataError("movement dataset: the time coordinate holds NaN or infinite values", path=source)
    f = t * fps if (in_seconds and fps is not None) else t
    frames = np.rint(f)
    off = np.abs(f - frames)
    if (off > 1e-3).any():
        k = int(np.argmax(off))
        unit = f"seconds at {fps} fps" if in_seconds and fps else "frames"
        raise PoseDataError(
            f"movement dataset: time {t[k]!r} ({unit}) is not a whole frame; pass fps=... matching the data",
            path=source,
        )
    frames = frames.astype(np.int64)
    if (np.diff(frames) <= 0).any():
        raise PoseDataError("movement dataset: the time coordinate must increase", path=source)
    if frames[-1] - frames[0] + 1 > MAX_FRAMES:
        raise PoseDataError(
            f"movement dataset: the time coordinate spans {frames[-1] - frames[0] + 1} frames, "
            f"more than {MAX_FRAMES}",
            path=source,
        )
    return frames


def _dataset_fps(ds, fps, source) -> tuple[float | None, bool]:
    """The frame rate (given, or the dataset's) and whether the time coordinate is in seconds."""
    attrs = ds.attrs
    ds_fps = attrs.get("fps")
    ds_fps = None if ds_fps is None or (isinstance(ds_fps, float) and math.isnan(ds_fps)) else float(ds_fps)
    in_seconds = attrs.get("time_unit") == "seconds" or ds_fps is not None
    if ds_fps is None and in_seconds and "time" in ds.coords and ds.sizes.get("time", 0) > 1:
        step = float(np.median(np.diff(np.asarray(ds["time"].values, dtype=np.float64))))
        ds_fps = round(1.0 / step, 6) if step > 0 else None
    if fps is not None:
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise ParameterError(f"fps must be a positive number, got {fps!r}") from None
        if not (math.isfinite(fps) and fps > 0):
            raise ParameterError(f"fps must be a positive number, got {fps!r}")
        if ds_fps is not None and not math.isclose(fps, ds_fps, rel_tol=1e-6):
            raise PoseDataError(
                f"fps={fps:g} was given but the file records {ds_fps:g} frames per second", path=source
            )
    return (fps if fps is not None else ds_fps), in_seconds


def from_movement(
    ds,
    *,
    fps: float | None = None,
    layout: str | JointLayout | None = None,
    layout_name: str = "movement",
    source: str | os.PathLike | None = None,
) -> list[PoseSequence]:
    """Convert a movement poses dataset into one :class:`PoseSequence` per individual.

    Parameters
    ----------
    ds : xarray.Dataset
        A movement poses dataset: ``position`` with dimensions ``time``,
        ``space`` (``x``, ``y`` and possibly ``z``), ``keypoints`` and
        ``individuals`` (``keypoint`` / ``individual`` are accepted too; a
        dataset without an individual dimension is one individual), and
        optionally ``confidence`` (``time``, ``keypoints``, ``individuals``).
    fps : float, optional
        Frames per second. Without it the dataset's ``fps`` attribute (or the
        spacing of a time coordinate in seconds) is used; a value that
        differs from the dataset's raises.
    layout : str or JointLayout, optional
        Use this layout; its joints must be the keypoints, in order. Without
        it a registered layout with exactly these joints (e.g. ``coco17``) is
        used, else one built from the keypoint names.
    layout_name : str
        Name of a layout built from the keypoint names.
    source : str or path-like, optional
        The file the dataset came from (for ``meta`` and error messages).

    Returns
    -------
    list of PoseSequence
        In the dataset's individual order. NaN positions stay missing;
        ``confidence`` is None when the dataset's is all NaN (for every
        individual). ``meta`` holds
        ``person`` (the individual's name), ``start_frame``, ``source`` and
        ``source_software`` when known. Frames absent from the time
        coordinate (a gap) become missing frames.

    Raises
    ------
    PoseDataError
        A dataset without ``position`` or with unexpected dimensions or
        coordinates, naming what was expected.

    Examples
    --------
    >>> import numpy as np
    >>> from movement.io import load_poses
    >>> ds = load_poses.from_numpy(np.zeros((4, 2, 3, 2)), np.ones((4, 3, 2)), fps=25,
    ...                            individual_names=["a", "b"], keypoint_names=["nose", "body", "tail"])
    >>> seqs = from_movement(ds)
    >>> [(s.meta["person"], s.n_frames, s.n_joints, s.n_dims, s.fps) for s in seqs]
    [('a', 4, 3, 2, 25.0), ('b', 4, 3, 2, 25.0)]
    """
    xr = require("xarray", "formats", "converting movement datasets")
    if not isinstance(ds, xr.Dataset):
        raise ParameterTypeError(
            f"expected a movement poses dataset (xarray.Dataset), got {type(ds).__name__}"
        )
    if source is None:
        source = ds.attrs.get("source_file") or None
    src = None if source is None else os.fspath(source)
    if "position" not in ds.data_vars:
        raise PoseDataError(
            f"movement dataset has no 'position' variable (variables: {sorted(map(str, ds.data_vars))})",
            path=src,
        )
    pos = ds["position"]
    kdim = _dim(pos, ("keypoints", "keypoint"), "keypoint", src)
    idim = _dim(pos, ("individuals", "individual"), "individual", src, optional=True)
    for need in ("time", "space"):
        _dim(pos, (need,), need, src)
    extra = set(pos.dims) - {"time", "space", kdim, idim}
    if extra:
        raise PoseDataError(
            f"movement dataset: unexpected dimensions {sorted(extra)} in 'position'", path=src
        )
    if idim is None:
        pos = pos.expand_dims("individuals", axis=-1)
        idim = "individuals"
    space = (
        [str(s) for s in pos["space"].values]
        if "space" in pos.coords
        else ["x", "y", "z"][: pos.sizes["space"]]
    )
    want = [c for c in ("x", "y", "z") if c in space]
    if sorted(space) != sorted(want) or want[:2] != ["x", "y"]:
        raise PoseDataError(f"movement dataset: space coordinates {space}, expected x, y (and z)", path=src)
    pos = pos.sel(space=want) if "space" in pos.coords else pos
    fps_out, in_seconds = _dataset_fps(ds, fps, src)
    times = np.asarray(ds["time"].values) if "time" in ds.coords else np.arange(pos.sizes["time"])
    frames = _frame_numbers(times, fps_out, in_seconds, src)
    position = np.asarray(pos.transpose("time", idim, kdim, "space").values, dtype=np.float64)
    conf = None
    if "confidence" in ds.data_vars:
        c = ds["confidence"]
        if idim not in c.dims:
            c = c.expand_dims(idim, axis=-1)
        cdim = _dim(c, ("keypoints", "keypoint"), "keypoint", src)
        conf = np.asarray(c.transpose("time", idim, cdim).values, dtype=np.float64)
    T = int(frames[-1] - frames[0] + 1) if frames.size else 0
    if frames.size and T != frames.size:  # gaps in time: missing frames
        full = np.full((T, *position.shape[1:]), np.nan)
        full[frames - frames[0]] = position
        position = full
        if conf is not None:
            cf = np.full((T, *conf.shape[1:]), np.nan)
            cf[frames - frames[0]] = conf
            conf = cf
    names = (
        [str(k) for k in pos[kdim].values]
        if kdim in pos.coords
        else [f"keypoint_{k}" for k in range(pos.sizes[kdim])]
    )
    lay = _layout_for(names, layout, layout_name, src)
    individuals = (
        [str(i) for i in pos[idim].values]
        if idim in pos.coords
        else [f"id_{i}" for i in range(pos.sizes[idim])]
    )
    software = ds.attrs.get("source_software")
    out = []
    if conf is not None and np.isnan(conf).all():
        conf = None  # e.g. a SLEAP analysis file without point scores
    for i, who in enumerate(individuals):
        ci = None if conf is None else conf[:, i]
        meta: dict[str, Any] = {"person": who, "start_frame": int(frames[0]) if frames.size else 0}
        if src is not None:
            meta["source"] = src
        if software:
            meta["source_software"] = str(software)
            if _SOFTWARE_TO_FORMAT.get(str(software).lower()) in PIXEL_FORMATS:
                meta["units"] = "px"
        out.append(PoseSequence(position[:, i], lay, fps=fps_out, confidence=ci, meta=meta))
    return out


def check_sequences(sequences) -> list[PoseSequence]:
    if isinstance(sequences, PoseSequence):
        return [sequences]
    if isinstance(sequences, (str, bytes, os.PathLike)) or not isinstance(sequences, Iterable):
        raise ParameterTypeError(f"expected a PoseSequence or a list of them, got {type(sequences).__name__}")
    seqs = list(sequences)
    if not seqs:
        raise ParameterError("no pose sequences given")
    for i, s in enumerate(seqs):
        if not isinstance(s, PoseSequence):
            raise ParameterTypeError(f"item {i}: expected a PoseSequence, got {type(s).__name__}")
    return seqs


def to_movement(sequences: PoseSequence | Iterable[PoseSequence], *, source_software: str | None = None):
    """Convert the pose sequences of one recording into a movement poses dataset.

    The inverse of :func:`from_movement`.

    Parameters
    ----------
    sequences : PoseSequence or list of PoseSequence
        One per individual; all with the same joints, coordinate count,
        frame count, ``fps`` and ``meta["start_frame"]`` (default 0).
    source_software : str, optional
        Stored as the dataset's ``source_software`` attribute.

    Returns
    -------
    xarray.Dataset
        ``position`` (time, space, keypoints, individuals) and ``confidence``
        (time, keypoints, individuals; NaN where a sequence has none). The
        time coordinate is in seconds when ``fps`` is known, else in frames;
        individuals are named by ``meta["person"]`` (default ``id_<i>``).

    Examples
    --------
    >>> import numpy as np
    >>> seqs = [PoseSequence(np.zeros((5, 17, 2)), "coco17", fps=30, meta={"person": p}) for p in ("a", "b")]
    >>> ds = to_movement(seqs)
    >>> dict(ds.sizes), ds.attrs["fps"]
    ({'time': 5, 'space': 2, 'keypoints': 17, 'individuals': 2}, 30.0)
    >>> [s.meta["person"] for s in from_movement(ds)]
    ['a', 'b']
    """
    require_movement("converting poses to a movement dataset")
    from movement.io import load_poses

    seqs = check_sequences(sequences)
    first = seqs[0]
    start = int(first.meta.get("start_frame", 0) or 0)
    for i, s in enumerate(seqs[1:], 1):
        what = None
        if s.layout.joints != first.layout.joints:
            what = f"joints {list(s.layout.joints)} differ from {list(first.layout.joints)}"
        elif s.n_dims != first.n_dims:
            what = f"{s.n_dims} coordinates per joint, the first has {first.n_dims}"
        elif s.n_frames != first.n_frames:
            what = f"{s.n_frames} frames, the first has {first.n_frames}"
        elif s.fps != first.fps:
            what = f"fps {s.fps}, the first has {first.fps}"
        elif int(s.meta.get("start_frame", 0) or 0) != start:
            what = f"start_frame {s.meta.get('start_frame')}, the first has {start}"
        if what:
            raise PoseDataError(f"sequence {i}: {what}; one dataset holds individuals of one recording")
    names = [str(s.meta.get("person", f"id_{i}")) for i, s in enumerate(seqs)]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise PoseDataError(f"individual names (meta['person']) must be unique, found {dup} more than once")
    position = np.stack([s.position.transpose(0, 2, 1) for s in seqs], axis=-1)  # (T, C, J, I)
    confidence = np.stack(
        [np.full((s.n_frames, s.n_joints), np.nan) if s.confidence is None else s.confidence for s in seqs],
        axis=-1,
    )
    ds = load_poses.from_numpy(
        position_array=position,
        confidence_array=confidence,
        individual_names=names,
        keypoint_names=list(first.layout.joints),
        fps=first.fps,
        source_software=source_software,
    )
    if start:
        frames = start + np.arange(first.n_frames)
        ds = ds.assign_coords(time=frames / first.fps if first.fps else frames)
    src = first.meta.get("source")
    if src:
        ds.attrs["source_file"] = str(src)
    return ds
