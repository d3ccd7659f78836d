"""Metrics and reports: clips, frames and segments.

Clip-level part: accuracy, macro F1, per-class report and
confusion matrix of a fitted model on labelled sequences, and evaluation on a
data set's standard cross-subject split.

Frame and segment part:
Frame-level scores compare two label sequences frame by frame (accuracy,
macro F1, per-class F1). Segment-level F1 turns both sequences into bouts
(runs of one label) and matches predicted bouts to true bouts of the same
label whose temporal IoU reaches a threshold (the ``F1@k`` of action
segmentation, Lea et al. 2017 / Farha & Gall 2019): each true bout is
matched at most once, greedily by decreasing IoU.

All functions accept one label sequence, or a list of sequences (one per
recording) which are scored together: frame scores pool all frames;
segment scores pool the bouts, which never cross recordings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError
from .temporal.segments import absent_labels, runs, segment_frames

__all__ = [
    "ClassificationReport",
    "classification_report",
    "evaluate",
    "evaluate_split",
    # frame-level and segment-level metrics
    "frame_accuracy",
    "frame_f1",
    "frame_report",
    "segment_f1",
    # predictions
    "fps_from_times",
    "prediction_tables",
    "summarize_predictions",
]


# ============================================================================ clip level
@dataclass
class ClassificationReport:
    """Clip-level evaluation of a classifier.

    Attributes
    ----------
    accuracy : float
    macro_f1 : float
        Unweighted mean of per-class F1 over the classes present in
        ``y_true`` or ``y_pred``.
    per_class : pandas.DataFrame
        Index = class (name when known); columns precision, recall, f1, support.
    confusion : pandas.DataFrame
        Rows = true class, columns = predicted class, counts.
    y_true, y_pred : ndarray
    timings : dict
        ``fit_s``, ``predict_s`` and ``predict_per_s`` (sequences per second)
        when measured.
    n_no_pose : int
        Sequences predicted ``"no_pose"`` (no valid frame): left out of
        every figure above.
    """

    accuracy: float
    macro_f1: float
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    n_no_pose: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Headline figures as a flat dict (accuracy, macro_f1, n, timings)."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n": len(self.y_true),
            "n_no_pose": self.n_no_pose,
            **self.timings,
        }

    def __str__(self) -> str:
        lines = [f"accuracy {self.accuracy:.4f}  macro F1 {self.macro_f1:.4f}  (n = {len(self.y_true)})"]
        if self.n_no_pose:
            lines[0] += f"  {self.n_no_pose} without a pose, not scored"
        if self.timings:
            lines.append("  ".join(f"{k} {v:.3g}" for k, v in self.timings.items()))
        lines.append(self.per_class.to_string(float_format=lambda v: f"{v:.3f}"))
        return "\n".join(lines)


def classification_report(y_true, y_pred, class_names=None) -> ClassificationReport:
    """Accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like
        True and predicted labels.
    class_names : mapping, optional
        Label -> display name (e.g. ``Dataset.class_names``).

    Sequences predicted :data:`~skelbehave.temporal.NO_POSE` (no valid
    frame, see :meth:`skelbehave.BehaviorModel.predict`) are not scored;
    their number is ``n_no_pose``.

    Examples
    --------
    >>> classification_report(["a", "b", "a"], np.array(["a", "b", "no_pose"], dtype=object)).n_no_pose
    1
    >>> r = classification_report([0, 0, 1, 1], [0, 1, 1, 1], class_names={0: "wave", 1: "clap"})
    >>> r.accuracy, round(r.macro_f1, 3)
    (0.75, 0.733)
    >>> r.confusion.loc["wave", "clap"]
    np.int64(1)
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ParameterError(
            f"y_true and y_pred must be 1-D and equal in length, got {y_true.shape}, {y_pred.shape}"
        )
    scored = ~_no_pose(y_pred)
    full_true, full_pred = y_true, y_pred
    y_true, y_pred = y_true[scored], y_pred[scored]
    if not scored.all() and y_pred.dtype == object:
        y_pred = y_pred.astype(y_true.dtype)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    names = [class_names.get(k, str(k)) if class_names else k for k in labels.tolist()]
    per_class = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": s}, index=pd.Index(names, name="class")
    )
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    confusion = pd.DataFrame(
        cm, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted")
    )
    return ClassificationReport(
        accuracy=float((y_true == y_pred).mean()) if len(y_true) else float("nan"),
        macro_f1=float(f.mean()) if len(f) else float("nan"),
        per_class=per_class,
        confusion=confusion,
        y_true=full_true,
        y_pred=full_pred,
        n_no_pose=int((~scored).sum()),
    )


def evaluate(model, X, y, class_names=None) -> ClassificationReport:
    """Evaluate a fitted model on labelled sequences (times the prediction).

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.pipeline import BehaviorModel
    >>> from skelbehave.encoding import VLADEncoder
    >>> X = [np.random.default_rng(k).normal(size=(20, 20, 3)) * (1 + k % 2) for k in range(8)]
    >>> y = [k % 2 for k in range(8)]
    >>> m = BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="msr20", random_state=0).fit(X, y)
    >>> evaluate(m, X, y).accuracy
    1.0
    """
    t0 = time.perf_counter()
    pred = model.predict(X)
    dt = time.perf_counter() - t0
    rep = classification_report(y, pred, class_names=class_names)
    rep.timings = {"predict_s": dt, "predict_per_s": len(rep.y_true) / dt if dt > 0 else float("inf")}
    return rep


def evaluate_split(model, dataset, *, fit: bool = True) -> ClassificationReport:
    """Fit on a data set's standard cross-subject training set and evaluate on its test set.

    Parameters
    ----------
    model : estimator
        A :class:`~skelbehave.pipeline.BehaviorModel` (or any classifier of
        sequences). Fitted in place when ``fit`` is True.
    dataset : skelbehave.datasets.Dataset
        Clip-labelled data set with ``train_test_split()``.
    fit : bool
        False evaluates an already fitted model on the test subjects only.

    Examples
    --------
    >>> from skelbehave.datasets import load_precog
    >>> from skelbehave.pipeline import BehaviorModel
    >>> from skelbehave.encoding import VLADEncoder
    >>> ds = load_precog(trimmed=True)
    >>> rep = evaluate_split(BehaviorModel(encoder=VLADEncoder(n_clusters=4), random_state=0), ds)
    >>> rep.accuracy > 0.5
    True
    """
    if getattr(dataset, "frame_level", False):
        raise ParameterError(f"{dataset.name} has frame labels; use the frame-level metrics for it")
    tr, te = dataset.train_test_split()
    seqs = dataset.sequences
    y = np.asarray(dataset.labels)
    timings: dict[str, float] = {}
    if fit:
        t0 = time.perf_counter()
        model.fit([seqs[i] for i in tr], y[tr])
        timings["fit_s"] = time.perf_counter() - t0
    rep = evaluate(model, [seqs[i] for i in te], y[te], class_names=getattr(dataset, "class_names", None))
    rep.timings = {**timings, **rep.timings}
    return rep


# --------------------------------------------------------------------------- frames and segments
def _as_list(y) -> list[np.ndarray]:
    if isinstance(y, np.ndarray) and y.ndim == 1:
        return [y]
    if isinstance(y, (pd.Series,)):
        return [y.to_numpy()]
    if isinstance(y, Sequence) and len(y) and np.ndim(y[0]) == 0:
        return [np.asarray(y)]
    return [np.asarray(v) for v in y]


def _pair(y_true, y_pred) -> tuple[list[np.ndarray], list[np.ndarray]]:
    yt, yp = _as_list(y_true), _as_list(y_pred)
    if len(yt) != len(yp):
        raise ParameterError(f"got {len(yt)} true label sequences but {len(yp)} predicted ones")
    for i, (a, b) in enumerate(zip(yt, yp, strict=True)):
        if len(a) != len(b):
            raise ParameterError(f"sequence {i}: {len(a)} true labels but {len(b)} predicted labels")
    return yt, yp


def _no_pose(y: np.ndarray) -> np.ndarray:
    """Predictions that are "no pose" (``"no_pose"``, None, NaN); integer labels never are."""
    y = np.asarray(y)
    return np.zeros(len(y), dtype=bool) if y.dtype.kind in "iub" else absent_labels(y)


def _mask(yt: np.ndarray, ignore, yp: np.ndarray | None = None) -> np.ndarray:
    """Frames scored: true label not ignored and (with ``yp``) a prediction that is not "no pose"."""
    m = np.ones(len(yt), dtype=bool) if yp is None else ~_no_pose(yp)
    if ignore is None:
        return m
    ign = np.atleast_1d(np.asarray(ignore, dtype=yt.dtype if yt.dtype != object else object))
    return m & ~np.isin(yt, ign)


def frame_accuracy(y_true, y_pred, *, ignore=None) -> float:
    """Fraction of frames whose predicted label equals the true one.

    Parameters
    ----------
    y_true, y_pred : array-like or list of array-like
        Per-frame labels (one sequence, or one per recording).
    ignore : label or list of labels, optional
        Frames whose *true* label is one of these are left out (e.g. an
        unannotated ``"base"`` stream).

    Frames predicted :data:`~skelbehave.temporal.NO_POSE` (nobody present)
    are left out too (here, in :func:`frame_f1` and :func:`frame_report`).

    Examples
    --------
    >>> frame_accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    >>> frame_accuracy(["a", "b", "b"], ["a", "no_pose", "a"])
    0.5
    """
    yt, yp = _pair(y_true, y_pred)
    hit = n = 0
    for a, b in zip(yt, yp, strict=True):
        m = _mask(a, ignore, b)
        hit += int(np.sum(a[m] == b[m]))
        n += int(m.sum())
    return hit / n if n else float("nan")


def frame_f1(y_true, y_pred, *, labels=None, average: str | None = "macro", ignore=None):
    """Frame-level F1 score, per class or macro-averaged.

    Parameters
    ----------
    y_true, y_pred : array-like or list of array-like
        Per-frame labels.
    labels : list, optional
        Classes to score (and average over). Default: every label seen in
        ``y_true``. Pass e.g. ``range(1, 9)`` to average over actions only
        while a background class 0 is still predicted and counted as an
        error where it is wrong.
    average : {"macro", None}
        ``"macro"``: unweighted mean over ``labels``; ``None``: a dict
        ``{label: F1}``.
    ignore : label or list of labels, optional
        Frames whose true label is one of these are left out.

    Examples
    --------
    >>> frame_f1([0, 1, 1, 2], [0, 1, 2, 2], labels=[1, 2])
    0.6666666666666666
    >>> frame_f1([0, 1, 1, 2], [0, 1, 2, 2], average=None)
    {0: 1.0, 1: 0.6666666666666666, 2: 0.6666666666666666}
    """
    yt, yp = _pair(y_true, y_pred)
    m = [_mask(a, ignore, b) for a, b in zip(yt, yp, strict=True)]
    t = np.concatenate([a[k] for a, k in zip(yt, m, strict=True)]) if yt else np.array([])
    p = np.concatenate([b[k] for b, k in zip(yp, m, strict=True)]) if yp else np.array([])
    if labels is None:
        labels = [v.item() if hasattr(v, "item") else v for v in np.unique(t)]
    else:
        labels = list(labels)
    out = {}
    for c in labels:
        tp = int(np.sum((t == c) & (p == c)))
        fp = int(np.sum((t != c) & (p == c)))
        fn = int(np.sum((t == c) & (p != c)))
        out[c] = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
    if average is None:
        return out
    if average != "macro":
        raise ParameterError(f"average must be 'macro' or None, got {average!r}")
    return float(np.mean(list(out.values()))) if out else float("nan")


def _segment_counts(yt, yp, c, threshold, ignore) -> tuple[int, int, int]:
    ts, te, tv = runs(yt)
    ps, pe, pv = runs(yp)
    keep_t = tv == c
    keep_p = pv == c
    ts, te = ts[keep_t], te[keep_t]
    ps, pe = ps[keep_p], pe[keep_p]
    if ignore is not None and len(ps):
        # a predicted bout lying entirely in ignored frames is neither right nor wrong
        ign = ~_mask(yt, ignore)
        cs = np.r_[0, np.cumsum(ign)]
        inside = (cs[pe] - cs[ps]) == (pe - ps)
        ps, pe = ps[~inside], pe[~inside]
    if len(ts) == 0 or len(ps) == 0:
        return 0, len(ps), len(ts)
    inter = np.clip(np.minimum(pe[:, None], te[None, :]) - np.maximum(ps[:, None], ts[None, :]), 0, None)
    union = np.maximum(pe[:, None], te[None, :]) - np.minimum(ps[:, None], ts[None, :])
    iou = inter / union
    order = np.argsort(-iou, axis=None, kind="stable")
    used_p = np.zeros(len(ps), dtype=bool)
    used_t = np.zeros(len(ts), dtype=bool)
    tp = 0
    for flat in order:
        i, j = divmod(int(flat), len(ts))
        if iou[i, j] < threshold:
            break
        if used_p[i] or used_t[j]:
            continue
        used_p[i] = used_t[j] = True
        tp += 1
    return tp, len(ps) - tp, len(ts) - tp


def segment_f1(
    y_true,
    y_pred,
    *,
    iou_threshold: float = 0.5,
    labels=None,
    average: str | None = "macro",
    ignore=None,
):
    """Segment-level F1 with IoU matching (``F1@k``).

    Each bout (maximal run of one label) in ``y_pred`` is a true positive
    when it is matched to a still unmatched true bout of the same label with
    temporal IoU >= ``iou_threshold`` (greedy, highest IoU first); other
    predicted bouts are false positives and unmatched true bouts false
    negatives. Counts are pooled over recordings per class.

    Parameters
    ----------
    y_true, y_pred : array-like or list of array-like
        Per-frame labels.
    iou_threshold : float
        Minimum IoU for a match, in (0, 1].
    labels : list, optional
        Classes to score; default every label in ``y_true``.
    average : {"macro", "micro", None}
        Mean of per-class F1, F1 of pooled counts, or a dict per class.
    ignore : label or list of labels, optional
        Classes not scored; predicted bouts lying wholly inside frames with
        an ignored true label are not counted as false positives.

    Examples
    --------
    >>> y = [0, 0, 1, 1, 1, 1, 0, 0, 2, 2]
    >>> p = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    >>> segment_f1(y, p, labels=[1, 2], average=None)
    {1: 1.0, 2: 0.0}
    >>> segment_f1(y, p, labels=[1], iou_threshold=0.8)
    0.0
    """
    if not 0 < iou_threshold <= 1:
        raise ParameterError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    yt, yp = _pair(y_true, y_pred)
    if labels is None:
        labels = [v.item() if hasattr(v, "item") else v for v in np.unique(np.concatenate(yt))]
        if ignore is not None:
            ign = set(np.atleast_1d(ignore).tolist())
            labels = [c for c in labels if c not in ign]
    counts = {}
    for c in labels:
        tp = fp = fn = 0
        for a, b in zip(yt, yp, strict=True):
            dtp, dfp, dfn = _segment_counts(a, b, c, iou_threshold, ignore)
            tp, fp, fn = tp + dtp, fp + dfp, fn + dfn
        counts[c] = (tp, fp, fn)
    f1 = {c: (2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 0.0) for c, (tp, fp, fn) in counts.items()}
    if average is None:
        return f1
    if average == "macro":
        return float(np.mean(list(f1.values()))) if f1 else float("nan")
    if average == "micro":
        tp, fp, fn = (sum(v[k] for v in counts.values()) for k in range(3))
        return 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 0.0
    raise ParameterError(f"average must be 'macro', 'micro' or None, got {average!r}")


def frame_report(
    y_true,
    y_pred,
    *,
    labels=None,
    ignore=None,
    iou_thresholds: Sequence[float] = (0.1, 0.25, 0.5),
) -> pd.DataFrame:
    """Per-class table of frame F1 and segment F1 at several IoU thresholds.

    One row per class plus a ``"macro"`` row (mean over the rows above); the
    frame-level accuracy over all non-ignored frames is in ``DataFrame.attrs``.

    Examples
    --------
    >>> rep = frame_report([0, 1, 1, 2, 2], [0, 1, 1, 2, 1], labels=[1, 2])
    >>> rep.loc["macro", "frame_f1"].round(3)
    np.float64(0.733)
    """
    yt, yp = _pair(y_true, y_pred)
    if labels is None:
        labels = [v.item() if hasattr(v, "item") else v for v in np.unique(np.concatenate(yt))]
        if ignore is not None:
            ign = set(np.atleast_1d(ignore).tolist())
            labels = [c for c in labels if c not in ign]
    per = frame_f1(yt, yp, labels=labels, average=None, ignore=ignore)
    n_frames = {c: int(sum(np.sum(a == c) for a in yt)) for c in labels}
    n_bouts = {c: int(sum(np.sum(runs(a)[2] == c) for a in yt)) for c in labels}
    table = pd.DataFrame({"frames": n_frames, "bouts": n_bouts, "frame_f1": per})
    for k in iou_thresholds:
        table[f"segment_f1@{k:g}"] = pd.Series(
            segment_f1(yt, yp, labels=labels, average=None, iou_threshold=k, ignore=ignore)
        )
    table.index = [str(c) for c in table.index]
    macro = table.drop(columns=["frames", "bouts"]).mean()
    table.loc["macro"] = macro
    table.loc["macro", ["frames", "bouts"]] = [sum(n_frames.values()), sum(n_bouts.values())]
    table[["frames", "bouts"]] = table[["frames", "bouts"]].astype(int)
    table.attrs["accuracy"] = frame_accuracy(yt, yp, ignore=ignore)
    return table


# ============================================================================ bouts and time budgets
def prediction_tables(tables) -> list[tuple[str, pd.DataFrame]]:
    """``{name: table}``, tables, or predictions files (``.parquet`` / ``.csv``) -> ``[(name, table)]``.

    Examples
    --------
    >>> [n for n, _ in prediction_tables({"a": pd.DataFrame({"frame": [0], "label": ["x"]})})]
    ['a']
    """
    import os

    if isinstance(tables, pd.DataFrame):
        tables = [tables]
    items = list(tables.items()) if isinstance(tables, dict) else list(enumerate(tables))
    out = []
    for key, t in items:
        if isinstance(t, (str, os.PathLike)):
            name = os.path.basename(os.fspath(t)).split(".predictions")[0]
            t = pd.read_parquet(t) if os.fspath(t).endswith(".parquet") else pd.read_csv(t)
        elif isinstance(key, int):
            name = (
                str(t["input"].iloc[0]) if "input" in t.columns and len(t) else str(t.attrs.get("name", key))
            )
        else:
            name = str(key)
        if isinstance(t, pd.DataFrame) and {"start_frame", "stop_frame", "label"} <= set(t.columns):
            t = segment_frames(t)  # a clip model's (sliding) segments: each frame the nearest segment's label
        if not isinstance(t, pd.DataFrame) or not {"frame", "label"} <= set(t.columns):
            found = list(t.columns) if isinstance(t, pd.DataFrame) else type(t).__name__
            raise ParameterError(
                f"{name}: a frame-level predictions table (frame, label, ...) is needed, got {found}"
            )
        out.append((name, t))
    return out


def fps_from_times(table: pd.DataFrame) -> float | None:
    """Frame rate from a table's ``frame`` and ``time`` columns (None when times are empty).

    Examples
    --------
    >>> fps_from_times(pd.DataFrame({"frame": [0, 1, 2], "time": [0.0, 0.5, 1.0]}))
    2.0
    """
    if "time" not in table.columns or len(table) < 2:
        return None
    f, t = table["frame"].to_numpy(dtype=float), pd.to_numeric(table["time"], errors="coerce").to_numpy()
    ok = np.isfinite(t)
    if ok.sum() < 2 or np.ptp(t[ok]) <= 0:
        return None
    return float(np.ptp(f[ok]) / np.ptp(t[ok]))


def summarize_predictions(tables, *, fps: float | None = None, classes=None) -> pd.DataFrame:
    """Bouts and time budget per file, individual and label, from frame-level predictions tables.

    Parameters
    ----------
    tables : DataFrame, list of DataFrame, dict of name to DataFrame, or list of paths
        Frame-level predictions (``frame``, ``label``, and ``individual`` when
        a table holds several individuals, as :func:`skelbehave.batch.score_files`
        writes them; ``.parquet`` / ``.csv`` files are read).
    fps : float, optional
        Frame rate; default: from each table's ``time`` column (seconds are NaN without one).
    classes : sequence, optional
        Labels to list (absent ones get 0 rows); default: the ``proba_<class>``
        columns, then any other label seen.

    Returns
    -------
    pandas.DataFrame
        One row per file x individual x label: ``bouts``, ``frames``,
        ``seconds``, ``mean_bout_s``, ``fraction`` (time budget: the share of
        the frames where the individual is present, so the fractions of one
        file and individual sum to 1), ``present_frames`` and ``absent_frames``.
        Frames without a pose (``no_pose``) form no bout and count in no budget.
        Bouts are :func:`skelbehave.temporal.segments` runs.

    Examples
    --------
    >>> t = pd.DataFrame({"frame": range(6), "time": np.arange(6) / 2.0,
    ...                   "label": ["sit", "sit", "no_pose", "sit", "walk", "walk"]})
    >>> s = summarize_predictions({"a": t})
    >>> s[["label", "bouts", "frames", "seconds", "fraction"]].values.tolist()
    [['sit', 2, 3, 1.5, 0.6], ['walk', 1, 2, 1.0, 0.4]]
    """
    from .temporal.segments import bout_table

    rows = []
    for name, t in prediction_tables(tables):
        cls = list(classes) if classes is not None else [c[6:] for c in t.columns if c.startswith("proba_")]
        seen = t["label"].astype(object).where(t["label"].notna(), None).to_numpy()
        extra = sorted({v for v in seen[~absent_labels(seen)]} - set(cls), key=str)
        rate = fps if fps is not None else fps_from_times(t)
        groups = list(t.groupby("individual", sort=False)) if "individual" in t.columns else [(None, t)]
        for who, part in groups:
            part = part.sort_values("frame")
            y = part["label"].astype(object).where(part["label"].notna(), None).to_numpy()
            absent = absent_labels(y)
            tab = bout_table(y, fps=rate, classes=cls + extra).reset_index()
            tab.insert(0, "individual", "" if who is None else str(who))
            tab.insert(0, "file", name)
            tab["present_frames"] = int((~absent).sum())
            tab["absent_frames"] = int(absent.sum())
            rows.append(tab)
    cols = ["file", "individual", "label", "bouts", "frames", "seconds", "mean_bout_s", "fraction"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    for col in ("seconds", "mean_bout_s", "present_frames", "absent_frames"):
        if col not in out.columns:
            out[col] = np.nan
    return out[[*cols, "present_frames", "absent_frames"]]


# ============================================================================ abstention
from .models.calibration import coverage_accuracy  # noqa: E402  (the curve of min_confidence)

__all__ += ["coverage_accuracy"]
