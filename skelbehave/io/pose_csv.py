"""The package's own pose CSV format (``skelbehave-pose-csv v1``).

One row per frame and person; ``#`` metadata lines on top. The full
specification is ``data_specs/pose_csv.md``. Writing then reading gives back
exactly the same numbers (floats are written with the shortest repr that
round-trips, and read back with a round-trip parser).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.fs import atomic_write
from ..errors import LayoutError, PoseDataError
from ..layouts import JointLayout, get_layout, list_layouts
from ..poses import PoseSequence

__all__ = ["FORMAT_LINE", "read_pose_csv", "write_pose_csv", "check_path"]

logger = logging.getLogger(__name__)

FORMAT_NAME = "skelbehave-pose-csv"
FORMAT_VERSION = 1
FORMAT_LINE = f"# {FORMAT_NAME} v{FORMAT_VERSION}"
_FIXED = ("frame", "time", "person")
_NA = ("", "nan", "NaN")
# meta keys that the format stores in their own header fields or columns
_RESERVED_META = {"source", "person", "start_frame", "units", "coordinates"}
_ID_RE = re.compile(r"^[^,\s\"#][^,\"\n\r]*$")


def check_path(path) -> Path:
    """A readable regular file, or a :class:`PoseFileNotFoundError`/:class:`PoseDataError`."""
    from ..errors import PoseFileNotFoundError

    p = Path(os.fspath(path))
    if not p.exists():
        raise PoseFileNotFoundError("no such file", path=p)
    if p.is_dir():
        raise PoseDataError("expected a file, found a directory", path=p)
    return p


# --------------------------------------------------------------------------- writing
def _fmt_float(x: float) -> str:
    return "" if np.isnan(x) else repr(float(x))


def _person_text(pid: object, path) -> str:
    if isinstance(pid, (bool, np.bool_)) or not isinstance(pid, (int, np.integer, str)):
        raise PoseDataError(f"person ids must be int or str, found {type(pid).__name__} {pid!r}", path=path)
    text = str(int(pid)) if isinstance(pid, (int, np.integer)) else pid
    if not _ID_RE.match(text) or text != text.strip() or text in _NA:
        raise PoseDataError(
            f"person id {pid!r} cannot be written: it must be non-empty, without commas, quotes, "
            "line breaks, leading '#' or surrounding spaces",
            path=path,
        )
    return text


def _json_meta(meta: Mapping[str, Any]) -> dict:
    out = {}
    for k, v in meta.items():
        if k in _RESERVED_META:
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
    path = Path(os.fspath(path))
    seqs = [sequences] if isinstance(sequences, PoseSequence) else list(sequences)
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
        if not _ID_RE.match(name) or name != name.strip():
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
    cols = list(_FIXED)
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

    width = C + (1 if has_conf else 0)
    chunks: list[str] = []
    for s, text, st in zip(seqs, texts, starts, strict=True):
        T, J = s.n_frames, s.n_joints
        data = np.full((T, J, width), np.nan)
        data[:, :, :C] = s.position
        if has_conf and s.confidence is not None:
            data[:, :, C] = s.confidence
        frame = np.arange(st, st + T)
        time_ = frame / fps if fps is not None else np.full(T, np.nan)
        # repr() is the shortest text that reads back to the same float; NaN -> empty cell
        flat = data.reshape(T, J * width).tolist()
        for f, tm, row in zip(frame.tolist(), time_.tolist(), flat, strict=True):
            nums = ",".join(map(repr, row)).replace("nan", "")
            chunks.append(f"{f},{_fmt_float(tm)},{text},{nums}\n")

    # the package's one atomic write: a killed writer leaves a temporary file that
    # run_batch's clean-up (remove_stale_temps) recognises
    with atomic_write(path) as fh:
        fh.write("\n".join(header) + "\n")
        fh.write(",".join(cols) + "\n")
        fh.writelines(chunks)
    return path


def _builtin_equal(layout: JointLayout) -> bool:
    try:
        return get_layout(layout.name) == layout
    except LayoutError:
        return False


# --------------------------------------------------------------------------- reading
def _parse_header(lines: list[str], path) -> tuple[dict[str, str], int]:
    """Metadata lines at the top; returns (fields, number of header lines)."""
    if not lines or not lines[0].strip():
        raise PoseDataError(f"empty file; expected a first line {FORMAT_LINE!r}", path=path, line=1)
    first = lines[0].rstrip("\r").strip()
    m = re.fullmatch(r"#\s*" + re.escape(FORMAT_NAME) + r"\s+v(\d+)", first)
    if m is None:
        raise PoseDataError(
            f"not a skelbehave pose CSV: expected first line {FORMAT_LINE!r}, found {first[:80]!r}",
            path=path,
            line=1,
        )
    if int(m.group(1)) != FORMAT_VERSION:
        raise PoseDataError(
            f"pose CSV format version {m.group(1)} is not supported by this skelbehave "
            f"(reads v{FORMAT_VERSION}); upgrade skelbehave",
            path=path,
            line=1,
        )
    fields: dict[str, str] = {}
    n = 1
    while n < len(lines) and lines[n].startswith("#"):
        text = lines[n].rstrip("\r")[1:].strip()
        if text:
            key, sep, value = text.partition(":")
            key = key.strip()
            if not sep or not key:
                raise PoseDataError(
                    f"metadata lines must read '# key: value', found {lines[n][:80]!r}", path=path, line=n + 1
                )
            if key in fields:
                raise PoseDataError(f"metadata field {key!r} appears twice", path=path, line=n + 1)
            fields[key] = value.strip()
            fields[f"__line_{key}"] = str(n + 1)
        n += 1
    return fields, n


def _header_line(fields, key) -> int | None:
    v = fields.get(f"__line_{key}")
    return None if v is None else int(v)


def _parse_layout(fields, joints: list[str], path) -> JointLayout:
    if "layout" not in fields:
        raise PoseDataError("missing metadata line '# layout: <name>'", path=path)
    name = fields["layout"]
    line = _header_line(fields, "layout")
    if not name:
        raise PoseDataError("'# layout:' is empty; expected a layout name", path=path, line=line)
    if "layout-def" in fields:
        dline = _header_line(fields, "layout-def")
        try:
            layout = JointLayout.from_dict(json.loads(fields["layout-def"]))
        except (ValueError, TypeError, AttributeError, LayoutError) as exc:
            raise PoseDataError(
                f"'# layout-def:' is not a valid layout description: {exc}", path=path, line=dline
            ) from None
        if layout.name != name:
            raise PoseDataError(
                f"'# layout-def:' describes layout {layout.name!r} but '# layout:' says {name!r}",
                path=path,
                line=dline,
            )
    else:
        try:
            layout = get_layout(name)
        except LayoutError:
            return JointLayout.from_names(joints, name=name)
    if list(layout.joints) != joints:
        raise PoseDataError(
            f"layout {name!r} expects {layout.n_joints} joints {list(layout.joints)}, "
            f"the columns name {len(joints)} joints {joints}",
            path=path,
            line=line,
        )
    return layout


def _expected_columns(cols: list[str], path, line: int) -> tuple[list[str], int, bool]:
    """Joint names, coordinate count and confidence flag implied by the column names."""
    if cols[:3] != list(_FIXED):
        raise PoseDataError(
            f"the column header must start with 'frame,time,person', found {','.join(cols[:3])!r}",
            path=path,
            line=line,
        )
    if len(cols) < 5 or not cols[3].endswith("_x"):
        raise PoseDataError(
            f"expected joint columns '<joint>_x,<joint>_y,...' after 'person', found {cols[3:5]}",
            path=path,
            line=line,
        )
    C = 3 if any(c.endswith("_z") for c in cols[3:]) else 2
    has_conf = any(c.endswith("_conf") for c in cols[3:])
    joints = [c[:-2] for c in cols[3:] if c.endswith("_x") and len(c) > 2]
    expected = list(_FIXED)
    for j in joints:
        expected += [f"{j}_{a}" for a in "xyz"[:C]] + ([f"{j}_conf"] if has_conf else [])
    for k, (e, f) in enumerate(zip(expected, cols, strict=False)):
        if e != f:
            raise PoseDataError(f"expected column {e!r}, found {f!r}", path=path, line=line, column=k + 1)
    if len(expected) != len(cols):
        raise PoseDataError(
            f"expected {len(expected)} columns for {len(joints)} joints x ({'xyz'[:C]}"
            f"{'+conf' if has_conf else ''}), found {len(cols)}",
            path=path,
            line=line,
        )
    if len(set(joints)) != len(joints):
        dup = sorted({j for j in joints if joints.count(j) > 1})
        raise PoseDataError(f"joint names repeat in the column header: {dup}", path=path, line=line)
    return joints, C, has_conf


try:  # pyarrow parses exact floats (fast_float) several times faster than pandas' round-trip parser
    import pyarrow as _pa
    import pyarrow.csv as _pacsv

    _ArrowInvalid: type[Exception] = _pa.ArrowInvalid
except ImportError:  # pragma: no cover - pyarrow is optional
    _pacsv = None

    class _ArrowInvalid(Exception):  # type: ignore[no-redef]
        pass


def _parse_body(text: str, cols: list[str], num_cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Numeric columns as one float64 array, and the person column as str objects."""
    if _pacsv is not None:
        table = _pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=_pacsv.ReadOptions(column_names=cols, use_threads=False),
            parse_options=_pacsv.ParseOptions(quote_char=False, escape_char=False, newlines_in_values=False),
            convert_options=_pacsv.ConvertOptions(
                column_types={**dict.fromkeys(num_cols, _pa.float64()), "person": _pa.string()},
                null_values=list(_NA),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        values = np.empty((table.num_rows, len(num_cols)))
        for k, c in enumerate(num_cols):
            values[:, k] = table.column(c).to_numpy(zero_copy_only=False)
        person = np.asarray(table.column("person").to_pylist(), dtype=object)
        return values, person
    df = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=cols,
        dtype={**dict.fromkeys(num_cols, np.float64), "person": str},
        na_values=list(_NA),
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        float_precision="round_trip",
        engine="c",
    )
    return df[num_cols].to_numpy(dtype=np.float64), df["person"].fillna("").to_numpy(dtype=object)


def _find_bad_cell(text: str, cols: list[str], first_line: int, path) -> PoseDataError:
    """Locate the first non-numeric cell after the fast parser failed."""
    df = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=cols,
        dtype=str,
        keep_default_na=False,
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    for c in cols:
        if c == "person":
            continue
        vals = df[c]
        bad = pd.to_numeric(vals, errors="coerce").isna().to_numpy() & ~vals.isin(_NA).to_numpy()
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            return PoseDataError(
                f"expected a number (or an empty cell for missing), found {vals.iloc[r][:40]!r}",
                path=path,
                line=first_line + r,
                column=c,
            )
    return PoseDataError("could not parse the numeric columns", path=path, line=first_line)


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
    path = check_path(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise PoseDataError(f"empty file; expected a first line {FORMAT_LINE!r}", path=path, line=1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PoseDataError(f"not UTF-8 text (byte {exc.start})", path=path, line=line) from None
    lines = text.split("\n")
    fields, n_head = _parse_header(lines, path)
    if n_head >= len(lines) or not lines[n_head].strip():
        raise PoseDataError(
            "the file ends before the column header 'frame,time,person,...' (truncated?)",
            path=path,
            line=n_head + 1,
        )
    col_line = n_head + 1
    cols = lines[n_head].rstrip("\r").split(",")
    joints, C, has_conf = _expected_columns(cols, path, col_line)
    layout = _parse_layout(fields, joints, path)

    # fps
    fps_text = fields.get("fps")
    if fps_text is None:
        raise PoseDataError("missing metadata line '# fps: <number or unknown>'", path=path)
    if fps_text.lower() in ("unknown", "none", ""):
        file_fps = None
    else:
        try:
            file_fps = float(fps_text)
        except ValueError:
            file_fps = -1.0
        if not np.isfinite(file_fps) or file_fps <= 0:
            raise PoseDataError(
                f"'# fps:' must be a positive number or 'unknown', found {fps_text!r}",
                path=path,
                line=_header_line(fields, "fps"),
            )
    if fps is not None and file_fps is not None and float(fps) != file_fps:
        raise PoseDataError(f"the file says fps {file_fps}, but fps={fps} was passed", path=path)
    seq_fps = file_fps if file_fps is not None else fps

    persons_decl = None
    if "persons" in fields:
        try:
            persons_decl = json.loads(fields["persons"])
            ok = isinstance(persons_decl, list) and all(
                isinstance(p, (int, str)) and not isinstance(p, bool) for p in persons_decl
            )
        except ValueError:
            ok = False
        if not ok:
            raise PoseDataError(
                f"'# persons:' must be a JSON list of ids, found {fields['persons'][:80]!r}",
                path=path,
                line=_header_line(fields, "persons"),
            )
    metas = None
    if "meta" in fields:
        try:
            metas = json.loads(fields["meta"])
            ok = isinstance(metas, list) and all(isinstance(m, dict) for m in metas)
        except ValueError:
            ok = False
        if not ok or persons_decl is None or len(metas) != len(persons_decl):
            raise PoseDataError(
                "'# meta:' must be a JSON list with one object per person of '# persons:'",
                path=path,
                line=_header_line(fields, "meta"),
            )
    n_rows_decl = None  # total rows
    rows_per_person = None
    if "rows" in fields:
        try:
            val = json.loads(fields["rows"])
        except ValueError:
            val = None
        if isinstance(val, int) and not isinstance(val, bool) and val >= 0:
            n_rows_decl = val
        elif (
            isinstance(val, list)
            and persons_decl is not None
            and len(val) == len(persons_decl)
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in val)
        ):
            rows_per_person = val
            n_rows_decl = sum(val)
        else:
            raise PoseDataError(
                "'# rows:' must be the row count, or a JSON list of row counts > 0 (one per person of "
                f"'# persons:'), found {fields['rows'][:80]!r}",
                path=path,
                line=_header_line(fields, "rows"),
            )

    # data lines: check field counts first (pandas silently pads short rows)
    body = lines[n_head + 1 :]
    if body and body[-1] == "":
        body.pop()
    elif body and n_rows_decl is not None:
        raise PoseDataError(
            "the last line has no line break: the file looks truncated",
            path=path,
            line=n_head + 1 + len(body),
        )
    n_sep = len(cols) - 1
    counts = [ln.count(",") for ln in body]
    if any(c != n_sep for c in counts):
        r = next(i for i, c in enumerate(counts) if c != n_sep)
        raise PoseDataError(
            f"expected {len(cols)} fields, found {counts[r] + 1}" + (" (empty line)" if not body[r] else ""),
            path=path,
            line=col_line + 1 + r,
        )
    if n_rows_decl is not None and n_rows_decl != len(body):
        raise PoseDataError(
            f"'# rows:' says {n_rows_decl} data rows, found {len(body)} (truncated or edited file?)",
            path=path,
            line=_header_line(fields, "rows"),
        )
    if not body:
        if n_rows_decl == 0:
            return []
        raise PoseDataError("no data rows after the column header", path=path, line=col_line)

    data_text = "\n".join(body) + "\n"
    num_cols = [c for c in cols if c != "person"]
    try:
        values, person_txt = _parse_body(data_text, cols, num_cols)
    except (ValueError, pd.errors.ParserError, _ArrowInvalid):
        raise _find_bad_cell(data_text, cols, col_line + 1, path) from None
    if len(values) != len(body):  # defensive: nothing is skipped with these options
        raise PoseDataError(f"parsed {len(values)} rows, expected {len(body)}", path=path, line=col_line)

    first_data_line = col_line + 1

    def fail(msg, row, column=None):
        raise PoseDataError(msg, path=path, line=first_data_line + int(row), column=column)

    frame = values[:, 0]
    bad = ~(np.isfinite(frame) & (frame == np.round(frame)) & (frame >= 0))
    if bad.any():
        r = np.flatnonzero(bad)[0]
        fail(f"frame numbers must be integers >= 0, found {frame[r]!r}", r, "frame")
    time_ = values[:, 1]
    if np.isinf(time_).any():
        fail("time must be finite or empty", np.flatnonzero(np.isinf(time_))[0], "time")
    coords = values[:, 2:]
    if np.isinf(coords).any():
        r, k = np.argwhere(np.isinf(coords))[0]
        fail("infinite value; use an empty cell for missing", r, num_cols[2 + k])

    empty = person_txt == ""
    if empty.any():
        fail("person id is empty", np.flatnonzero(empty)[0], "person")
    codes, uniques = pd.factorize(person_txt)
    if persons_decl is not None:
        decl_txt = [str(p) for p in persons_decl]
        if len(set(decl_txt)) != len(decl_txt):
            raise PoseDataError(
                f"'# persons:' repeats an id: {persons_decl}", path=path, line=_header_line(fields, "persons")
            )
        for k, u in enumerate(uniques):
            if u not in decl_txt:
                fail(
                    f"person {u!r} is not listed in '# persons: {fields['persons']}'",
                    np.argmax(codes == k),
                    "person",
                )
        order = [decl_txt.index(u) for u in uniques]
        missing = sorted(set(range(len(decl_txt))) - set(order))
        if missing:
            raise PoseDataError(
                f"'# persons:' lists {[persons_decl[i] for i in missing]} but they have no rows",
                path=path,
                line=_header_line(fields, "persons"),
            )
    else:
        order = list(range(len(uniques)))

    width = C + int(has_conf)
    J = len(joints)
    out: list[tuple[int, PoseSequence]] = []
    for k, u in enumerate(uniques):
        rows = np.flatnonzero(codes == k)
        if rows_per_person is not None and len(rows) != rows_per_person[order[k]]:
            raise PoseDataError(
                f"'# rows:' says person {u!r} has {rows_per_person[order[k]]} rows, found {len(rows)}",
                path=path,
                line=_header_line(fields, "rows"),
            )
        fr = frame[rows]
        step = np.diff(fr)
        if (step != 1).any():
            b = int(np.flatnonzero(step != 1)[0]) + 1
            fail(
                f"person {u!r}: frames must increase by 1 (one row per frame, empty cells when missing); "
                f"frame {int(fr[b - 1])} is followed by {fr[b]:g}",
                rows[b],
                "frame",
            )
        block = coords[rows].reshape(len(rows), J, width)
        pos = block[:, :, :C]
        conf = None
        if has_conf:
            conf = block[:, :, C]
            if np.isnan(conf).all():
                conf = None
        if persons_decl is not None:
            pid = persons_decl[order[k]]
        else:
            pid = int(u) if re.fullmatch(r"-?[1-9]\d*|0", u) else u
        meta: dict[str, Any] = {}
        if metas is not None:
            meta.update(metas[order[k]])
        meta.update(
            source=str(path),
            person=pid,
            start_frame=int(fr[0]),
            units=fields.get("units", "unknown"),
            coordinates=fields.get("coordinates", "unknown"),
        )
        seq = PoseSequence(pos, layout, fps=seq_fps, confidence=conf, meta=meta)
        out.append((order[k], seq))
    out.sort(key=lambda t: t[0])
    return [s for _, s in out]
