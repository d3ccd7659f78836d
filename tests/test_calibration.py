"""Calibrated probabilities and abstention (``min_confidence``), on MSR Action3D and UTD-MHAD.

The calibration check uses the training subjects only: grouped (by subject)
3-fold CV over the standard training split, the default model, calibrated
probabilities against the plain softmax of the same head's scores.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, StratifiedKFold

import skelbehave
from skelbehave.errors import ModelFileError, ParameterError
from skelbehave.evaluation import coverage_accuracy
from skelbehave.models.calibration import UNKNOWN, Calibrator, abstain, fit_calibrated, head_scores
from skelbehave.models.heads import head_predict_proba


def _brier(y, P, classes) -> float:
    Y = (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(float)
    return float(((P - Y) ** 2).sum(axis=1).mean())


@pytest.mark.parametrize(
    ("head", "method", "labels"),
    [
        (RidgeClassifier(), "temperature", np.repeat([3, 1, 7], 15)),  # integer labels not 0..K-1
        (RidgeClassifier(), "temperature", np.repeat(["a", "b"], 20)),  # binary, text labels
        (RidgeClassifier(), "sigmoid", np.repeat(["a", "b", "c"], 15)),
        (LogisticRegression(max_iter=500), "temperature", np.repeat(["x", "y", "z"], 15)),
    ],
)
def test_calibrator_matches_scikit_learn(head, method, labels):
    rng = np.random.default_rng(0)
    codes = np.unique(labels, return_inverse=True)[1]
    F = rng.normal(size=(len(labels), 6)) + codes[:, None] * 0.8
    est, cal = fit_calibrated(head, F, labels, method=method, random_state=0)
    assert np.array_equal(est.classes_, np.unique(labels)) and np.array_equal(cal.classes_, est.classes_)
    ref = CalibratedClassifierCV(
        head, method=method, cv=StratifiedKFold(3, shuffle=True, random_state=0), ensemble=False
    ).fit(F, codes)
    Fnew = rng.normal(size=(30, 6)) + 1.0
    P = cal.predict_proba(head_scores(est, Fnew))
    np.testing.assert_allclose(P, ref.predict_proba(Fnew), atol=1e-6)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    back = Calibrator._from_state(*cal._get_state())
    np.testing.assert_array_equal(back.predict_proba(head_scores(est, Fnew)), P)


def test_no_calibration_with_a_single_example_class():
    F = np.random.default_rng(0).normal(size=(7, 3))
    est, cal = fit_calibrated(RidgeClassifier(), F, ["a"] * 6 + ["b"])
    assert cal is None and list(est.classes_) == ["a", "b"]


def test_abstain_and_coverage_inputs():
    P = np.array([[0.5, 0.5], [np.nan, np.nan], [0.1, 0.9]])
    assert abstain(np.array([1, 0, 1], dtype=object), P, 0.6).tolist() == [UNKNOWN, 0, 1]
    with pytest.raises(ParameterError, match="min_confidence"):
        abstain(np.array(["a"]), np.array([[1.0]]), 1.5)
    t = coverage_accuracy([1, 1, 1], P, [0, 1], thresholds=[0.0, 0.9])
    assert t["coverage"].tolist() == [2 / 3, 1 / 3] and t["accuracy"].tolist() == [0.5, 1.0]
    with pytest.raises(ParameterError, match="thresholds"):
        coverage_accuracy([0, 1, 1], P, [0, 1], thresholds=[2.0])
    with pytest.raises(ParameterError, match="proba"):
        coverage_accuracy([0, 1], P, [0, 1])


def _training_split(shared_data, name):
    from skelbehave import datasets

    loader = {"msr": datasets.load_msr_action3d, "utd": datasets.load_utd_mhad}[name]
    ds = loader(shared_data / {"msr": "msr_action3d", "utd": "utd_mhad"}[name])
    tr, _ = ds.train_test_split()  # the test subjects are not read
    X = [ds.sequences[i] for i in tr]
    return X, ds.labels[tr], np.array([s.meta["subject"] for s in X])


@pytest.mark.parametrize("name", ["msr", "utd"])
def test_calibrated_default_on_held_out_training_subjects(shared_data, name):
    X, y, groups = _training_split(shared_data, name)
    n_cls = len(np.unique(y))
    Pc, Pu = np.zeros((len(X), n_cls)), np.zeros((len(X), n_cls))
    pred = np.empty(len(X), dtype=y.dtype)
    for a, b in GroupKFold(n_splits=3).split(X, y, groups):
        m = skelbehave.fit([X[i] for i in a], y[a], random_state=0)
        Xb = [X[i] for i in b]
        Pc[b] = m.predict_proba(Xb)
        Pu[b] = head_predict_proba(m.classifier_, m.transform(Xb))  # the head's softmax, uncalibrated
        pred[b] = m.predict(Xb)
        np.testing.assert_array_equal(m.classes_[Pc[b].argmax(1)], pred[b])  # temperature keeps the labels
    classes = m.classes_
    assert log_loss(y, Pc, labels=classes) < log_loss(y, Pu, labels=classes)  # MSR: 0.49 vs 2.2
    assert _brier(y, Pc, classes) < _brier(y, Pu, classes)  # MSR: 0.18 vs 0.83
    curve = coverage_accuracy(y, Pc, classes)
    assert (np.diff(curve["coverage"]) <= 0).all()
    base = curve["accuracy"].iloc[0]
    assert base == pytest.approx((pred == y).mean())
    kept = curve[curve["threshold"] == 0.8].iloc[0]
    assert kept["accuracy"] > base and kept["coverage"] >= 0.5  # MSR: 0.957 on 82 % against 0.884


@pytest.fixture(scope="module")
def small(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.flatnonzero(np.isin(ds.labels, [1, 5, 10, 13]))
    X = [ds.sequences[i] for i in keep]
    y = np.array([f"a{v}" for v in ds.labels[keep]])
    return X, y, skelbehave.fit(X[::2], y[::2], random_state=0, n_clusters=4)


def test_predict_min_confidence_no_pose_and_save(small, tmp_path):
    X, _, m = small
    Xt = [*X[1::2][:8], np.zeros((20, 20, 3))]
    P = m.predict_proba(Xt)
    out = m.predict(Xt, min_confidence=0.7)
    low = np.nanmax(P[:-1], axis=1) < 0.7
    assert out[-1] == "no_pose" and (out[:-1][low] == UNKNOWN).all()
    np.testing.assert_array_equal(out[:-1][~low], m.predict(Xt[:-1])[~low])
    assert (m.predict(Xt, min_confidence=0.0)[:-1] == m.predict(Xt)[:-1]).all()
    back = skelbehave.load(m.save(tmp_path / "m.skb"))
    assert back.calibrator_.beta_ == m.calibrator_.beta_
    np.testing.assert_array_equal(back.predict_proba(Xt), P)
    np.testing.assert_array_equal(back.predict(Xt, min_confidence=0.7), out)


def test_calibration_options(small, tmp_path):
    X, y, m = small
    plain = skelbehave.fit(X[::2], y[::2], random_state=0, n_clusters=4, calibration=None)
    assert plain.calibrator_ is None
    ref = head_predict_proba(plain.classifier_, plain.transform(X[1::2]))
    np.testing.assert_allclose(plain.predict_proba(X[1::2]), ref, rtol=1e-5)
    np.testing.assert_array_equal(plain.predict(X[1::2]), m.predict(X[1::2]))
    assert skelbehave.load(plain.save(tmp_path / "p.skb")).calibrator_ is None
    sig = skelbehave.fit(X[::2], y[::2], random_state=0, n_clusters=4, calibration="sigmoid")
    P = sig.predict_proba(X[1::2])
    np.testing.assert_array_equal(sig.predict(X[1::2]), sig.classes_[P.argmax(1)])
    with pytest.raises(ParameterError, match="calibration"):
        skelbehave.fit(X[::2], y[::2], calibration="isotonic")
    yu = np.where(y == "a1", UNKNOWN, y)
    mu = skelbehave.fit(X[::2], yu[::2], random_state=0, n_clusters=4)
    with pytest.raises(ParameterError, match="unknown"):
        mu.predict(X[:2], min_confidence=0.5)


def test_damaged_calibrator_refused():
    params, arrays = Calibrator("sigmoid", ["a", "b", "c"], a=[1, 2, 3], b=[0, 0, 0])._get_state()
    with pytest.raises(ModelFileError, match="array a must have shape"):
        Calibrator._from_state(params, {"a": np.ones(2), "b": arrays["b"]})
    with pytest.raises(ModelFileError, match="beta"):
        Calibrator._from_state({"method": "temperature", "classes": ["a", "b"], "beta": -1.0}, {})
