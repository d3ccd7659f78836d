"""Predictions tables: one recording scored by any model kind (frames, whole sequences or segments)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.fs import atomic_path
from ..errors import ModelFileError, PoseDataError
from ..temporal.presence import present_frames

__all__ = ["is_frame_level", "score_file", "score_sequences"]

_SEGMENT_BATCH = 256


def is_frame_level(model) -> bool:
    """Whether ``model`` labels frames (a :class:`~skelbehave.pipeline.FrameLevelModel`) or whole sequences.

    Any other fitted model with ``classes_`` and ``predict_proba`` over a
    list of pose sequences (:class:`~skelbehave.pipeline.BehaviorModel`, a
    sequence-level CNN) labels whole sequences (or sliding segments of them).

    Raises
    ------
    ModelFileError
        ``model`` is neither.

    Examples
    --------
    >>> from skelbehave.pipeline import BehaviorModel, FrameLevelModel
    >>> is_frame_level(FrameLevelModel())
    True
    """
    from ..pipeline import FrameLevelModel

    if isinstance(model, FrameLevelModel):
        return True
    if hasattr(model, "predict_proba"):
        return False
    raise ModelFileError(
        f"cannot score with a {type(model).__name__}: expected a FrameLevelModel or a model that labels "
        "pose sequences (BehaviorModel)"
    )


def _write_table(df: pd.DataFrame, out: Path, fmt: str) -> None:
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df = df.copy()
            cols = [c for c in df.columns if str(c).startswith("proba_") or str(c).endswith("time")]
            df[cols] = df[cols].round(6)
            df.to_csv(tmp, index=False)


def _individual(seq, i: int):
    return seq.meta.get("person", i)


def _segment_bounds(n_frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of windows ``window`` long every ``stride`` frames; the last one ends at the end.

    A sequence shorter than ``window`` is one segment.

    Examples
    --------
    >>> _segment_bounds(10, 4, 4)
    [(0, 4), (4, 8), (6, 10)]
    >>> _segment_bounds(3, 4, 2)
    [(0, 3)]
    """
    if n_frames <= window:
        return [(0, n_frames)]
    bounds = [(a, a + window) for a in range(0, n_frames - window + 1, stride)]
    if bounds[-1][1] < n_frames:
        bounds.append((n_frames - window, n_frames))
    return bounds


def _clip_table(model, seqs: list, window, stride, fps: float | None) -> pd.DataFrame:
    from ..temporal import to_frames

    classes = list(model.classes_)
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(seqs):
        rate = s.fps or fps
        T = s.n_frames
        if window is None:
            bounds = [(0, T)]
        else:
            w = to_frames(window, rate)
            st = w if stride is None else to_frames(stride, rate)
            bounds = _segment_bounds(T, w, st)
        start0 = int(s.meta.get("start_frame", 0) or 0)
        present = present_frames(s)  # a frame that is all NaN or all zero has no pose
        todo = [k for k, (a, b) in enumerate(bounds) if present[a:b].any()]
        proba = np.full((len(bounds), len(classes)), np.nan)
        for c in range(0, len(todo), _SEGMENT_BATCH):
            part = todo[c : c + _SEGMENT_BATCH]
            proba[part] = model.predict_proba([s[bounds[k][0] : bounds[k][1]] for k in part])
        who = _individual(s, i)
        for k, (a, b) in enumerate(bounds):
            row: dict[str, Any] = {
                "individual": who,
                "start_frame": start0 + a,
                "stop_frame": start0 + b,
                "start_time": (start0 + a) / rate if rate else np.nan,
                "stop_time": (start0 + b) / rate if rate else np.nan,
                # absent in every frame of the segment: no behaviour
                "label": classes[int(np.argmax(proba[k]))] if k in set(todo) else None,
            }
            row.update({f"proba_{c}": proba[k, j] for j, c in enumerate(classes)})
            rows.append(row)
    cols = ["individual", "start_frame", "stop_frame", "start_time", "stop_time", "label"]
    table = pd.DataFrame(rows, columns=cols + [f"proba_{c}" for c in classes])
    table.attrs["n_frames"] = max((s.n_frames for s in seqs), default=0)
    return table


def _abstained(table: pd.DataFrame, model, min_confidence: float | None) -> pd.DataFrame:
    """``"unknown"`` for the labelled rows of a predictions table whose top probability is below the bar."""
    if min_confidence is None:
        return table
    from ..models.calibration import abstain

    classes = list(model.classes_)
    labelled = table["label"].notna().to_numpy()
    proba = table.loc[labelled, [f"proba_{c}" for c in classes]].to_numpy(dtype=float)
    labels = table.loc[labelled, "label"].to_numpy(dtype=object)
    table.loc[labelled, "label"] = abstain(labels, proba, min_confidence, classes=classes)
    return table


def score_sequences(
    model,
    sequences: Sequence,
    *,
    window: int | str | None = None,
    stride: int | str | None = None,
    fps: float | None = None,
    min_confidence: float | None = None,
) -> pd.DataFrame:
    """Predictions table for the pose sequences of one recording (one sequence per individual).

    Parameters
    ----------
    model : FrameLevelModel, BehaviorModel or another clip-level model
        A fitted model (see :func:`is_frame_level`).
    sequences : list of PoseSequence
        One recording: one sequence per person or animal, as
        :func:`skelbehave.io.read_poses` returns them.
    window, stride : int or str, optional
        Clip-level models only: score sliding segments ``window`` long (frames,
        or a duration such as ``"2s"`` / ``"500ms"``, see
        :func:`skelbehave.temporal.to_frames`), one every ``stride`` (default
        ``window``: back to back; the last segment ends at the last frame).
        Without ``window``: one row per individual for the whole recording.
    fps : float, optional
        Frame rate of sequences that carry none (for durations and times).
    min_confidence : float in [0, 1], optional
        Abstain: a row whose top probability is below it gets the label
        ``"unknown"`` (see :func:`skelbehave.models.calibration.abstain`); its
        probabilities are kept. Rows without a label (absent) stay without one.

    Returns
    -------
    pandas.DataFrame
        Frame-level models: ``individual, frame, time, label,
        proba_<class>...`` (no ``individual`` column when a model of k > 1
        individuals scores them together). Clip-level
        models: ``individual, start_frame, stop_frame, start_time,
        stop_time, label, proba_<class>...`` (``stop_frame`` exclusive; times
        in seconds, NaN without a frame rate; ``label`` empty where the
        individual is absent in every frame of the segment).
        ``attrs["n_frames"]``: frames of the longest sequence.

    Raises
    ------
    PoseDataError
        No sequence; a frame-level model given ``window`` / ``stride`` (its
        window is fixed at training); a duration without a frame rate; a
        frame-level model for k individuals and a file with another number.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave import PoseSequence
    >>> from skelbehave.pipeline import BehaviorModel
    >>> from skelbehave.encoding import VLADEncoder
    >>> rng = np.random.default_rng(0)
    >>> X = [PoseSequence(np.cumsum(rng.normal(size=(30, 20, 3)), 0) * (1 + k % 2), "msr20", fps=15)
    ...      for k in range(12)]
    >>> model = BehaviorModel(encoder=VLADEncoder(n_clusters=2), random_state=0)
    >>> model = model.fit(X, ["still" if k % 2 == 0 else "moving" for k in range(12)])
    >>> table = score_sequences(model, [X[1]], window="1s", stride=10)
    >>> table[["start_frame", "stop_frame", "label"]].values.tolist()
    [[0, 15, 'moving'], [10, 25, 'moving'], [15, 30, 'moving']]
    """
    seqs = list(sequences)
    if not seqs:
        raise PoseDataError("no pose sequence to score")
    if fps is not None:
        seqs = [s if s.fps is not None else s.copy(fps=fps) for s in seqs]
    if not is_frame_level(model):
        return _abstained(_clip_table(model, seqs, window, stride, fps), model, min_confidence)
    if window is not None or stride is not None:
        raise PoseDataError(
            f"a frame-level model's window is fixed when it is trained ({model.window_frames_} frames); "
            "window and stride choose segments for clip-level models only"
        )
    n_ind = model.n_individuals_
    if n_ind == 1:  # one individual at a time: every table names it
        tables = []
        for i, s in enumerate(seqs):
            t = model.predict_table([s])
            t.insert(0, "individual", _individual(s, i))
            tables.append(t)
        table = pd.concat(tables, ignore_index=True)
    elif len(seqs) == n_ind:  # the individuals together (e.g. a dyad): one label per frame
        table = model.predict_table(seqs)
    else:
        raise PoseDataError(
            f"the model scores recordings of {n_ind} individuals together, but this one holds {len(seqs)}"
        )
    table.attrs["n_frames"] = int(table["frame"].nunique())
    return _abstained(table, model, min_confidence)


def score_file(
    model,
    path: str | os.PathLike,
    *,
    format: str = "auto",
    fps: float | None = None,
    window: int | str | None = None,
    stride: int | str | None = None,
    individual: int | str | list | None = None,
    min_confidence: float | None = None,
) -> pd.DataFrame:
    """Predictions for one pose file, with any model (see :func:`score_sequences`).

    Parameters
    ----------
    model : FrameLevelModel, BehaviorModel or another clip-level model
    path : path
        Pose file (the package's pose CSV, DeepLabCut single- or multi-animal CSV, ...).
    format : str
        Reader format (``"auto"`` detects it).
    fps : float, optional
        Frame rate when the file does not state one (DeepLabCut). Without it
        times are NaN, and durations (``window="2s"``) cannot be used.
    window, stride : int or str, optional
        Sliding segments for clip-level models (see :func:`score_sequences`).
    individual : int, str or list, optional
        Only these individuals (see :func:`skelbehave.pose.tracking.select_individuals`).
    min_confidence : float in [0, 1], optional
        ``"unknown"`` below it (see :func:`score_sequences`).

    Returns
    -------
    pandas.DataFrame
        As :func:`score_sequences`; clip-level tables start with an ``input``
        column (the file).

    Examples
    --------
    >>> # table = score_file(skelbehave.load("msr.skb"), "poses/clip.pose.csv", window="2s")
    """
    from ..io import read_poses

    kw = {"fps": fps} if fps is not None else {}
    seqs = read_poses(path, format=format, **kw)
    if not seqs:
        raise PoseDataError("the file holds no pose sequence", path=path)
    if individual is not None:
        from ..pose.tracking import select_individuals

        seqs = select_individuals(seqs, individual, path=path)
    try:
        table = score_sequences(
            model, seqs, window=window, stride=stride, fps=fps, min_confidence=min_confidence
        )
    except PoseDataError as exc:
        if exc.path is not None:
            raise
        raise PoseDataError(exc.reason, path=path) from None
    if not is_frame_level(model):
        n_frames = table.attrs.get("n_frames")
        table.insert(0, "input", str(path))
        table.attrs["n_frames"] = n_frames
    return table


def _write_ethogram(table: pd.DataFrame, classes: list, output: Path, title: str) -> None:
    """Ethogram PNG and bout table CSV next to a predictions file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import plot_ethogram
    from ..temporal import bout_table

    stem = output.name.split(".predictions")[0]
    groups = list(table.groupby("individual", sort=False)) if "individual" in table else [(None, table)]
    # time = frame / fps: recover fps (None when the time column is empty)
    f, t = table["frame"].to_numpy()[:2], table["time"].to_numpy()[:2]
    fps = (
        float((f[1] - f[0]) / (t[1] - t[0])) if len(t) == 2 and np.isfinite(t).all() and t[1] > t[0] else None
    )
    height = 1.2 + 0.45 * len(classes) * len(groups)
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, height), squeeze=False)
    bouts = []
    for ax, (who, part) in zip(axes[:, 0], groups, strict=True):
        name = title if who is None else f"{title}: {who}"
        plot_ethogram(part["label"].to_numpy(), fps=fps, classes=classes, title=name, ax=ax)
        b = bout_table(part["label"].to_numpy(), fps=fps, classes=classes)
        if who is not None:
            b.insert(0, "individual", who)
        bouts.append(b)
    fig.tight_layout()
    with atomic_path(output.with_name(f"{stem}.ethogram.png")) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    with atomic_path(output.with_name(f"{stem}.bouts.csv")) as tmp:
        pd.concat(bouts).to_csv(tmp)
