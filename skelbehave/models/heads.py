"""Classifier heads from scikit-learn, and saving their fitted state without pickle.

Heads by name (:func:`make_head`):

- ``"svm"``: :class:`~sklearn.svm.LinearSVC` with balanced class
  weights. ``predict_proba`` of a model with this head is a softmax of the
  decision scores (a ranking score, not calibrated).
- ``"logreg"``: :class:`~sklearn.linear_model.LogisticRegression`, balanced
  class weights, probabilities from the model itself.
- ``"ridge"``: :class:`~sklearn.linear_model.RidgeClassifier` (``alpha=0.1``,
  balanced class weights): closed-form fit, the most accurate head in
  leave-one-subject-out CV on the training subjects of MSR Action3D and
  UTD-MHAD (``predict_proba`` as for ``"svm"``). The default of
  :class:`~skelbehave.pipeline.BehaviorModel`.
- ``"cnn"``: :class:`skelbehave.models.cnn.CNNClassifier` (needs torch),
  a sequence-level model that bypasses the encoding.
- Any scikit-learn classifier instance (cloned before fitting).

Saving (:func:`head_state` / :func:`head_from_state`) supports the linear
models whose fitted state is ``coef_``, ``intercept_`` and ``classes_``:
``LinearSVC``, ``LogisticRegression``, ``RidgeClassifier``,
``SGDClassifier``, ``Perceptron``. Other scikit-learn classifiers fit and
predict, but ``save`` refuses them with a clear error (pickle would be needed).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

__all__ = [
    "HEADS",
    "SAVABLE_HEADS",
    "make_head",
    "head_state",
    "head_from_state",
    "head_predict_proba",
    "is_sequence_model",
]

#: head names accepted by :func:`make_head`
HEADS = ("svm", "logreg", "ridge", "cnn")

#: scikit-learn classes whose fitted state can be saved (class name -> module)
SAVABLE_HEADS: dict[str, str] = {
    "LinearSVC": "sklearn.svm",
    "LogisticRegression": "sklearn.linear_model",
    "RidgeClassifier": "sklearn.linear_model",
    "SGDClassifier": "sklearn.linear_model",
    "Perceptron": "sklearn.linear_model",
}

_FITTED = ("coef_", "intercept_")


def is_sequence_model(est: Any) -> bool:
    """True for classifiers that take pose sequences directly (``_skelbehave_sequence_input``)."""
    return bool(getattr(est, "_skelbehave_sequence_input", False))


def make_head(name: str | Any = "svm", random_state=None, **params):
    """A classifier head by name, or a clone of a given estimator.

    Parameters
    ----------
    name : str or estimator
        ``"svm"``, ``"logreg"``, ``"cnn"``, or a scikit-learn classifier.
    random_state : int or None
        Passed to heads that take one.
    **params
        Parameters of the head (e.g. ``C=0.5``).

    Examples
    --------
    >>> make_head("svm", C=0.5).C
    0.5
    >>> make_head("logreg").class_weight
    'balanced'
    """
    from sklearn.base import clone

    if not isinstance(name, str):
        est = clone(name)
        if params:
            est.set_params(**params)
        return est
    key = name.lower()
    if key in ("svm", "linear_svm", "linearsvc"):
        from sklearn.svm import LinearSVC

        # tol 1e-2: same training-subject CV accuracy as 1e-4 on MSR Action3D, ~1.5x faster fit
        kw = {
            "C": 1.0,
            "class_weight": "balanced",
            "tol": 1e-2,
            "max_iter": 5000,
            "random_state": random_state,
        }
        kw.update(params)
        return LinearSVC(**kw)
    if key in ("logreg", "logistic", "logisticregression"):
        from sklearn.linear_model import LogisticRegression

        kw = {"C": 10.0, "class_weight": "balanced", "max_iter": 2000, "random_state": random_state}
        kw.update(params)
        return LogisticRegression(**kw)
    if key in ("ridge", "ridgeclassifier"):
        from sklearn.linear_model import RidgeClassifier

        kw = {"alpha": 0.1, "class_weight": "balanced"}
        kw.update(params)
        return RidgeClassifier(**kw)
    if key == "cnn":
        try:
            mod = importlib.import_module("skelbehave.models.cnn")
        except ImportError as exc:
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                f"classifier='cnn' needs torch ({exc}); install it with: pip install 'skelbehave[cnn]'"
            ) from None
        kw = {"random_state": random_state} if random_state is not None else {}
        kw.update(params)
        return mod.CNNClassifier(**kw)
    raise ValueError(f"unknown classifier {name!r}; expected one of {HEADS} or a scikit-learn classifier")


def head_predict_proba(est, F: np.ndarray) -> np.ndarray:
    """Class probabilities (float64): the head's ``predict_proba`` if any, else softmax of decision scores."""
    if hasattr(est, "predict_proba"):
        try:
            P = est.predict_proba(F)
        except AttributeError:  # e.g. SGDClassifier with hinge loss
            pass
        else:
            if P.dtype == np.float64:
                return P
            P = np.asarray(P, dtype=np.float64)  # a head fitted on float32 vectors: rows sum to 1 in float64
            return P / P.sum(axis=1, keepdims=True)
    s = np.asarray(est.decision_function(F), dtype=np.float64)
    if s.ndim == 1:  # binary: score of the positive class
        s = np.stack([-s, s], axis=1) / 2
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


def _jsonable_params(est) -> dict[str, Any]:
    out = {}
    for k, v in est.get_params(deep=False).items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, dict):
            v = {
                "__dict_items__": [
                    [kk.item() if isinstance(kk, np.generic) else kk, vv] for kk, vv in v.items()
                ]
            }
        if k == "random_state" and not (v is None or isinstance(v, int)):
            v = None
        if not (v is None or isinstance(v, (bool, int, float, str, dict, list))):
            raise TypeError(f"parameter {k}={v!r} of {type(est).__name__} cannot be saved as JSON")
        out[k] = v
    return out


def _params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, dict) and "__dict_items__" in v:
            v = {kk: vv for kk, vv in v["__dict_items__"]}
        out[k] = v
    return out


def head_state(est) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Parameters and fitted arrays of a supported scikit-learn head.

    Raises
    ------
    TypeError
        For heads outside :data:`SAVABLE_HEADS`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> clf = LinearSVC().fit(np.eye(3), [0, 1, 2])
    >>> params, arrays = head_state(clf)
    >>> params["class"], sorted(arrays)
    ('LinearSVC', ['coef_', 'intercept_'])
    """
    name = type(est).__name__
    if name not in SAVABLE_HEADS or type(est).__module__.split(".")[0] != "sklearn":
        raise TypeError(
            f"cannot save classifier {name}: saving supports {sorted(SAVABLE_HEADS)} and skelbehave's "
            "own models; refit with one of them, or keep the fitted object in memory"
        )
    classes = est.classes_
    params = {
        "class": name,
        "params": _jsonable_params(est),
        "classes": [c.item() if isinstance(c, np.generic) else c for c in classes],
        "n_features_in": int(est.n_features_in_),
    }
    arrays = {k: _float_array(getattr(est, k)) for k in _FITTED}
    return params, arrays


def _float_array(a) -> np.ndarray:
    """``a`` as float32 when it is float32 (a head fitted on float32 vectors), else float64."""
    a = np.asarray(a)
    return a if a.dtype == np.float32 else a.astype(np.float64)


def head_from_state(params: dict[str, Any], arrays: dict[str, np.ndarray]):
    """Rebuild a fitted head saved by :func:`head_state`."""
    name = params["class"]
    if name not in SAVABLE_HEADS:
        raise ValueError(f"unknown head class {name!r}")
    cls = getattr(importlib.import_module(SAVABLE_HEADS[name]), name)
    est = cls(**_params_from_json(params["params"]))
    for k in _FITTED:
        setattr(est, k, _float_array(arrays[k]))
    classes = np.asarray(params["classes"])
    est.classes_ = classes
    if name == "RidgeClassifier":  # predict and checks use the label binarizer too
        from sklearn.preprocessing import LabelBinarizer

        est._label_binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(classes)
        est.solver_ = str(params["params"].get("solver", "auto"))
        est.n_iter_ = None
    est.n_features_in_ = int(params["n_features_in"])
    if name in ("LogisticRegression", "LinearSVC"):
        est.n_iter_ = np.zeros(1, dtype=np.int32)
    if name in ("SGDClassifier", "Perceptron"):
        est.t_ = 1.0
    return est
