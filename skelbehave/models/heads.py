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
- ``"extra_trees"``: :class:`~sklearn.ensemble.ExtraTreesClassifier` (200
  trees, ``min_samples_leaf=2``, ``max_features="sqrt"``): the window head of
  :class:`~skelbehave.pipeline.FrameLevelModel`. Handles NaN features.
- ``"hgb"``: :class:`~sklearn.ensemble.HistGradientBoostingClassifier`
  (200 rounds, ``max_leaf_nodes=31``, ``l2_regularization=1.0``,
  ``learning_rate=0.1``, no early stopping). Handles NaN features.
- Any scikit-learn classifier instance (cloned before fitting).

``make_head(name, nan_safe=True)`` gives a head that accepts NaN features:
tree heads as they are, any other head behind a
:func:`nan_safe_pipeline` (missing values set to 0, then standardised).

Saving (:class:`LinearHead`, the state-protocol adapter used by
:mod:`skelbehave.pipeline.persist`) supports the linear
models whose fitted state is ``coef_``, ``intercept_`` and ``classes_``:
``LinearSVC``, ``LogisticRegression``, ``RidgeClassifier``,
``SGDClassifier``, ``Perceptron``. Other scikit-learn classifiers fit and
predict, but ``save`` refuses them with a clear error (pickle would be needed).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..errors import ParameterError, ParameterTypeError

__all__ = [
    "HEADS",
    "SAVABLE_HEADS",
    "make_head",
    "nan_safe_pipeline",
    "head_state",
    "head_from_state",
    "LinearHead",
    "head_predict_proba",
    "is_sequence_model",
]

#: head names accepted by :func:`make_head`
HEADS = ("svm", "logreg", "ridge", "cnn", "extra_trees", "hgb")

#: default parameters of the tree heads (the frame-level defaults chosen on PRECOG training subjects)
TREE_DEFAULTS: dict[str, dict[str, Any]] = {
    "extra_trees": {"n_estimators": 200, "min_samples_leaf": 2, "max_features": "sqrt"},
    "hgb": {"max_iter": 200, "max_leaf_nodes": 31, "l2_regularization": 1.0, "early_stopping": False,
            "learning_rate": 0.1},
}  # fmt: skip

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


def _allows_nan(est) -> bool:
    """Whether a scikit-learn estimator accepts NaN inputs (its ``allow_nan`` tag)."""
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(est).input_tags.allow_nan)
    except (ImportError, AttributeError, TypeError):  # not a scikit-learn estimator
        return False


def nan_safe_pipeline(est):
    """``est`` behind a constant imputer (NaN -> 0) and a standard scaler.

    The one way the package gives NaN-free inputs to heads that need them
    (linear heads on window statistics, where missing joints are NaN).

    Examples
    --------
    >>> from sklearn.linear_model import RidgeClassifier
    >>> pipe = nan_safe_pipeline(RidgeClassifier())
    >>> [name for name, _ in pipe.steps]
    ['simpleimputer', 'standardscaler', 'ridgeclassifier']
    >>> X = np.array([[0.0, np.nan], [1.0, 2.0], [np.nan, 1.0], [3.0, 0.0]])
    >>> pipe.fit(X, [0, 1, 0, 1]).predict(X).shape
    (4,)
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True), StandardScaler(), est
    )


def make_head(
    name: str | Any = "svm",
    random_state=None,
    *,
    nan_safe: bool = False,
    n_jobs: int | None = None,
    **params,
):
    """A classifier head by name, or a clone of a given estimator.

    Parameters
    ----------
    name : str or estimator
        One of :data:`HEADS` (``"svm"``, ``"logreg"``, ``"ridge"``, ``"cnn"``,
        ``"extra_trees"``, ``"hgb"``), or a scikit-learn classifier.
    random_state : int or None
        Passed to heads that take one.
    nan_safe : bool, default False
        Return a head that accepts NaN features: heads that handle them
        (trees) unchanged, others wrapped by :func:`nan_safe_pipeline`.
    n_jobs : int or None
        Threads of heads that take them (``"extra_trees"``).
    **params
        Parameters of the head (e.g. ``C=0.5``, ``n_estimators=100``).

    Examples
    --------
    >>> make_head("svm", C=0.5).C
    0.5
    >>> make_head("logreg").class_weight
    'balanced'
    >>> make_head("extra_trees", n_estimators=50).n_estimators
    50
    >>> type(make_head("ridge", nan_safe=True)).__name__, type(make_head("hgb", nan_safe=True)).__name__
    ('Pipeline', 'HistGradientBoostingClassifier')
    """
    est = _make_head(name, random_state, n_jobs, params)
    if nan_safe and not _allows_nan(est) and not is_sequence_model(est):
        return nan_safe_pipeline(est)
    return est


def _make_head(name, random_state, n_jobs, params):
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
    if key in ("logreg", "logisticregression"):
        from sklearn.linear_model import LogisticRegression

        kw = {"C": 10.0, "class_weight": "balanced", "max_iter": 2000, "random_state": random_state}
        kw.update(params)
        return LogisticRegression(**kw)
    if key in ("ridge", "ridgeclassifier"):
        from sklearn.linear_model import RidgeClassifier

        kw = {"alpha": 0.1, "class_weight": "balanced"}
        kw.update(params)
        return RidgeClassifier(**kw)
    if key == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        kw = dict(TREE_DEFAULTS["extra_trees"], random_state=random_state, n_jobs=n_jobs)
        kw.update(params)
        return ExtraTreesClassifier(**kw)
    if key == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        kw = dict(TREE_DEFAULTS["hgb"], random_state=random_state)
        kw.update(params)
        return HistGradientBoostingClassifier(**kw)
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
    raise ParameterError(f"unknown classifier {name!r}; expected one of {HEADS} or a scikit-learn classifier")


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
            raise ParameterTypeError(f"parameter {k}={v!r} of {type(est).__name__} cannot be saved as JSON")
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
    """Parameters and fitted arrays of a supported scikit-learn head (see :class:`LinearHead`).

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
    return LinearHead(est)._get_state()


def head_from_state(params: dict[str, Any], arrays: dict[str, np.ndarray]):
    """Rebuild a fitted head saved by :func:`head_state` (see :meth:`LinearHead._from_state`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> clf = LinearSVC().fit(np.eye(3), [0, 1, 2])
    >>> head_from_state(*head_state(clf)).predict(np.eye(3)).tolist()
    [0, 1, 2]
    """
    return LinearHead._from_state(params, arrays)


def _float_array(a) -> np.ndarray:
    """``a`` as float32 when it is float32 (a head fitted on float32 vectors), else float64."""
    a = np.asarray(a)
    return a if a.dtype == np.float32 else a.astype(np.float64)


class LinearHead:
    """The state protocol for scikit-learn linear heads (an adapter; saving needs no pickle).

    ``LinearHead(est)._get_state()`` gives the parameters and the arrays
    ``coef_`` and ``intercept_`` of a fitted head of :data:`SAVABLE_HEADS`;
    ``LinearHead._from_state(params, arrays)`` returns the rebuilt
    scikit-learn estimator, after checking the class list, the feature count
    and the dtype, shape and finiteness of the weights.

    Parameters
    ----------
    est : scikit-learn classifier
        A fitted head of :data:`SAVABLE_HEADS`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import RidgeClassifier
    >>> clf = RidgeClassifier().fit(np.eye(3), ["a", "b", "c"])
    >>> params, arrays = LinearHead(clf)._get_state()
    >>> LinearHead._from_state(params, arrays).predict(np.eye(3)).tolist()
    ['a', 'b', 'c']
    """

    def __init__(self, est) -> None:
        self.est = est

    @staticmethod
    def can_save(est) -> bool:
        """Whether ``est`` is a head of :data:`SAVABLE_HEADS`, alone or in a :func:`nan_safe_pipeline`.

        Examples
        --------
        >>> from sklearn.linear_model import RidgeClassifier
        >>> LinearHead.can_save(nan_safe_pipeline(RidgeClassifier())), LinearHead.can_save(object())
        (True, False)
        """
        if _is_nan_safe_pipeline(est):
            est = est.steps[2][1]
        return type(est).__name__ in SAVABLE_HEADS and type(est).__module__.split(".")[0] == "sklearn"

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        est = self.est
        scaler = None
        if _is_nan_safe_pipeline(est):
            scaler, est = est.steps[1][1], est.steps[2][1]
        name = type(est).__name__
        if name not in SAVABLE_HEADS or type(est).__module__.split(".")[0] != "sklearn":
            raise ParameterTypeError(
                f"cannot save classifier {name}: saving supports {sorted(SAVABLE_HEADS)} and skelbehave's "
                "own models; refit with one of them, or keep the fitted object in memory"
            )
        params = {
            "class": name,
            "params": _jsonable_params(est),
            "classes": [c.item() if isinstance(c, np.generic) else c for c in est.classes_],
            "n_features_in": int(est.n_features_in_),
        }
        arrays = {k: _float_array(getattr(est, k)) for k in _FITTED}
        if scaler is not None:  # nan_safe_pipeline: NaN -> 0, then (x - mean) / scale
            params["nan_safe"] = True
            n = int(est.n_features_in_)
            mean = scaler.mean_ if scaler.mean_ is not None else np.zeros(n)
            scale = scaler.scale_ if scaler.scale_ is not None else np.ones(n)
            arrays["scaler_mean"] = np.asarray(mean, dtype=np.float64)
            arrays["scaler_scale"] = np.asarray(scale, dtype=np.float64)
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]):
        from ..errors import ModelFileError
        from ..io.archive import state_array, state_classes, state_int, state_str

        name = state_str(params, "class", tuple(SAVABLE_HEADS))
        hp = params.get("params")
        if not isinstance(hp, dict) or not all(
            isinstance(v, (type(None), bool, int, float, str, dict, list)) for v in hp.values()
        ):
            raise ModelFileError(f"params of the {name} head must be an object of JSON values")
        classes = state_classes(params)
        if len(classes) < 2:
            raise ModelFileError(f"a {name} head needs at least 2 classes, got {classes.tolist()}")
        n_in = state_int(params, "n_features_in", 1, 100_000_000)
        if len(classes) == 2:  # binary heads keep one row, some as 1-D arrays (RidgeClassifier)
            ndim = np.asarray(arrays.get("coef_")).ndim
            coef = state_array(arrays, "coef_", "f", shape=(1, n_in) if ndim == 2 else (n_in,))
            ndim = np.asarray(arrays.get("intercept_")).ndim
            intercept = state_array(arrays, "intercept_", "f", shape=(1,) if ndim == 1 else ())
        else:
            coef = state_array(arrays, "coef_", "f", shape=(len(classes), n_in))
            intercept = state_array(arrays, "intercept_", "f", shape=(len(classes),))
        est = getattr(importlib.import_module(SAVABLE_HEADS[name]), name)(**_params_from_json(hp))
        est.coef_ = coef
        est.intercept_ = intercept.astype(coef.dtype)
        est.classes_ = classes
        if name == "RidgeClassifier":  # predict and checks use the label binarizer too
            from sklearn.preprocessing import LabelBinarizer

            est._label_binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(classes)
            est.solver_ = str(hp.get("solver", "auto"))
            est.n_iter_ = None
        est.n_features_in_ = n_in
        if name in ("LogisticRegression", "LinearSVC"):
            est.n_iter_ = np.zeros(1, dtype=np.int32)
        if name in ("SGDClassifier", "Perceptron"):
            est.t_ = 1.0
        if params.get("nan_safe", False) is not True:
            return est
        mean = state_array(arrays, "scaler_mean", "f", shape=(n_in,), dtype=np.float64)
        scale = state_array(arrays, "scaler_scale", "f", shape=(n_in,), dtype=np.float64)
        if (scale <= 0).any():
            raise ModelFileError("array scaler_scale must be positive")
        pipe = nan_safe_pipeline(est)
        pipe.steps[0][1].fit(np.zeros((1, n_in)))  # a constant imputer learns nothing from data
        sc = pipe.steps[1][1]
        sc.mean_, sc.scale_, sc.var_ = mean, scale, scale**2
        sc.n_features_in_, sc.n_samples_seen_ = n_in, 1
        return pipe


def _is_nan_safe_pipeline(est) -> bool:
    """Whether ``est`` is a fitted :func:`nan_safe_pipeline` (constant 0 imputer, scaler, head)."""
    steps = getattr(est, "steps", None)
    if type(est).__name__ != "Pipeline" or not steps or len(steps) != 3:
        return False
    imp, sc = steps[0][1], steps[1][1]
    return (
        type(imp).__name__ == "SimpleImputer"
        and imp.strategy == "constant"
        and imp.fill_value == 0
        and not imp.add_indicator
        and type(sc).__name__ == "StandardScaler"
    )
