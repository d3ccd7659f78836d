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

import itertools
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError, PoseDataError
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

log = logging.getLogger(__name__)

ANNOTATION_FORMATS = ("frame_csv", "caltech", "boris")
#: columns of the BORIS aggregated events table written by :func:`write_boris_events`
BORIS_COLUMNS = (
    "Observation id", "Observation date", "Description", "Observation type", "Source", "Time offset (s)",
    "Media duration (s)", "FPS", "Subject", "Observation duration by subject by observation", "Behavior",
    "Behavioral category", "Modifiers", "Behavior type", "Start (s)", "Stop (s)", "Duration (s)",
    "Media file name", "Image index start", "Image index stop", "Image file path start",
    "Image file path stop", "Comment start", "Comment stop",
)  # fmt: skip
#: BORIS's name for events coded without a subject
NO_FOCAL_SUBJECT = "No focal subject"
#: prediction labels that are no behaviour (``skelbehave.temporal.NO_POSE`` and empty): no event is written
_NOT_BEHAVIOURS = ("no_pose", "")
_MAX_BYTES = 256 * 2**20
_CALTECH_MAGIC = "Caltech Behavior Annotator"


# ----------------------------------------------------------------------------- dispatch
def _head(path) -> tuple[Path, str]:
    p = check_path(path)
    with open_regular(p) as fh:
        head = fh.read(4096)
    return p, head.decode("utf-8-sig", errors="replace")


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
    p, head = _head(path)
    first = head.splitlines()[0].strip() if head.strip() else ""
    if first.startswith(_CALTECH_MAGIC):
        return "caltech"
    fields = [f.strip().strip('"').lower() for f in first.replace("\t", ",").split(",")]
    if fields and fields[0] == "frame":
        return "frame_csv"
    if "subject" in fields and "behavior" in fields:
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


# ----------------------------------------------------------------------------- intervals -> frames
def _intervals_to_frames(streams: dict[str, list], n_frames: int | None, fill: str, path) -> pd.DataFrame:
    """``{stream: [(start, stop, label, line), ...]}`` (0-based, stop exclusive) -> per-frame table."""
    ends = [b[1] for bouts in streams.values() for b in bouts]
    length = n_frames if n_frames is not None else max(ends, default=0)
    if length <= 0:
        raise PoseDataError("no annotated interval (and no n_frames given)", path=path)
    cut = max(ends, default=0) - length
    if cut > 0:
        log.info("%s: intervals run %d frames past the recording's %d frames; cut there", path, cut, length)
    out = {}
    for name, bouts in streams.items():
        y = np.full(length, fill, dtype=object)
        for s, e, lab, _ in bouts:
            y[s : min(e, length)] = lab
        out[name] = y
    df = pd.DataFrame(out)
    df.index.name = "frame"
    df.attrs["frames_cut"] = max(cut, 0)
    return df


def _no_overlap(bouts: list, path, what: str) -> None:
    bouts.sort(key=lambda b: (b[0], b[1]))
    for a, b in itertools.pairwise(bouts):
        if b[0] < a[1]:
            raise PoseDataError(
                f"{what}: {b[2]!r} (frames {b[0]}-{b[1]}) overlaps {a[2]!r} of line {a[3]} (frames "
                f"{a[0]}-{a[1]}); per-frame labels need one behaviour at a time",
                path=path,
                line=b[3],
            )


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
        _no_overlap(bouts, p, f"stream {name}")
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
    return _intervals_to_frames(streams, n_frames, fill, path)


# ----------------------------------------------------------------------------- BORIS
def _boris_table(path) -> tuple[pd.DataFrame, Path]:
    p, head = _head(path)
    first = head.splitlines()[0] if head else ""
    sep = "\t" if (p.suffix.lower() == ".tsv" or first.count("\t") > first.count(",")) else ","
    try:
        with open_regular(p) as fh:
            df = pd.read_csv(fh, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PoseDataError(f"not a readable BORIS table: {' '.join(str(exc).split())}", path=p) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("Subject", "Behavior") if c not in df.columns]
    if missing:
        raise PoseDataError(f"missing BORIS column(s) {missing}; found {list(df.columns)}", path=p, line=1)
    df["Subject"] = df["Subject"].str.strip().replace("", NO_FOCAL_SUBJECT)
    return df, p


def _seconds(values: pd.Series, p: Path, column: str) -> np.ndarray:
    t = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise PoseDataError(
            f"expected a time >= 0 in seconds, found {values.iloc[r]!r}", path=p, line=r + 2, column=column
        )
    return t


def _boris_fps(df: pd.DataFrame, fps: float | None, p: Path) -> float:
    if fps is not None:
        if not (np.isfinite(fps) and fps > 0):
            raise ParameterError(f"fps must be a positive number, got {fps!r}")
        return float(fps)
    col = next((c for c in ("FPS", "Media FPS") if c in df.columns), None)
    vals = {v.strip() for v in df[col]} if col else set()
    nums = {float(v) for v in vals if v.replace(".", "", 1).isdigit() and float(v) > 0}
    if len(nums) == 1 and len(vals) == 1:
        return nums.pop()
    found = f"column {col!r} holds {sorted(vals)[:3]}" if col else "no FPS column"
    raise ParameterError(f"{p}: BORIS times are in seconds and the file states no one frame rate ({found}); "
                         "pass fps= (CLI: --fps)")  # fmt: skip


def _boris_states(df: pd.DataFrame, p: Path) -> list[tuple[str, str, float, float, int]]:
    """(subject, behaviour, start s, stop s, line) of every state event; point events are skipped."""
    kind_col = next((c for c in ("Behavior type", "Status") if c in df.columns), None)
    kind = df[kind_col].str.strip().str.upper() if kind_col else pd.Series("STATE", index=df.index)
    lines = np.arange(len(df)) + 2
    if {"Start (s)", "Stop (s)"} <= set(df.columns):  # aggregated events
        keep = (kind != "POINT").to_numpy()
        start = _seconds(df["Start (s)"][keep], p, "Start (s)")
        stop = _seconds(df["Stop (s)"][keep], p, "Stop (s)")
        sub, beh = df["Subject"][keep].tolist(), df["Behavior"][keep].str.strip().tolist()
        out = list(zip(sub, beh, start.tolist(), stop.tolist(), lines[keep].tolist(), strict=True))
        skipped = int((~keep).sum())
    elif "Time" in df.columns and kind_col is not None:  # tabular events: pair START / STOP
        t = _seconds(df["Time"], p, "Time")
        open_: dict[tuple[str, str], tuple[float, int]] = {}
        out, skipped = [], 0
        for i, (s, b, k) in enumerate(zip(df["Subject"], df["Behavior"].str.strip(), kind, strict=True)):
            if k == "START":
                if (s, b) in open_:
                    raise PoseDataError(
                        f"{b!r} of {s!r} starts again before it stops", path=p, line=i + 2, column=kind_col
                    )
                open_[(s, b)] = (t[i], i + 2)
            elif k == "STOP":
                if (s, b) not in open_:
                    raise PoseDataError(
                        f"{b!r} of {s!r} stops without a START", path=p, line=i + 2, column=kind_col
                    )
                t0, line = open_.pop((s, b))
                out.append((s, b, t0, t[i], line))
            elif k == "POINT":
                skipped += 1
            else:
                raise PoseDataError(
                    f"expected START, STOP or POINT, found {k!r}", path=p, line=i + 2, column=kind_col
                )
        if open_:
            (s, b), (_, line) = next(iter(open_.items()))
            raise PoseDataError(f"{b!r} of {s!r} starts but never stops", path=p, line=line)
    else:
        raise PoseDataError(
            "expected BORIS aggregated events (columns 'Start (s)', 'Stop (s)') or tabular events "
            f"(columns 'Time' and 'Behavior type' / 'Status'); found {list(df.columns)}",
            path=p,
            line=1,
        )
    if skipped:
        log.info("%s: %d point events (no duration) are not frame labels; skipped", p, skipped)
    return out


def read_boris_events(
    path,
    *,
    fps: float | None = None,
    n_frames: int | None = None,
    fill: str = "other",
    observation: str | None = None,
) -> pd.DataFrame:
    """A BORIS events export (aggregated or tabular; CSV or TSV) as per-frame labels, one column per subject.

    A state from ``start`` to ``stop`` seconds labels frames
    ``round(start * fps)`` up to ``round(stop * fps)`` (exclusive). Point
    events have no duration and are skipped; states of one subject must not
    overlap. Frames no state covers get ``fill``.

    Parameters
    ----------
    path : path-like
    fps : float, optional
        Frame rate; default: the file's ``FPS`` (or ``Media FPS``) column.
    n_frames : int, optional
        Length of the result (default: up to the last stop).
    fill : str
        Label of uncovered frames.
    observation : str, optional
        The ``Observation id`` to read when the file holds several.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "events.tsv")
    >>> _ = open(f, "w").write("Observation id\\tFPS\\tSubject\\tBehavior\\tBehavior type\\t"
    ...                        "Start (s)\\tStop (s)\\nrec1\\t10\\trat1\\tgroom\\tSTATE\\t0.2\\t0.4\\n")
    >>> read_boris_events(f, n_frames=5)["rat1"].tolist()
    ['other', 'other', 'groom', 'groom', 'other']
    """
    df, p = _boris_table(path)
    if "Observation id" in df.columns:
        ids = list(dict.fromkeys(df["Observation id"]))
        if observation is not None:
            if observation not in ids:
                raise ParameterError(f"{p}: no observation {observation!r}; it holds {ids}")
            df = df[df["Observation id"] == observation]
        elif len(ids) > 1:
            raise ParameterError(f"{p} holds {len(ids)} observations {ids[:5]}: pass observation=... "
                                 "(or export one observation per file)")  # fmt: skip
    states = _boris_states(df, p)
    rate = _boris_fps(df, fps, p)
    streams: dict[str, list] = {s: [] for s in dict.fromkeys(df["Subject"])}
    for subject, beh, t0, t1, line in states:
        if t1 < t0:
            raise PoseDataError(f"stop {t1} s before start {t0} s", path=p, line=line, column="Stop (s)")
        s, e = round(t0 * rate), round(t1 * rate)
        if e > s:
            streams[subject].append((s, e, beh, line))
    for name, bouts in streams.items():
        _no_overlap(bouts, p, f"subject {name}")
    out = _intervals_to_frames(streams, n_frames, fill, p)
    out.attrs["fps"] = rate
    return out


def boris_events(
    predictions: pd.DataFrame,
    *,
    fps: float,
    observation_id: str = "skelbehave",
    media_file: str = "",
    n_frames: int | None = None,
) -> pd.DataFrame:
    """A frame-level predictions table as BORIS aggregated events: one STATE row per bout.

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``frame`` and ``label`` columns, and ``individual`` when the table
        holds several individuals (each becomes a BORIS subject; without it:
        ``No focal subject``). Frames labelled ``no_pose`` (nobody present)
        or left empty are in no event.
    fps : float
        Frame rate: frame ``f`` starts at ``f / fps`` seconds.
    observation_id, media_file : str
        BORIS observation id and media file name written in every row.
    n_frames : int, optional
        Frames of the recording (for the media duration; default: last frame + 1).

    Examples
    --------
    >>> t = pd.DataFrame({"frame": range(5), "label": ["a", "a", "b", "no_pose", "a"]})
    >>> boris_events(t, fps=10)[["Behavior", "Start (s)", "Stop (s)"]].values.tolist()
    [['a', '0.000', '0.200'], ['b', '0.200', '0.300'], ['a', '0.400', '0.500']]
    """
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
        raise ParameterError(f"fps must be a positive number (BORIS times are in seconds), got {fps!r}")
    missing = [c for c in ("frame", "label") if c not in predictions.columns]
    if missing:
        raise ParameterError(f"predictions table lacks column(s) {missing}: a frame-level table is needed "
                             f"(it has {list(predictions.columns)})")  # fmt: skip
    groups = (
        list(predictions.groupby("individual", sort=False))
        if "individual" in predictions.columns
        else [(NO_FOCAL_SUBJECT, predictions)]
    )
    total = (
        n_frames if n_frames is not None else int(predictions["frame"].max()) + 1 if len(predictions) else 0
    )
    rows = []
    for who, part in groups:
        part = part.sort_values("frame")
        f = part["frame"].to_numpy(dtype=np.int64)
        y = part["label"].astype(object).where(part["label"].notna(), "").astype(str).to_numpy()
        # a bout ends where the label changes or a frame is missing
        cut = np.flatnonzero((y[1:] != y[:-1]) | (np.diff(f) != 1)) + 1
        starts, stops = np.r_[0, cut], np.r_[cut, len(y)]
        bouts = [
            (f[s], f[e - 1] + 1, y[s])
            for s, e in zip(starts, stops, strict=True)
            if y[s] not in _NOT_BEHAVIOURS
        ]
        subj_total = sum(b - a for a, b, _ in bouts) / fps
        for a, b, lab in bouts:
            values = (
                observation_id, "", "predicted by skelbehave", "Media file", f"player #1:{media_file}",
                "0.000", f"{total / fps:.3f}", f"{fps:.3f}", str(who), f"{subj_total:.3f}", lab, "", "",
                "STATE", f"{a / fps:.3f}", f"{b / fps:.3f}", f"{(b - a) / fps:.3f}", media_file,
                "NA", "NA", "NA", "NA", "", "",
            )  # fmt: skip
            rows.append(dict(zip(BORIS_COLUMNS, values, strict=True)))
    out = pd.DataFrame(rows, columns=list(BORIS_COLUMNS))
    if len(out):
        order = np.lexsort((out["Subject"].to_numpy(), out["Start (s)"].astype(float).to_numpy()))
        out = out.iloc[order].reset_index(drop=True)
    return out


def write_boris_events(
    predictions: pd.DataFrame,
    path,
    *,
    fps: float,
    observation_id: str | None = None,
    media_file: str = "",
    n_frames: int | None = None,
) -> Path:
    """Write a frame-level predictions table as a BORIS aggregated events file (CSV, or TSV for ``.tsv``).

    One STATE row per bout (subject = individual, behavior = label, start /
    stop in seconds with 3 decimals as BORIS writes them); see
    :func:`boris_events`. :func:`read_boris_events` reads it back to the same
    per-frame labels (with ``fill="no_pose"`` for the frames nobody was in).
    The file is written atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> t = pd.DataFrame({"frame": range(4), "label": ["a", "a", "b", "b"]})
    >>> f = write_boris_events(t, os.path.join(tempfile.mkdtemp(), "rec1.boris.csv"), fps=30)
    >>> read_boris_events(f)["No focal subject"].tolist()
    ['a', 'a', 'b', 'b']
    """
    from .._util.fs import atomic_path

    path = Path(path)
    obs = observation_id if observation_id is not None else path.name.split(".")[0]
    table = boris_events(predictions, fps=fps, observation_id=obs, media_file=media_file, n_frames=n_frames)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep=sep, index=False)
    return path
