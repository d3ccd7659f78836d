"""scikit-learn's estimator contract, checked on every estimator of the package.

The estimators take pose sequences (``PoseSequence`` or ``(T, J, C)``
arrays), or -- the encoders -- the ``LocalDescriptors`` that ``JointFeatures``
returns; their tags say so (``input_tags.two_d_array = False``), and for such
estimators scikit-learn's generator runs only the clone check. So that every
API check still runs, each estimator is checked twice:

1. as it is (tags as shipped: the clone check, and the tags must be valid);
2. through a test-only subclass whose tags claim 2-D array input, so
   scikit-learn yields all its checks. Checks about parameters, ``__init__``,
   ``repr``, ``clone``, ``get_params`` / ``set_params``, tags and fit-state
   errors must pass; the checks that feed 2-D numeric matrices are listed in
   :data:`EXPECTED_FAILED` with a one-line reason each (documented
   exceptions). They are marked ``xfail`` by scikit-learn.

The data contracts those listed checks would have tested (fit returns self,
parameters untouched by fit, idempotent fit, clone of a fitted model is
unfitted, pickling, NotFittedError before fit) are then tested on real pose
data (MSR Action3D, PRECOG) in :func:`test_data_contracts_on_real_poses`.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skelbehave import BehaviorModel, FrameLevelModel
from skelbehave.encoding import BoWEncoder, FisherEncoder, VLADEncoder
from skelbehave.features import JointFeatures
from skelbehave.models.cnn import CNNClassifier

TINY_CNN = {"channels": (4, 4), "n_frames": 16, "max_epochs": 2, "patience": 100, "augment": False}


def _estimators() -> list:
    return [
        BehaviorModel(encoder=VLADEncoder(n_clusters=2), random_state=0),
        FrameLevelModel(classifier_params={"n_estimators": 5}, random_state=0),
        JointFeatures(),
        VLADEncoder(n_clusters=2, random_state=0),
        BoWEncoder(n_clusters=2, random_state=0),
        FisherEncoder(n_clusters=2, random_state=0),
        CNNClassifier(**TINY_CNN, random_state=0),
    ]


# ----------------------------------------------------------------------------- documented exceptions
_POSES = "feeds a 2-D numeric matrix; the estimator takes pose sequences (PoseSequence or (T, J, C) arrays)"
_DESCR = "feeds a 2-D numeric matrix; the encoder takes LocalDescriptors (per group and sequence)"

#: checks that feed 2-D numeric matrices as X: they cannot apply to sequence inputs
_MATRIX_CHECKS = (
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
)
_TRANSFORMER_CHECKS = (
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
)
_CLASSIFIER_CHECKS = (
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_requires_y_none",
    "check_supervised_y_2d",
)


def _expected_failed(est) -> dict[str, str]:
    name = type(est).__name__
    encoder = name in ("VLADEncoder", "BoWEncoder", "FisherEncoder")
    reason = _DESCR if encoder else _POSES
    out = dict.fromkeys(_MATRIX_CHECKS, reason)
    if name in ("BehaviorModel", "JointFeatures") or encoder:
        out.update(dict.fromkeys(_TRANSFORMER_CHECKS, reason))
    if name in ("BehaviorModel", "CNNClassifier"):
        out.update(dict.fromkeys(_CLASSIFIER_CHECKS, reason))
    if name == "BehaviorModel":
        out["check_decision_proba_consistency"] = reason
    if encoder or name == "FrameLevelModel":
        out["check_fit1d"] = "feeds a 1-D float array; the error comes from the sequence/descriptor reader"
    return out


#: check name -> reason, per estimator class name (the documented exceptions)
EXPECTED_FAILED = {type(e).__name__: _expected_failed(e) for e in _estimators()}


# ----------------------------------------------------------------------------- 1. as shipped
@parametrize_with_checks(_estimators())
def test_sklearn_checks_as_tagged(estimator, check):
    check(estimator)


def test_tags_say_the_input_is_not_a_matrix():
    from sklearn.utils import get_tags

    for est in _estimators():
        tags = get_tags(est)
        assert not tags.input_tags.two_d_array, type(est).__name__
        assert tags.requires_fit, type(est).__name__


# ----------------------------------------------------------------------------- 2. every API check
def _matrix_view(est):
    """The same estimator in a test-only subclass whose tags claim 2-D array input."""
    cls = type(est)

    def __sklearn_tags__(self):
        tags = cls.__sklearn_tags__(self)
        tags.input_tags.two_d_array = True
        return tags

    view = type(cls.__name__, (cls,), {"__sklearn_tags__": __sklearn_tags__, "__module__": __name__})
    return view(**est.get_params(deep=False))


@parametrize_with_checks(
    [_matrix_view(e) for e in _estimators()],
    expected_failed_checks=lambda est: EXPECTED_FAILED[type(est).__name__],
)
def test_sklearn_api_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_api_checks_that_must_pass_are_not_listed_as_exceptions():
    must_pass = {
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_estimators_unfitted",
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_mixin_order",
        "check_valid_tag_types",
        "check_estimator_tags_renamed",
    }
    for name, failed in EXPECTED_FAILED.items():
        assert not must_pass & set(failed), name
        assert all(isinstance(r, str) and r for r in failed.values()), name


# ----------------------------------------------------------------------------- 3. data contracts
@pytest.fixture(scope="module")
def msr_small(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data)
    keep = np.flatnonzero(np.isin(ds.labels, [1, 2, 5]) & np.isin(ds.subjects, [1, 2, 3]))[:12]
    return [ds.sequences[i] for i in keep], ds.labels[keep]


@pytest.fixture(scope="module")
def precog_small():
    from skelbehave.datasets import load_precog

    ds = load_precog()
    idx = [0, 1, 2]
    return [ds.sequences[i][:400] for i in idx], [ds.labels[i][:400] for i in idx]


def _params_snapshot(est) -> dict:
    return {k: repr(v) for k, v in est.get_params(deep=False).items()}


def _outputs(est, X):
    if hasattr(est, "predict"):
        out = est.predict(X)
        return [np.asarray(o) for o in out] if isinstance(out, list) else np.asarray(out)
    out = est.transform(X)
    return np.asarray(out) if isinstance(out, np.ndarray) else out.concat() if hasattr(out, "concat") else out


def _same(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return _same(_descriptor_arrays(a), _descriptor_arrays(b))


def _descriptor_arrays(d) -> list:
    return [np.asarray(x) for x in _flatten(d)]


def _flatten(d):
    if isinstance(d, np.ndarray):
        yield d
    elif isinstance(d, dict):
        for k in sorted(d):
            yield from _flatten(d[k])
    elif isinstance(d, list | tuple):
        for x in d:
            yield from _flatten(x)
    elif hasattr(d, "__dict__"):
        yield from _flatten(vars(d))


@pytest.mark.parametrize("index", range(len(_estimators())), ids=[type(e).__name__ for e in _estimators()])
def test_data_contracts_on_real_poses(index, msr_small, precog_small):
    est = _estimators()[index]
    name = type(est).__name__
    if name == "FrameLevelModel":
        X, y = precog_small
    else:
        X, y = msr_small
    if name in ("VLADEncoder", "BoWEncoder", "FisherEncoder"):
        X = JointFeatures(n_position_groups=2, n_displacement_groups=2).fit(X).transform(X)
    with pytest.raises(NotFittedError):
        _outputs(est, X)
    before = _params_snapshot(est)
    assert est.fit(X, y) is est, f"{name}.fit must return self"
    assert _params_snapshot(est) == before, f"{name}.fit changed its parameters"
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert fitted, f"{name} has no fitted attribute ending with '_'"
    first = _outputs(est, X)
    # a fitted estimator's clone has the same parameters and is not fitted
    c = clone(est)
    assert _params_snapshot(c) == before
    assert not [k for k in vars(c) if k.endswith("_") and not k.startswith("_")]
    # fitting again with the same random_state gives the same outputs
    assert _same(first, _outputs(clone(est).fit(X, y), X)), f"{name}: fit is not idempotent"
    # a pickled fitted estimator gives the same outputs
    assert _same(first, _outputs(pickle.loads(pickle.dumps(est)), X)), f"{name}: pickling changes outputs"
