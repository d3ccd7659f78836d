"""Metrics and reports.

Clip-level part (this section): accuracy, macro F1, per-class report and
confusion matrix of a fitted model on labelled sequences, and evaluation on a
data set's standard cross-subject split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .frame_metrics import frame_accuracy, frame_f1, frame_report, segment_f1

__all__ = [
    "ClassificationReport",
    "classification_report",
    "evaluate",
    "evaluate_split",
    # frame-level and segment-level metrics (defined in skelbehave.frame_metrics)
    "frame_accuracy",
    "frame_f1",
    "frame_report",
    "segment_f1",
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
    """

    accuracy: float
    macro_f1: float
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Headline figures as a flat dict (accuracy, macro_f1, n, timings)."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "n": len(self.y_true), **self.timings}

    def __str__(self) -> str:
        lines = [f"accuracy {self.accuracy:.4f}  macro F1 {self.macro_f1:.4f}  (n = {len(self.y_true)})"]
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

    Examples
    --------
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
        raise ValueError(
            f"y_true and y_pred must be 1-D and equal in length, got {y_true.shape}, {y_pred.shape}"
        )
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
        y_true=y_true,
        y_pred=y_pred,
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
        raise ValueError(f"{dataset.name} has frame labels; use the frame-level metrics for it")
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
