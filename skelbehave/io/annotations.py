"""Behaviour annotations as per-frame labels: label CSVs, Caltech Behavior Annotator, BORIS events.

One entry point, :func:`read_annotations`, turns an annotation file into a
table of per-frame labels (index ``frame`` = 0, 1, ..., one column per
stream, annotator channel or subject), whatever tool wrote it:

``frame_csv``
    The package's per-frame label CSV: ``frame,<column>,...`` with frames
    0, 1, 2, ... (read by :func:`skelbehave.io.frame_labels.read_frame_label_csv`).
``caltech``
    Caltech Behavior Annotator text files (``*_annot.txt``): a configuration
    block, then one block per stream (``S1:``, ``S2:``, ...) of
    ``start end type`` rows; frames are 1-based and ``end`` is inclusive.
``boris``
    BORIS exports of coded events, CSV or TSV: the *aggregated events* table
    (``Subject``, ``Behavior``, ``Behavior type`` STATE / POINT,
    ``Start (s)``, ``Stop (s)``, ``FPS``) or the *tabular events* table
    (``Time`` and a ``Behavior type`` / ``Status`` of START / STOP / POINT).
    One column per subject; times in seconds become frames with ``fps``
    (a start at ``t`` seconds is frame ``round(t * fps)``, the stop is exclusive).

:func:`write_boris_events` writes a predictions table back as a BORIS
aggregated events table (one STATE row per bout), so model output can be
reviewed and corrected in BORIS, and read again here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import ParameterError, PoseDataError
from ._intervals import check_no_overlap, intervals_to_frames, read_head
from .boris import (
    BORIS_COLUMNS,
    _boris_header_line,
    _boris_table,
    boris_events,
    read_boris_events,
    write_boris_events,
)
from .files import check_path, open_regular
from .frame_labels import read_frame_label_csv

__all__ = [
    "ANNOTATION_FORMATS",
    "BORIS_COLUMNS",
    "annotation_streams",
    "boris_events",
    "detect_annotation_format",
    "read_annotations",
    "read_boris_events",
    "read_caltech_annotation",
    "write_boris_events",
]


ANNOTATION_FORMATS = ("frame_csv", "caltech", "boris")
_MAX_BYTES = 256 * 2**20
_CALTECH_MAGIC = "Caltech Behavior Annotator"


def detect_annotation_format(path) -> str:
    """Which annotation format a file holds: ``"frame_csv"``, ``"caltech"`` or ``"boris"``.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(f, "w").write("frame,S1\\n0,base\\n")
    >>> detect_annotation_format(f)
    'frame_csv'
    """
    p, head = read_head(path)
    first = head.splitlines()[0].strip() if head.strip() else ""
    if first.startswith(_CALTECH_MAGIC):
        return "caltech"
    fields = [f.strip().strip('"').lower() for f in first.replace("\t", ",").split(",")]
    if fields and fields[0] == "frame":
        return "frame_csv"
    if _boris_header_line(head.splitlines()) is not None:
        return "boris"
    raise PoseDataError(
        "unknown annotation format: expected a per-frame label CSV (first column 'frame'), a Caltech "
        f"Behavior Annotator file ('{_CALTECH_MAGIC} ...') or a BORIS events export (columns Subject, "
        f"Behavior, ...); found {first[:60]!r}",
        path=p,
        line=1,
    )


def read_annotations(
    path, *, n_frames: int | None = None, fps: float | None = None, format: str = "auto", fill: str = "other"
) -> pd.DataFrame:
    """Per-frame labels from an annotation file of any supported format.

    Parameters
    ----------
    path : path-like
        A per-frame label CSV, a Caltech Behavior Annotator ``.txt`` or a BORIS events CSV / TSV.
    n_frames : int, optional
        Frames of the recording. Interval formats (Caltech, BORIS) are cut or
        padded (with ``fill``) to this length; a per-frame CSV must have it.
    fps : float, optional
        Frame rate, for BORIS (times in seconds); default: the file's ``FPS`` column.
    format : {"auto", "frame_csv", "caltech", "boris"}
        ``"auto"`` looks at the first line.
    fill : str
        Label of the frames no interval covers (Caltech, BORIS). Pass the
        name of your background behaviour, or ``"no_pose"`` to leave those
        frames out of training and scoring.

    Returns
    -------
    pandas.DataFrame
        Index ``frame`` (0 ... T-1), one string column per stream / subject;
        ``attrs["format"]`` and ``attrs["source"]``.

    Raises
    ------
    PoseDataError
        Bad content, naming the file, the line and the field.
    ParameterError
        A BORIS file without a frame rate and no ``fps``, an unknown ``format``.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "1_annot.txt")
    >>> _ = open(f, "w").write("Caltech Behavior Annotator - Annotation File\\n\\nConfiguration file:\\n"
    ...     "base\\tz\\nsocial\\ts\\n\\nS1:\\tstart\\tend\\ttype\\n-----\\n"
    ...     "\\t1\\t2\\tbase\\n\\t3\\t3\\tsocial\\n")
    >>> read_annotations(f)["S1"].tolist()
    ['base', 'base', 'social']
    """
    fmt = detect_annotation_format(path) if format == "auto" else format
    if fmt == "frame_csv":
        cols = read_frame_label_csv(path)
        df = pd.DataFrame(cols)
        df.index.name = "frame"
        if n_frames is not None and len(df) != n_frames:
            raise PoseDataError(f"{len(df)} label rows for a recording of {n_frames} frames", path=path)
    elif fmt == "caltech":
        df = read_caltech_annotation(path, n_frames=n_frames, fill=fill)
    elif fmt == "boris":
        df = read_boris_events(path, fps=fps, n_frames=n_frames, fill=fill)
    else:
        raise ParameterError(f"format must be 'auto' or one of {list(ANNOTATION_FORMATS)}, got {format!r}")
    df.attrs.update(format=fmt, source=os.fspath(path))
    return df


def annotation_streams(path, format: str = "auto") -> list[str]:
    """The label columns :func:`read_annotations` would return (streams, subjects), read cheaply.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "a.csv")
    >>> _ = open(f, "w").write("frame,S1,S2\\n0,base,base\\n")
    >>> annotation_streams(f)
    ['S1', 'S2']
    """
    fmt = detect_annotation_format(path) if format == "auto" else format
    if fmt == "frame_csv":
        with open_regular(check_path(path)) as fh:
            cols = list(pd.read_csv(fh, nrows=0).columns)
        return [c for c in cols if c != "frame"]
    if fmt == "caltech":
        return list(_parse_caltech(path)[0])
    if fmt == "boris":
        ev, _ = _boris_table(path)
        return list(dict.fromkeys(ev["Subject"]))
    raise ParameterError(f"format must be 'auto' or one of {list(ANNOTATION_FORMATS)}, got {format!r}")


# ----------------------------------------------------------------------------- Caltech Behavior Annotator
def _read_text(path) -> tuple[Path, str]:
    p = check_path(path)
    if p.stat().st_size > _MAX_BYTES:
        raise PoseDataError(f"file larger than {_MAX_BYTES >> 20} MB: not an annotation file", path=p)
    with open_regular(p) as fh:
        raw = fh.read()
    try:
        return p, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PoseDataError(f"not a text file ({exc.reason} at byte {exc.start})", path=p) from None


def _parse_caltech(path) -> tuple[dict[str, list], list[str]]:
    p, text = _read_text(path)
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith(_CALTECH_MAGIC):
        raise PoseDataError(f"expected a first line '{_CALTECH_MAGIC} - Annotation File'", path=p, line=1)
    config: list[str] = []
    streams: dict[str, list] = {}
    cur: str | None = None
    in_config = False
    for i, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if not parts:
            in_config = False
            continue
        if line.strip().startswith("Configuration file"):
            in_config = True
            continue
        if parts[0].endswith(":") and parts[1:] == ["start", "end", "type"]:
            cur, in_config = parts[0][:-1], False
            if cur in streams:
                raise PoseDataError(f"stream {cur!r} appears twice", path=p, line=i)
            streams[cur] = []
            continue
        if in_config:
            if len(parts) != 2:
                raise PoseDataError(
                    f"configuration: expected 'behaviour key', found {line.strip()!r}", path=p, line=i
                )
            config.append(parts[0])
            continue
        if set(line.strip()) == {"-"}:
            continue
        if cur is None or len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
            raise PoseDataError(
                f"expected 'start end type' of a stream, found {line.strip()!r}", path=p, line=i
            )
        s, e, lab = int(parts[0]), int(parts[1]), parts[2]
        if s < 1 or e < s:
            raise PoseDataError(f"expected 1 <= start <= end (1-based frames), found {s} {e}", path=p, line=i)
        if config and lab not in config:
            raise PoseDataError(
                f"type {lab!r} is not in the configuration {config}", path=p, line=i, column=3
            )
        streams[cur].append((s - 1, e, lab, i))
    if not streams:
        raise PoseDataError("no stream block ('S1:\\tstart\\tend\\ttype')", path=p)
    for name, bouts in streams.items():
        check_no_overlap(bouts, p, f"stream {name}")
    return streams, config


def read_caltech_annotation(path, *, n_frames: int | None = None, fill: str = "other") -> pd.DataFrame:
    """A Caltech Behavior Annotator ``.txt`` file as per-frame labels, one column per stream.

    Rows ``start end type`` are 1-based inclusive frame ranges: ``1 535 base``
    labels frames 0 ... 534. Without ``n_frames`` the table ends at the last
    annotated frame; frames no range covers get ``fill``.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(f, "w").write("Caltech Behavior Annotator - Annotation File\\n\\n"
    ...     "S1:\\tstart\\tend\\ttype\\n---\\n\\t2\\t3\\tsocial\\n")
    >>> read_caltech_annotation(f, n_frames=4, fill="base")["S1"].tolist()
    ['base', 'social', 'social', 'base']
    """
    streams, _ = _parse_caltech(path)
    return intervals_to_frames(streams, n_frames, fill, path)
