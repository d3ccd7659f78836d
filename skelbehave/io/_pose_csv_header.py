"""Pose CSV header: the ``#`` metadata lines and the column header, read with bounds.

Private to :mod:`skelbehave.io`; the format is ``data_specs/pose_csv.md``.
Every header line is read with a length limit, the number of header lines is
bounded and every JSON value is parsed with a nesting limit, so a hostile
header costs bounded memory and time and ends in a
:class:`~skelbehave.errors.PoseDataError` naming the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from ..errors import LayoutError, PoseDataError
from ..layouts import JointLayout, get_layout

FORMAT_NAME = "skelbehave-pose-csv"
FORMAT_VERSION = 1
FORMAT_LINE = f"# {FORMAT_NAME} v{FORMAT_VERSION}"
FIXED = ("frame", "time", "person")
NA = ("", "nan", "NaN")
# meta keys that the format stores in their own header fields or columns
RESERVED_META = {"source", "person", "start_frame", "units", "coordinates"}
ID_RE = re.compile(r"^[^,\s\"#][^,\"\n\r]*$")

#: longest header line (a ``# layout-def:`` or ``# meta:`` JSON included), in bytes
MAX_HEADER_LINE = 16 << 20
#: most ``#`` lines before the column header
MAX_HEADER_LINES = 1000
#: deepest nesting of lists / objects in a header JSON value
MAX_JSON_DEPTH = 32


@dataclass
class Header:
    """Everything the header says, validated (no data rows read yet)."""

    fields: dict[str, str]
    lines: dict[str, int]
    cols: list[str]
    col_line: int
    joints: list[str]
    n_dims: int
    has_conf: bool
    layout: JointLayout
    fps: float | None
    persons: list | None = None
    metas: list[dict] | None = None
    n_rows: int | None = None
    rows_per_person: list[int] | None = None


def _readline(fh: BinaryIO, path, line: int) -> str | None:
    """One header line as text (without the line break), None at end of file."""
    limit = MAX_HEADER_LINE
    raw = fh.readline(limit + 1)
    if not raw:
        return None
    if len(raw) > limit and not raw.endswith(b"\n"):
        raise PoseDataError(
            f"header line longer than {limit} bytes (not a pose CSV header?)", path=path, line=line
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoseDataError(f"not UTF-8 text (byte {exc.start} of the line)", path=path, line=line) from None
    return text[:-1] if text.endswith("\n") else text


def _depth_ok(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (list, dict)):
            if d > limit:
                return False
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return True


def loads_bounded(text: str, what: str, path, line: int | None) -> Any:
    """``json.loads`` with a nesting limit; any failure is a :class:`PoseDataError`.

    Examples
    --------
    >>> loads_bounded('[1, "a"]', "'# persons:'", "f.csv", 5)
    [1, 'a']
    >>> try:
    ...     loads_bounded("[" * 100000 + "]" * 100000, "'# meta:'", "f.csv", 7)
    ... except PoseDataError as e:
    ...     print(e.line, "nested" in str(e))
    7 True
    """
    try:
        val = json.loads(text)
    except RecursionError:
        ok = False
    except ValueError as exc:
        raise PoseDataError(f"{what} is not valid JSON: {exc}", path=path, line=line) from None
    else:
        ok = _depth_ok(val, MAX_JSON_DEPTH)
    if not ok:
        raise PoseDataError(
            f"{what} is nested deeper than {MAX_JSON_DEPTH} levels of lists / objects", path=path, line=line
        )
    return val


def _parse_fields(fh: BinaryIO, path) -> tuple[dict[str, str], dict[str, int], str | None, int]:
    """Format line and ``# key: value`` lines; returns fields, their lines, the next line and its number."""
    first = _readline(fh, path, 1)
    if first is None or not first.strip():
        raise PoseDataError(f"empty file; expected a first line {FORMAT_LINE!r}", path=path, line=1)
    first = first.rstrip("\r").strip()
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
    lines: dict[str, int] = {}
    n = 2
    while True:
        text = _readline(fh, path, n)
        if text is None or not text.startswith("#"):
            return fields, lines, text, n
        if n > MAX_HEADER_LINES:
            raise PoseDataError(f"more than {MAX_HEADER_LINES} '#' header lines", path=path, line=n)
        body = text.rstrip("\r")[1:].strip()
        if body:
            key, sep, value = body.partition(":")
            key = key.strip()
            if not sep or not key:
                raise PoseDataError(
                    f"metadata lines must read '# key: value', found {text[:80]!r}", path=path, line=n
                )
            if key in fields:
                raise PoseDataError(f"metadata field {key!r} appears twice", path=path, line=n)
            fields[key] = value.strip()
            lines[key] = n
        n += 1


def _parse_layout(fields, lines, joints: list[str], path) -> JointLayout:
    if "layout" not in fields:
        raise PoseDataError("missing metadata line '# layout: <name>'", path=path)
    name = fields["layout"]
    line = lines.get("layout")
    if not name:
        raise PoseDataError("'# layout:' is empty; expected a layout name", path=path, line=line)
    if "layout-def" in fields:
        dline = lines.get("layout-def")
        desc = loads_bounded(fields["layout-def"], "'# layout-def:'", path, dline)
        try:
            layout = JointLayout.from_dict(desc)
        except (ValueError, TypeError, AttributeError, KeyError, LayoutError) as exc:
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


def expected_columns(cols: list[str], path, line: int) -> tuple[list[str], int, bool]:
    """Joint names, coordinate count and confidence flag implied by the column names."""
    if cols[:3] != list(FIXED):
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
    expected = list(FIXED)
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


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_header(fh: BinaryIO, path, fps: float | None) -> Header:
    """Read and validate the header of an open pose CSV; ``fh`` is left at the first data row."""
    fields, lines, col_text, n = _parse_fields(fh, path)
    if col_text is None or not col_text.strip():
        raise PoseDataError(
            "the file ends before the column header 'frame,time,person,...' (truncated?)", path=path, line=n
        )
    cols = col_text.rstrip("\r").split(",")
    joints, C, has_conf = expected_columns(cols, path, n)
    layout = _parse_layout(fields, lines, joints, path)

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
                line=lines.get("fps"),
            )
    if fps is not None and file_fps is not None and float(fps) != file_fps:
        raise PoseDataError(f"the file says fps {file_fps}, but fps={fps} was passed", path=path)
    head = Header(
        fields, lines, cols, n, joints, C, has_conf, layout, file_fps if file_fps is not None else fps
    )

    if "persons" in fields:
        val = loads_bounded(fields["persons"], "'# persons:'", path, lines["persons"])
        if not (isinstance(val, list) and all(_is_int(p) or isinstance(p, str) for p in val)):
            raise PoseDataError(
                f"'# persons:' must be a JSON list of ids, found {fields['persons'][:80]!r}",
                path=path,
                line=lines["persons"],
            )
        decl_txt = [str(p) for p in val]
        if len(set(decl_txt)) != len(decl_txt):
            raise PoseDataError(f"'# persons:' repeats an id: {val}", path=path, line=lines["persons"])
        head.persons = val
    if "meta" in fields:
        val = loads_bounded(fields["meta"], "'# meta:'", path, lines["meta"])
        ok = isinstance(val, list) and all(isinstance(m, dict) for m in val)
        if not ok or head.persons is None or len(val) != len(head.persons):
            raise PoseDataError(
                "'# meta:' must be a JSON list with one object per person of '# persons:'",
                path=path,
                line=lines["meta"],
            )
        head.metas = val
    if "rows" in fields:
        val = loads_bounded(fields["rows"], "'# rows:'", path, lines["rows"])
        if _is_int(val) and val >= 0:
            head.n_rows = val
        elif (
            isinstance(val, list)
            and head.persons is not None
            and len(val) == len(head.persons)
            and all(_is_int(v) and v > 0 for v in val)
        ):
            head.rows_per_person = val
            head.n_rows = sum(val)
        else:
            raise PoseDataError(
                "'# rows:' must be the row count, or a JSON list of row counts > 0 (one per person of "
                f"'# persons:'), found {fields['rows'][:80]!r}",
                path=path,
                line=lines["rows"],
            )
    return head
