"""BORIS (Behavioral Observation Research Interactive Software) events exports as per-frame labels, and back.

Read: the *aggregated events* table (``Subject``, ``Behavior``, ``Behavior
type`` STATE / POINT, ``Start (s)``, ``Stop (s)``, ``FPS``) or the *tabular
events* table (``Time`` and a ``Behavior type`` / ``Status`` of START / STOP /
POINT, possibly after a preamble), CSV or TSV; one column per subject.
Write: predictions as an aggregated events table, one STATE row per bout.
Use :func:`skelbehave.io.annotations.read_annotations` to read any annotation format.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError, PoseDataError
from ._intervals import check_no_overlap, intervals_to_frames, read_head
from .files import open_regular

__all__ = ["BORIS_COLUMNS", "NO_FOCAL_SUBJECT", "boris_events", "read_boris_events", "write_boris_events"]

log = logging.getLogger(__name__)

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


def _boris_header_line(lines: list[str]) -> int | None:
    """Index of the table's header (fields ``Subject`` and ``Behavior``) among the first lines, if any.

    BORIS's aggregated export starts with it; older tabular exports put a
    preamble (observation id, media files, ...) before it.
    """
    for i, line in enumerate(lines[:60]):
        fields = {f.strip().strip('"').lower() for f in line.replace("\t", ",").split(",")}
        if {"subject", "behavior"} <= fields:
            return i
    return None


def _boris_table(path) -> tuple[pd.DataFrame, Path]:
    p, head = read_head(path)
    lines = head.splitlines()
    skip = _boris_header_line(lines) or 0
    first = lines[skip] if lines else ""
    sep = "\t" if (p.suffix.lower() == ".tsv" or first.count("\t") > first.count(",")) else ","
    try:
        with open_regular(p) as fh:
            df = pd.read_csv(
                fh, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig", skiprows=skip
            )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PoseDataError(f"not a readable BORIS table: {' '.join(str(exc).split())}", path=p) from None
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["first_line"] = skip + 2  # file line of the first row
    missing = [c for c in ("Subject", "Behavior") if c not in df.columns]
    if missing:
        raise PoseDataError(f"missing BORIS column(s) {missing}; found {list(df.columns)}", path=p, line=1)
    df["Subject"] = df["Subject"].str.strip().replace("", NO_FOCAL_SUBJECT)
    return df, p


def _seconds(values: pd.Series, p: Path, column: str, lines: np.ndarray) -> np.ndarray:
    t = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if len(bad):
        r = int(bad[0])
        msg = f"expected a time >= 0 in seconds, found {values.iloc[r]!r}"
        raise PoseDataError(msg, path=p, line=int(lines[r]), column=column)
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
    first = int(df.attrs.get("first_line", 2))
    lines = np.arange(len(df)) + first
    if {"Start (s)", "Stop (s)"} <= set(df.columns):  # aggregated events
        keep = (kind != "POINT").to_numpy()
        start = _seconds(df["Start (s)"][keep], p, "Start (s)", lines[keep])
        stop = _seconds(df["Stop (s)"][keep], p, "Stop (s)", lines[keep])
        sub, beh = df["Subject"][keep].tolist(), df["Behavior"][keep].str.strip().tolist()
        out = list(zip(sub, beh, start.tolist(), stop.tolist(), lines[keep].tolist(), strict=True))
        skipped = int((~keep).sum())
    elif "Time" in df.columns and kind_col is not None:  # tabular events: pair START / STOP
        t = _seconds(df["Time"], p, "Time", lines)
        open_: dict[tuple[str, str], tuple[float, int]] = {}
        out, skipped = [], 0
        for i, (s, b, k) in enumerate(zip(df["Subject"], df["Behavior"].str.strip(), kind, strict=True)):
            if k == "START":
                if (s, b) in open_:
                    raise PoseDataError(
                        f"{b!r} of {s!r} starts again before it stops",
                        path=p,
                        line=i + first,
                        column=kind_col,
                    )
                open_[(s, b)] = (t[i], i + first)
            elif k == "STOP":
                if (s, b) not in open_:
                    raise PoseDataError(
                        f"{b!r} of {s!r} stops without a START", path=p, line=i + first, column=kind_col
                    )
                t0, line = open_.pop((s, b))
                out.append((s, b, t0, t[i], line))
            elif k == "POINT":
                skipped += 1
            else:
                raise PoseDataError(
                    f"expected START, STOP or POINT, found {k!r}", path=p, line=i + first, column=kind_col
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
        check_no_overlap(bouts, p, f"subject {name}")
    out = intervals_to_frames(streams, n_frames, fill, p)
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
