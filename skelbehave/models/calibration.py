"""Calibrated class probabilities for any head, and abstention below a confidence.

The linear heads (``"ridge"``, the default, and ``"svm"``) give decision
scores, not probabilities: a softmax of them ranks the classes but says
nothing about how often the top class is right. :func:`fit_calibrated` fits a
head through :class:`sklearn.calibration.CalibratedClassifierCV` with
``ensemble=False``: out-of-fold scores (stratified K-fold on the training
vectors) fit the calibration map, and the head used afterwards is the one
fitted on all training vectors, so nothing else about the model changes.
:class:`Calibrator` keeps the fitted map as plain numbers (saved without
pickle) and applies it.

Methods
-------
``"temperature"`` (default)
    One parameter: probabilities ``softmax(beta * scores)`` (``scores`` the
    decision scores, ``(-s, s)`` for a binary head, or log-probabilities of a
    head without decision scores). It never changes which class is on top,
    so predictions stay the head's, and one parameter is fitted reliably from
    a few examples per class (MSR Action3D: about 14 training clips per
    class).
``"sigmoid"``
    Platt scaling, one ``(a, b)`` pair per class (one-vs-rest), normalised;
    more flexible, needs more examples per class, and may change the top class
    (predictions then follow the calibrated probabilities).

:func:`abstain` turns predictions with a top probability below
``min_confidence`` into :data:`UNKNOWN` (``"unknown"``);
:func:`coverage_accuracy` (also in :mod:`skelbehave.evaluation`) gives, for
each threshold, the share of predictions kept and their accuracy.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = [
    "CALIBRATIONS",
    "UNKNOWN",
    "Calibrator",
    "abstain",
    "coverage_accuracy",
    "fit_calibrated",
    "head_scores",
]

logger = logging.getLogger(__name__)

#: calibration methods of :func:`fit_calibrated`
CALIBRATIONS = ("temperature", "sigmoid")
#: the label of a prediction below ``min_confidence``
UNKNOWN = "unknown"
_EPS = 1e-12  # as scikit-learn's conversion of probabilities to logits


def head_scores(est, F) -> np.ndarray:
    """What a calibration map reads from a head: decision scores, else probabilities (float64).

    As :class:`~sklearn.calibration.CalibratedClassifierCV`: ``decision_function``
    when the head has one, else ``predict_proba`` (the positive class's
    column for a binary head).

    Examples
    --------
    >>> from sklearn.linear_model import RidgeClassifier
    >>> head_scores(RidgeClassifier().fit(np.eye(3), [0, 1, 2]), np.eye(3)).shape
    (3, 3)
    """
    if hasattr(est, "decision_function"):
        try:
            return np.asarray(est.decision_function(F), dtype=np.float64)
        except AttributeError:
            pass
    P = np.asarray(est.predict_proba(F), dtype=np.float64)
    return P[:, 1] if P.shape[1] == 2 else P


def _logits(S: np.ndarray) -> np.ndarray:
    """Scores as (n, n_classes) logits (scikit-learn's ``_convert_to_logits``)."""
    if S.ndim == 1 or S.shape[1] == 1:
        s = S.reshape(-1, 1)
        return np.concatenate([-s, s], axis=1)
    if ((S >= 0) & (S <= 1)).all() and np.allclose(S.sum(axis=1), 1.0):
        return np.log(S + _EPS)
    return S


class Calibrator:
    """A fitted calibration map from a head's scores to class probabilities.

    Made by :func:`fit_calibrated`; apply it with :meth:`predict_proba`.

    Parameters
    ----------
    method : {"temperature", "sigmoid"}
    classes : array-like
        Class labels, in the head's order.
    beta : float, optional
        Inverse temperature (``"temperature"``).
    a, b : array-like, optional
        Platt parameters per calibrated column (``"sigmoid"``): one for a
        binary head, one per class otherwise.

    Examples
    --------
    >>> cal = Calibrator("temperature", [0, 1, 2], beta=0.5)
    >>> cal.predict_proba(np.array([[2.0, 0.0, 0.0]])).round(3).tolist()
    [[0.576, 0.212, 0.212]]
    """

    def __init__(self, method: str, classes, beta: float | None = None, a=None, b=None) -> None:
        if method not in CALIBRATIONS:
            raise ParameterError(f"calibration must be one of {CALIBRATIONS} or None, got {method!r}")
        self.method = method
        self.classes_ = np.asarray(classes)
        self.beta_ = None if beta is None else float(beta)
        self.a_ = None if a is None else np.asarray(a, dtype=np.float64).ravel()
        self.b_ = None if b is None else np.asarray(b, dtype=np.float64).ravel()

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (n, n_classes) from :func:`head_scores` output."""
        from scipy.special import expit, softmax

        S = np.asarray(scores, dtype=np.float64)
        n_classes = len(self.classes_)
        if self.method == "temperature":
            P = softmax(self.beta_ * _logits(S), axis=1)
        else:
            S = S.reshape(len(S), -1)
            Q = expit(-(self.a_ * S + self.b_))
            if n_classes == 2:
                P = np.concatenate([1.0 - Q, Q], axis=1)
            else:
                den = Q.sum(axis=1, keepdims=True)
                P = np.divide(Q, den, out=np.full_like(Q, 1.0 / n_classes), where=den != 0)
        P[(P > 1.0) & (P <= 1.0 + 1e-5)] = 1.0
        return P

    # ------------------------------------------------------------------ saving
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        params: dict[str, Any] = {
            "method": self.method,
            "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_],
        }
        arrays: dict[str, np.ndarray] = {}
        if self.method == "temperature":
            params["beta"] = float(self.beta_)
        else:
            arrays = {"a": self.a_, "b": self.b_}
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Calibrator:
        """Rebuild from :meth:`_get_state` output, checking every field (ModelFileError)."""
        from ..io.archive import state_array, state_classes, state_float, state_str

        method = state_str(params, "method", CALIBRATIONS)
        classes = state_classes(params)
        if method == "temperature":
            return cls(method, classes, beta=state_float(params, "beta", 1e-6, 1e6))
        n = 1 if len(classes) == 2 else len(classes)
        a = state_array(arrays, "a", "f", shape=(n,), dtype=np.float64)
        b = state_array(arrays, "b", "f", shape=(n,), dtype=np.float64)
        return cls(method, classes, a=a, b=b)

    def __repr__(self) -> str:
        what = f"beta={self.beta_:.3g}" if self.method == "temperature" else f"{len(self.a_)} sigmoids"
        return f"Calibrator({self.method!r}, {len(self.classes_)} classes, {what})"


def fit_calibrated(
    head, F, y, method: str = "temperature", n_splits: int = 3, random_state=None, groups=None
):
    """Fit ``head`` on all of ``F`` and a calibration map on its out-of-fold scores.

    Parameters
    ----------
    head : scikit-learn classifier
        Unfitted (it is cloned).
    F : array (n, d)
        Training vectors.
    y : array (n,)
        Labels.
    method : {"temperature", "sigmoid"}
        See the module documentation.
    n_splits : int
        Folds of the stratified K-fold giving out-of-fold scores; fewer when
        the smallest class has fewer examples. With fewer than 2 examples in
        some class no map is fitted. 3 by default: the map has one parameter,
        and each fold refits the head (5 folds doubled the fit time of the
        default clip model on MSR Action3D; 3 folds cost 1.5x no calibration).
    random_state : int or None
        Shuffles the folds.
    groups : array (n,), optional
        Who each vector comes from (subject, recording). With at least 2
        groups the folds hold out whole groups (``StratifiedGroupKFold``), so
        the map learns how sure the head is on someone it has not seen; with
        random folds the same person sits on both sides and the map comes
        out overconfident.

    Returns
    -------
    head : fitted classifier
        ``clone(head).fit(F, y)``.
    calibrator : Calibrator or None
        None when a class has fewer than 2 examples.

    Examples
    --------
    >>> from sklearn.linear_model import RidgeClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 20)
    >>> F = rng.normal(size=(60, 5)) + y[:, None]
    >>> head, cal = fit_calibrated(RidgeClassifier(), F, y, random_state=0)
    >>> cal.method, cal.predict_proba(head_scores(head, F)).shape
    ('temperature', (60, 3))
    >>> bool((head.predict(F) == cal.classes_[cal.predict_proba(head_scores(head, F)).argmax(1)]).all())
    True
    """
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if method not in CALIBRATIONS:
        raise ParameterError(f"calibration must be one of {CALIBRATIONS} or None, got {method!r}")
    _, counts = np.unique(np.asarray(y), return_counts=True)
    k = int(min(int(n_splits), counts.min()))
    if k < 2:
        logger.info(
            "no calibration: a class has %d training example(s); out-of-fold scores need 2", counts.min()
        )
        return clone(head).fit(F, y), None
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    n_groups = 0 if groups is None else len(np.unique(np.asarray(groups).astype(str)))
    if n_groups >= 2:
        g = np.asarray(groups).astype(str)
        splitter = StratifiedGroupKFold(n_splits=min(k, n_groups), shuffle=True, random_state=random_state)
        cv = list(splitter.split(F, y, g))
        if any(len(np.unique(np.asarray(y)[tr])) < len(counts) for tr, _ in cv):  # a class in one group
            cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    # labels as 0..K-1: scikit-learn's temperature scaling reads them as column indices (integer labels
    # 1..K gave NaN); the head is then fitted again on the labels themselves
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    cal = CalibratedClassifierCV(clone(head), method=method, cv=cv, ensemble=False).fit(F, codes)
    fitted = cal.calibrated_classifiers_[0]
    est = clone(head).fit(F, y)
    if method == "temperature":
        out = Calibrator(method, classes, beta=float(fitted.calibrators[0].beta_))
    else:
        a = [float(c.a_) for c in fitted.calibrators]
        b = [float(c.b_) for c in fitted.calibrators]
        out = Calibrator(method, classes, a=a, b=b)
    logger.info("calibrated %s on %d-fold out-of-fold scores: %r", type(est).__name__, k, out)
    return est, out


def abstain(labels, proba, min_confidence: float, unknown: str = UNKNOWN, classes=None) -> np.ndarray:
    """``labels`` with :data:`UNKNOWN` where the top probability is below ``min_confidence``.

    Rows of NaN probabilities (no pose) keep their label.

    Parameters
    ----------
    labels : array (n,)
        Predicted labels.
    proba : array (n, n_classes)
        Class probabilities.
    min_confidence : float
        In [0, 1].
    unknown : str
        The label of an abstention.
    classes : array-like, optional
        The model's classes: refused when one of them is ``unknown`` (the
        abstention could not be told from that class).

    Returns
    -------
    ndarray (n,)
        Strings when ``labels`` are strings, objects otherwise.

    Examples
    --------
    >>> abstain(np.array(["a", "b"]), np.array([[0.9, 0.1], [0.45, 0.55]]), 0.6).tolist()
    ['a', 'unknown']
    """
    if classes is not None and unknown in {str(c) for c in np.asarray(classes).tolist()}:
        raise ParameterError(f"min_confidence: {unknown!r} is one of this model's classes")
    p = float(min_confidence)
    if not 0.0 <= p <= 1.0:
        raise ParameterError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
    labels = np.asarray(labels)
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or len(P) != len(labels):
        raise ParameterError(f"proba must be (n, n_classes) with n = {len(labels)}, got shape {P.shape}")
    posed = ~np.isnan(P).all(axis=1)
    low = np.zeros(len(labels), dtype=bool)
    low[posed] = np.nanmax(P[posed], axis=1) < p
    dtype = np.result_type(labels.dtype, np.array(unknown).dtype) if labels.dtype.kind == "U" else object
    out = labels.astype(dtype)
    out[low] = unknown
    return out


def coverage_accuracy(y_true, proba, classes, thresholds=None) -> pd.DataFrame:
    """Accuracy on the predictions kept, and the share kept, for each confidence threshold.

    A prediction is kept when its top probability reaches the threshold (as
    ``BehaviorModel.predict(X, min_confidence=threshold)`` keeps it; the others
    become ``"unknown"``). Rows of NaN probabilities (sequences or frames
    without a pose) are never kept.

    Parameters
    ----------
    y_true : array-like (n,)
        True labels.
    proba : array (n, n_classes)
        Class probabilities (``predict_proba``), columns in ``classes`` order.
    classes : array-like (n_classes,)
        The model's classes (``model.classes_``).
    thresholds : array-like, optional
        Confidence thresholds in [0, 1]; default 0, 0.05, ..., 1.

    Returns
    -------
    DataFrame
        One row per threshold: ``threshold``, ``coverage`` (share of the
        ``n`` predictions kept; never increases with the threshold),
        ``accuracy`` (on the kept ones; NaN when none is kept),
        ``n_kept``.

    Examples
    --------
    >>> P = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    >>> t = coverage_accuracy(["a", "b", "b", "a"], P, ["a", "b"], thresholds=[0.0, 0.6, 0.8])
    >>> t["coverage"].tolist(), t["accuracy"].round(3).tolist(), t["n_kept"].tolist()
    ([1.0, 0.75, 0.25], [0.5, 0.667, 1.0], [4, 3, 1])
    """
    P = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_true)
    classes = np.asarray(classes)
    if P.ndim != 2 or P.shape != (len(y), len(classes)):
        raise ParameterError(
            f"proba must have shape (n, n_classes) = ({len(y)}, {len(classes)}), got {P.shape}"
        )
    t = np.round(np.linspace(0.0, 1.0, 21), 2) if thresholds is None else np.asarray(thresholds, dtype=float)
    if t.ndim != 1 or not np.isfinite(t).all() or (t < 0).any() or (t > 1).any():
        raise ParameterError(f"thresholds must be numbers in [0, 1], got {thresholds!r}")
    posed = ~np.isnan(P).all(axis=1)
    conf = np.full(len(y), -np.inf)
    correct = np.zeros(len(y), dtype=bool)
    if posed.any():
        conf[posed] = np.nanmax(P[posed], axis=1)
        correct[posed] = classes[np.nanargmax(P[posed], axis=1)] == y[posed]
    rows = []
    for th in t:
        kept = conf >= th
        k = int(kept.sum())
        rows.append((float(th), k / len(y) if len(y) else np.nan, correct[kept].mean() if k else np.nan, k))
    return pd.DataFrame(rows, columns=["threshold", "coverage", "accuracy", "n_kept"])
