"""The package's own pose CSV format (``skelbehave-pose-csv v1``).

One row per frame and person; ``#`` metadata lines on top. The full
specification is ``data_specs/pose_csv.md``. Writing then reading gives back
exactly the same numbers (floats are written with the shortest repr that
round-trips, and read back with a round-trip parser).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import atomic_write
from ..errors import LayoutError, ParameterTypeError, PoseDataError
from ..layouts import JointLayout, get_layout, list_layouts
from ..poses import PoseSequence
from ._pose_csv_body import RowReader, iter_chunks
from ._pose_csv_header import FIXED, FORMAT_LINE, ID_RE, NA, RESERVED_META, read_header
from ._pose_csv_header import FORMAT_NAME as FORMAT_NAME  # skelbehave.io.detect_format reads it here
from .files import check_path, open_regular

__all__ = ["FORMAT_LINE", "read_pose_csv", "write_pose_csv", "check_path"]

logger = logging.getLogger(__name__)

#: rows formatted and written at a time by :func:`write_pose_csv`
WRITE_CHUNK_ROWS = 2048


# --------------------------------------------------------------------------- writing
def _fmt_float(x: float) -> str:
    return "" if np.isnan(x) else repr(float(x))


def _person_text(pid: object, path) -> str:
    if isinstance(pid, (bool, np.bool_)) or not isinstance(pid, (int, np.integer, str)):
        raise PoseDataError(f"person ids must be int or str, found {type(pid).__name__} {pid!r}", path=path)
    text = str(int(pid)) if isinstance(pid, (int, np.integer)) else pid
    if not ID_RE.match(text) or text != text.strip() or text in NA:
        raise PoseDataError(
            f"person id {pid!r} cannot be written: it must be non-empty, without commas, quotes, "
            "line breaks, leading '#' or surrounding spaces",
            path=path,
        )
    return text


def _json_meta(meta: Mapping[str, Any]) -> dict:
    out = {}
    for k, v in meta.items():
        if k in RESERVED_META:
            continue
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError):
            logger.debug("pose CSV: meta[%r] is not JSON-serialisable; not written", k)
            continue
        out[str(k)] = v
    return out


def write_pose_csv(
    path,
    sequences: PoseSequence | Iterable[PoseSequence],
    *,
    units: str | None = None,
    coordinates: str | None = None,
) -> Path:
    """Write pose sequences (one per person) to a skelbehave pose CSV.

    All sequences must share layout, coordinate count and fps. The person id
    of a sequence is ``meta["person"]`` (default: its position in the list),
    its first frame number ``meta["start_frame"]`` (default 0). JSON-serialisable
    ``meta`` entries are kept in a ``# meta:`` header line. The file is written
    to a temporary name and renamed, so a crash never leaves half a file.

    Parameters
    ----------
    path : str or path-like
        Output file.
    sequences : PoseSequence or iterable of PoseSequence
        One track per person.
    units, coordinates : str, optional
        Override ``meta["units"]`` / ``meta["coordinates"]`` (free text, e.g.
        ``"m"`` and ``"camera: x right, y down, z forward"``).

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skelbehave.io import read_poses
    >>> seq = PoseSequence(np.random.rand(5, 20, 3), "kinect_v1", fps=30)
    >>> f = os.path.join(tempfile.mkdtemp(), "poses.csv")
    >>> _ = write_pose_csv(f, seq, units="m")
    >>> back = read_poses(f)[0]
    >>> bool(np.array_equal(back.position, seq.position)), back.fps, back.meta["units"]
    (True, 30.0, 'm')
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError(f"path must be a file name (str or path-like), got {type(path).__name__}")
    path = Path(os.fspath(path))
    if path.is_dir():
        raise PoseDataError("is a folder; give the name of the pose CSV file to write", path=path)
    if isinstance(sequences, PoseSequence):
        seqs = [sequences]
    elif isinstance(sequences, Iterable) and not isinstance(sequences, (str, bytes)):
        seqs = list(sequences)
    else:
        raise ParameterTypeError(
            f"sequences must be a PoseSequence or a list of them, got {type(sequences).__name__}"
        )
    if not seqs:
        raise PoseDataError("nothing to write: no sequences given", path=path)
    for i, s in enumerate(seqs):
        if not isinstance(s, PoseSequence):
            raise PoseDataError(f"item {i} is a {type(s).__name__}, expected a PoseSequence", path=path)
    first = seqs[0]
    layout, C, fps = first.layout, first.n_dims, first.fps
    for i, s in enumerate(seqs[1:], 1):
        if s.layout != layout:
            raise PoseDataError(
                f"all sequences in one file must share a layout: item 0 has {layout.name!r}, "
                f"item {i} has {s.layout.name!r}",
                path=path,
            )
        if s.n_dims != C:
            raise PoseDataError(
                f"all sequences must have the same coordinate count: item 0 has {C}, item {i} has {s.n_dims}",
                path=path,
            )
        if s.fps != fps:
            raise PoseDataError(
                f"all sequences in one file must share fps: item 0 has {fps}, item {i} has {s.fps}",
                path=path,
            )
    for name in layout.joints:
        if not ID_RE.match(name) or name != name.strip():
            raise PoseDataError(f"joint name {name!r} cannot be a CSV column name", path=path)
    persons = [s.meta.get("person", i) for i, s in enumerate(seqs)]
    texts = [_person_text(p, path) for p in persons]
    if len(set(texts)) != len(texts):
        raise PoseDataError(f"person ids must be unique, found {persons}", path=path)
    starts = []
    for s in seqs:
        st = s.meta.get("start_frame", 0)
        if isinstance(st, bool) or not isinstance(st, (int, np.integer)) or st < 0:
            raise PoseDataError(f"meta['start_frame'] must be an int >= 0, found {st!r}", path=path)
        starts.append(int(st))
    has_conf = any(s.confidence is not None for s in seqs)
    units = units if units is not None else first.meta.get("units", "unknown")
    coordinates = coordinates if coordinates is not None else first.meta.get("coordinates", "unknown")
    for key, val in (("units", units), ("coordinates", coordinates)):
        if "\n" in str(val) or "\r" in str(val):
            raise PoseDataError(f"{key} must be one line of text, found {val!r}", path=path)

    axes = "xyz"[:C]
    cols = list(FIXED)
    for j in layout.joints:
        cols += [f"{j}_{a}" for a in axes]
        if has_conf:
            cols.append(f"{j}_conf")

    for i, s in enumerate(seqs):
        if s.n_frames == 0:
            raise PoseDataError(
                f"item {i} has no frames; a pose CSV holds at least one row per person", path=path
            )
    header = [
        FORMAT_LINE,
        f"# layout: {layout.name}",
    ]
    builtin = layout.name in list_layouts() and _builtin_equal(layout)
    if not builtin:
        header.append(f"# layout-def: {json.dumps(layout.to_dict(), separators=(',', ':'))}")
    header += [
        f"# fps: {'unknown' if fps is None else repr(float(fps))}",
        f"# units: {units}",
        f"# coordinates: {coordinates}",
        f"# persons: {json.dumps([int(p) if isinstance(p, np.integer) else p for p in persons])}",
        f"# rows: {json.dumps([s.n_frames for s in seqs])}",
    ]
    metas = [_json_meta(s.meta) for s in seqs]
    if any(metas):
        header.append(f"# meta: {json.dumps(metas, separators=(',', ':'), allow_nan=False)}")

    # the package's one atomic write: a killed writer leaves a temporary file that
    # run_batch's clean-up (remove_stale_temps) recognises. Rows are formatted
    # WRITE_CHUNK_ROWS at a time, so memory stays flat whatever the length.
    with atomic_write(path) as fh:
        fh.write("\n".join(header) + "\n")
        fh.write(",".join(cols) + "\n")
        for s, text, st in zip(seqs, texts, starts, strict=True):
            for a in range(0, s.n_frames, WRITE_CHUNK_ROWS):
                fh.writelines(_format_rows(s, a, min(a + WRITE_CHUNK_ROWS, s.n_frames), text, st, has_conf))
    return path


def _format_rows(s: PoseSequence, a: int, b: int, text: str, start: int, has_conf: bool) -> list[str]:
    """CSV lines of frames ``a:b`` of one sequence."""
    C, J, fps = s.n_dims, s.n_joints, s.fps
    width = C + int(has_conf)
    data = np.full((b - a, J, width), np.nan)
    data[:, :, :C] = s.position[a:b]
    if has_conf and s.confidence is not None:
        data[:, :, C] = s.confidence[a:b]
    frame = np.arange(start + a, start + b)
    time_ = frame / fps if fps is not None else np.full(b - a, np.nan)
    # repr() is the shortest text that reads back to the same float; NaN -> empty cell
    flat = data.reshape(b - a, J * width).tolist()
    out = []
    for f, tm, row in zip(frame.tolist(), time_.tolist(), flat, strict=True):
        nums = ",".join(map(repr, row)).replace("nan", "")
        out.append(f"{f},{_fmt_float(tm)},{text},{nums}\n")
    return out


def _builtin_equal(layout: JointLayout) -> bool:
    try:
        return get_layout(layout.name) == layout
    except LayoutError:
        return False


# --------------------------------------------------------------------------- reading
def read_pose_csv(path, *, fps: float | None = None) -> list[PoseSequence]:
    """Read a skelbehave pose CSV: one :class:`PoseSequence` per person.

    Parameters
    ----------
    path : str or path-like
        The file.
    fps : float, optional
        Frame rate to use when the file says ``# fps: unknown``; if the file
        states one, a different value raises :class:`PoseDataError`.

    Returns
    -------
    list of PoseSequence
        In order of first appearance; ``meta`` holds ``source``, ``person``,
        ``start_frame``, ``units``, ``coordinates`` and the file's ``# meta:``.

    Raises
    ------
    PoseDataError
        For anything that does not follow ``data_specs/pose_csv.md``; the
        message names file, line and column, expected and found.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> seq = PoseSequence(np.zeros((3, 17, 2)), "coco17", fps=25, meta={"person": "a"})
    >>> f = write_pose_csv(os.path.join(tempfile.mkdtemp(), "p.csv"), seq)
    >>> [s.meta["person"] for s in read_pose_csv(f)]
    ['a']
    """
    with open_regular(path) as fh:
        path = Path(os.fspath(path))
        head = read_header(fh, path, fps)
        size_left = os.fstat(fh.fileno()).st_size - fh.tell()
        rows = RowReader(head, path, size_left)
        max_line = (1 << 20) + 64 * len(head.cols)
        for chunk, line, last in iter_chunks(fh, path, head.col_line + 1, max_line):
            rows.add(chunk, line, last)
    return rows.sequences()
