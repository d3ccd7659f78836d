"""Post-processing of per-frame labels: runs, smoothing, bouts.

- :func:`runs` - runs of equal labels.
- :func:`median_smooth`, :func:`min_bout_length` - smoothing of frame
  probabilities and labels.
- :func:`segments`, :func:`bout_table` - bouts of one recording and a
  summary per label.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .presence import NO_POSE, stretches
from .windows import to_frames

__all__ = [
    "absent_labels", "bout_table", "median_smooth", "min_bout_length", "runs", "segment_frames", "segments",
]  # fmt: skip


def absent_labels(labels) -> np.ndarray:
    """Boolean mask of labels that mean "no pose": negative class indices, :data:`NO_POSE`, None or NaN.

    Examples
    --------
    >>> absent_labels(np.array([0, -1, 2])).tolist()
    [False, True, False]
    >>> absent_labels(np.array(["sit", "no_pose"], dtype=object)).tolist()
    [False, True]
    """
    y = np.asarray(labels)
    if y.dtype.kind in "iu":
        return y < 0
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind in "US":
        return y == NO_POSE
    return np.array(
        [v is None or v == NO_POSE or (isinstance(v, float) and v != v) for v in y.ravel()], dtype=bool
    ).reshape(y.shape)


def runs(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal labels: ``(starts, stops, values)``, ``stop`` exclusive.

    Examples
    --------
    >>> s, e, v = runs([0, 0, 1, 1, 1, 0])
    >>> s.tolist(), e.tolist(), v.tolist()
    ([0, 2, 5], [2, 5, 6], [0, 1, 0])
    """
    y = np.asarray(labels)
    if len(y) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, y[:0]
    change = np.flatnonzero(y[1:] != y[:-1]) + 1
    starts = np.r_[0, change].astype(np.int64)
    stops = np.r_[change, len(y)].astype(np.int64)
    return starts, stops, y[starts]


def _length(value: int | str, fps: float | None) -> int:
    """A filter length in frames: an int as it is (0 and 1 switch the filter off), else :func:`to_frames`."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return to_frames(value, fps)


def median_smooth(proba: np.ndarray, size: int | str, fps: float | None = None) -> np.ndarray:
    """Median filter of per-frame class probabilities along time.

    Each class's probability track is median-filtered with a window of
    ``size`` frames (edges reflected), then rows are renormalised; the
    label is the argmax afterwards. ``size <= 1`` returns a copy.

    Parameters
    ----------
    proba : ndarray (T, n_classes)
    size : int or str
        Frames, or a duration (``"300ms"``, ``"0.5s"``) converted with ``fps``.
    fps : float, optional
        Frame rate, for a duration.

    Examples
    --------
    >>> p = np.array([[1, 0], [1, 0], [0, 1], [1, 0], [1, 0.]])
    >>> median_smooth(p, 3).argmax(1).tolist()
    [0, 0, 0, 0, 0]
    >>> median_smooth(p, "100ms", fps=30).argmax(1).tolist()  # 3 frames
    [0, 0, 0, 0, 0]
    """
    from scipy.ndimage import median_filter

    size = _length(size, fps)
    proba = np.asarray(proba, dtype=np.float64)
    if size <= 1 or len(proba) == 0:
        return proba.copy()
    out = median_filter(proba, size=(int(size), 1), mode="nearest")
    s = out.sum(axis=1, keepdims=True)
    return np.where(s > 0, out / np.where(s > 0, s, 1.0), proba)


def min_bout_length(
    labels: np.ndarray, min_length: int | str, proba: np.ndarray | None = None, fps: float | None = None
) -> np.ndarray:
    """Remove bouts shorter than ``min_length`` by merging them into a neighbour.

    ``min_length`` is frames, or a duration (``"2s"``, ``"500ms"``)
    converted with ``fps``.

    Short bouts are dissolved shortest first; a dissolved bout takes the label
    of the neighbour with the higher mean probability over the bout (when
    ``proba`` is given, else the longer neighbour). Bouts at least
    ``min_length`` long are never changed, except when a whole sequence is
    shorter than ``min_length``.

    Examples
    --------
    >>> min_bout_length(np.array([0, 0, 0, 1, 0, 0, 2, 2, 2]), 2).tolist()
    [0, 0, 0, 0, 0, 0, 2, 2, 2]
    >>> min_bout_length(np.array([0, 0, 0, 1, 0, 0, 2, 2, 2]), "100ms", fps=20).tolist()  # 2 frames
    [0, 0, 0, 0, 0, 0, 2, 2, 2]

    Absent frames (class index :data:`~skelbehave.temporal.ABSENT` or label
    :data:`~skelbehave.temporal.NO_POSE`) are never changed and no bout
    merges across them:

    >>> min_bout_length(np.array([0, 0, 0, -1, 1, 0, 0]), 2).tolist()
    [0, 0, 0, -1, 0, 0, 0]
    """
    min_length = _length(min_length, fps)
    y = np.asarray(labels).copy()
    if min_length <= 1 or len(y) == 0:
        return y
    absent = absent_labels(y)
    if absent.any():  # absent frames split the recording; each present stretch is smoothed alone
        for a, b in stretches(~absent):
            y[a:b] = min_bout_length(y[a:b], min_length, None if proba is None else proba[a:b])
        return y
    while True:
        s, e, v = runs(y)
        if len(s) <= 1:
            return y
        lens = e - s
        short = np.flatnonzero(lens < min_length)
        if len(short) == 0:
            return y
        i = int(short[np.argmin(lens[short])])
        cands = [j for j in (i - 1, i + 1) if 0 <= j < len(s)]
        if proba is not None:
            score = [proba[s[i] : e[i], int(v[j])].mean() for j in cands]
        else:
            score = [lens[j] for j in cands]
        j = cands[int(np.argmax(score))]
        y[s[i] : e[i]] = v[j]


def segments(labels, proba: np.ndarray | None = None, fps: float | None = None, classes=None) -> pd.DataFrame:
    """Bouts of one label as a table: start, end (exclusive), label, score.

    Parameters
    ----------
    labels : array-like (T,)
        Per-frame labels (class indices when ``classes`` is given).
    proba : ndarray (T, n_classes), optional
        Per-frame class probabilities; ``score`` is the mean probability of
        the bout's class over the bout (NaN without it).
    fps : float, optional
        Adds ``start_time``, ``end_time`` and ``duration`` in seconds.
    classes : sequence, optional
        Names of class indices.

    Frames without a pose (class index :data:`~skelbehave.temporal.ABSENT`,
    or the label :data:`~skelbehave.temporal.NO_POSE`) form no bout.

    Examples
    --------
    >>> segments([0, -1, -1, 1])["start"].tolist()
    [0, 3]
    >>> seg = segments([0, 0, 1, 1, 1, 0], fps=2.0)
    >>> seg["end"].tolist(), seg["label"].tolist(), seg["duration"].tolist()
    ([2, 5, 6], [0, 1, 0], [1.0, 1.5, 0.5])
    """
    y = np.asarray(labels)
    s, e, v = runs(y)
    keep = ~absent_labels(v)  # no bout of absent frames
    s, e, v = s[keep], e[keep], v[keep]
    if proba is not None:
        cs = np.vstack([np.zeros((1, proba.shape[1])), np.cumsum(np.nan_to_num(proba), axis=0)])
        idx = v.astype(np.int64) if np.issubdtype(v.dtype, np.integer) else None
        if idx is None and classes is not None:
            lookup = {c: k for k, c in enumerate(classes)}
            idx = np.array([lookup[x] for x in v], dtype=np.int64)
        score = (cs[e, idx] - cs[s, idx]) / (e - s) if idx is not None else np.full(len(s), np.nan)
    else:
        score = np.full(len(s), np.nan)
    names = np.asarray(classes, dtype=object)[v.astype(np.int64)] if classes is not None else v
    df = pd.DataFrame({"start": s, "end": e, "label": names, "score": score})
    if fps is not None:
        df["start_time"] = s / fps
        df["end_time"] = e / fps
        df["duration"] = (e - s) / fps
    return df


def bout_table(labels, fps: float | None = None, classes=None) -> pd.DataFrame:
    """Time spent and number of bouts per behaviour.

    Parameters
    ----------
    labels : array-like, or list of array-like (pooled)
        Per-frame labels.
    fps : float, optional
        Adds ``seconds`` and ``mean_bout_s``.
    classes : sequence, optional
        Names of class indices; also fixes the row order (absent classes get 0).

    Frames without a pose (:data:`~skelbehave.temporal.NO_POSE`, or
    :data:`~skelbehave.temporal.ABSENT` class indices) are left out: fractions
    are of the frames with a pose.

    Examples
    --------
    >>> tab = bout_table(["sit", "no_pose", "sit", "walk"])
    >>> tab["fraction"].round(3).tolist(), tab["bouts"].tolist()
    ([0.667, 0.333], [2, 1])
    >>> tab = bout_table([0, 0, 1, 1, 1, 0], fps=1.0)
    >>> tab["bouts"].tolist(), tab["seconds"].tolist(), tab["mean_bout_s"].tolist()
    ([2, 1], [3.0, 3.0], [1.5, 3.0])
    """
    seqs = labels if (isinstance(labels, list) and len(labels) and np.ndim(labels[0]) == 1) else [labels]
    frames: dict[Any, int] = {}
    bouts: dict[Any, int] = {}
    total = 0
    for lab in seqs:
        y = np.asarray(lab)
        _, _, v = runs(y)
        v = v[~absent_labels(v)]  # an absent stretch splits bouts and is no bout itself
        y = y[~absent_labels(y)]  # frames without a pose are in no time budget
        if classes is not None and np.issubdtype(y.dtype, np.integer):
            y = np.asarray(classes, dtype=object)[y]
            v = np.asarray(classes, dtype=object)[v]
        total += len(y)
        for c, n in zip(*np.unique(y, return_counts=True), strict=True):
            c = c.item() if hasattr(c, "item") else c
            frames[c] = frames.get(c, 0) + int(n)
        for c, n in zip(*np.unique(v, return_counts=True), strict=True):
            c = c.item() if hasattr(c, "item") else c
            bouts[c] = bouts.get(c, 0) + int(n)
    order = list(classes) if classes is not None else sorted(frames, key=str)
    df = pd.DataFrame(
        {
            "frames": [frames.get(c, 0) for c in order],
            "fraction": [frames.get(c, 0) / total if total else 0.0 for c in order],
            "bouts": [bouts.get(c, 0) for c in order],
        },
        index=pd.Index(order, name="label"),
    )
    df["mean_bout_frames"] = np.where(df["bouts"] > 0, df["frames"] / df["bouts"].clip(lower=1), 0.0)
    if fps is not None:
        df["seconds"] = df["frames"] / fps
        df["mean_bout_s"] = df["mean_bout_frames"] / fps
    return df


def segment_frames(table: pd.DataFrame) -> pd.DataFrame:
    """Per-frame labels from a clip-level table of (sliding) segments, for bouts and time budgets.

    Each frame gets the row of the segment whose centre is nearest among the
    segments that cover it (its ``label`` and ``proba_<class>`` columns);
    frames no segment covers, and segments without a label (the individual
    absent), get no label. Times are ``frame / fps``, the frame rate read
    from the segments' ``start_time`` / ``stop_time`` (NaN without them).

    Parameters
    ----------
    table : DataFrame
        ``start_frame``, ``stop_frame`` (exclusive), ``label``, optionally
        ``individual``, ``start_time``, ``stop_time``, ``proba_<class>`` — as
        :func:`skelbehave.batch.score_sequences` writes for clip-level models.

    Returns
    -------
    DataFrame
        ``individual`` (when the table has one), ``frame``, ``time``,
        ``label``, ``proba_<class>``...: a frame-level predictions table.

    Examples
    --------
    >>> t = pd.DataFrame({"start_frame": [0, 2, 4], "stop_frame": [4, 6, 8], "label": ["sit", "sit", "walk"],
    ...                   "start_time": [0.0, 1.0, 2.0], "stop_time": [2.0, 3.0, 4.0]})
    >>> f = segment_frames(t)
    >>> f["label"].tolist(), f["time"].tolist()[:3]
    (['sit', 'sit', 'sit', 'sit', 'sit', 'walk', 'walk', 'walk'], [0.0, 0.5, 1.0])
    """
    need = {"start_frame", "stop_frame", "label"}
    if not need <= set(table.columns):
        raise ParameterError(f"a segment table needs the columns {sorted(need)}, got {list(table.columns)}")
    proba = [c for c in table.columns if c.startswith("proba_")]
    by_individual = "individual" in table.columns
    groups = list(table.groupby("individual", sort=False)) if by_individual else [(None, table)]
    out = []
    for who, part in groups:
        a = part["start_frame"].to_numpy(dtype=np.int64)
        b = part["stop_frame"].to_numpy(dtype=np.int64)
        if not len(a):
            continue
        f0 = int(a.min())
        frames = np.arange(f0, int(b.max()))
        best = np.full(len(frames), -1)
        dist = np.full(len(frames), np.inf)
        centre = (a + b - 1) / 2.0
        for k in range(len(a)):
            sl = slice(int(a[k]) - f0, int(b[k]) - f0)
            d = np.abs(frames[sl] - centre[k])
            closer = d < dist[sl]
            best[sl][closer] = k
            dist[sl][closer] = d[closer]
        rate = np.nan
        if {"start_time", "stop_time"} <= set(part.columns):
            span = (part["stop_time"] - part["start_time"]).to_numpy(dtype=float)
            ok = np.isfinite(span) & (span > 0) & (b > a)
            if ok.any():
                rate = float(np.median((b - a)[ok] / span[ok]))
        labels = part["label"].astype(object).where(part["label"].notna(), None).to_numpy()
        covered = best >= 0
        frame = pd.DataFrame({"frame": frames, "time": frames / rate})
        frame["label"] = np.where(covered, labels[np.maximum(best, 0)], None)
        for c in proba:
            v = part[c].to_numpy(dtype=float)
            frame[c] = np.where(covered, v[np.maximum(best, 0)], np.nan)
        if who is not None:
            frame.insert(0, "individual", who)
        out.append(frame)
    cols = (["individual"] if "individual" in table.columns else []) + ["frame", "time", "label", *proba]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)
