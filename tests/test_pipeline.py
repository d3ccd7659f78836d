"""BehaviorModel and skelbehave.fit on real MSR Action3D sequences (a small subset)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skelbehave
from skelbehave.encoding import BoWEncoder, FisherEncoder, VLADEncoder
from skelbehave.errors import LayoutError, PoseDataError
from skelbehave.features import JointFeatures
from skelbehave.pipeline import BehaviorModel

ACTIONS = (1, 5, 10, 13, 14, 16)  # high wave, forward punch, clap, bend, forward kick, jogging


@pytest.fixture(scope="module")
def msr_small(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.flatnonzero(np.isin(ds.labels, ACTIONS))
    seqs = [ds.sequences[i] for i in keep]
    y, subj = ds.labels[keep], ds.subjects[keep]
    tr = np.isin(subj, (1, 3, 5, 7, 9))
    return {
        "Xtr": [s for s, t in zip(seqs, tr, strict=True) if t],
        "ytr": y[tr],
        "gtr": subj[tr],
        "Xte": [s for s, t in zip(seqs, tr, strict=True) if not t],
        "yte": y[~tr],
    }


def small_model(**kw):
    return BehaviorModel(encoder=VLADEncoder(n_clusters=4, pyramid_levels=2), random_state=0, **kw)


def test_fit_predict_score_on_real_data(msr_small):
    m = small_model().fit(msr_small["Xtr"], msr_small["ytr"])
    assert sorted(m.classes_.tolist()) == list(ACTIONS)
    pred = m.predict(msr_small["Xte"])
    assert pred.shape == (len(msr_small["Xte"]),)
    acc = m.score(msr_small["Xte"], msr_small["yte"])
    # measured 0.97 on these 6 actions; chance is 1/6
    assert acc >= 0.85
    P = m.predict_proba(msr_small["Xte"])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(m.classes_[P.argmax(1)], pred)
    assert m.transform(msr_small["Xte"][:3]).shape == (3, m.n_features_out_)


def test_default_model_and_logreg_head(msr_small):
    m = BehaviorModel(classifier="logreg", random_state=0).fit(msr_small["Xtr"], msr_small["ytr"])
    assert type(m.classifier_).__name__ == "LogisticRegression"
    from skelbehave.pipeline.clip import DEFAULT_ENCODER

    assert m.encoder_.fuse and m.encoder_.n_clusters == DEFAULT_ENCODER["n_clusters"]
    P = m.predict_proba(msr_small["Xte"])
    assert m.score(msr_small["Xte"], msr_small["yte"]) >= 0.85
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_determinism_same_random_state(msr_small):
    a = small_model().fit(msr_small["Xtr"], msr_small["ytr"])
    b = small_model().fit(msr_small["Xtr"], msr_small["ytr"])
    np.testing.assert_array_equal(a.predict(msr_small["Xte"]), b.predict(msr_small["Xte"]))
    np.testing.assert_array_equal(a.transform(msr_small["Xte"]), b.transform(msr_small["Xte"]))
    np.testing.assert_array_equal(
        a.decision_function(msr_small["Xte"]), b.decision_function(msr_small["Xte"])
    )


def test_clone_pipeline_and_gridsearch(msr_small):
    m = small_model()
    c = clone(m)
    assert c.get_params()["encoder"].n_clusters == 4 and c.encoder is not m.encoder
    fill = FunctionTransformer(lambda X: [s.fill_gaps(3) for s in X])
    pipe = Pipeline([("clean", fill), ("model", m)])
    grid = GridSearchCV(
        pipe,
        {"model__encoder__n_clusters": [2, 4], "model__classifier": ["svm", "logreg"]},
        cv=GroupKFold(n_splits=2),
    )
    grid.fit(msr_small["Xtr"], msr_small["ytr"], groups=msr_small["gtr"])
    assert set(grid.best_params_) == {"model__encoder__n_clusters", "model__classifier"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.score(msr_small["Xte"], msr_small["yte"]) >= 0.8


@pytest.mark.parametrize("enc", [BoWEncoder(n_clusters=8, pyramid_levels=2), FisherEncoder(n_clusters=2)])
def test_other_encoders(msr_small, enc):
    m = BehaviorModel(encoder=enc, random_state=0).fit(msr_small["Xtr"], msr_small["ytr"])
    assert m.score(msr_small["Xte"], msr_small["yte"]) >= 0.7


def test_fit_function_with_arrays_and_options(msr_small):
    X = [s.position for s in msr_small["Xtr"]]
    names = np.array([f"a{v:02d}" for v in msr_small["ytr"]])
    m = skelbehave.fit(
        X,
        names,
        layout="msr20",
        fps=15,
        n_clusters=4,
        pyramid_levels=2,
        classifier="svm",
        C=0.5,
        n_displacement_groups=2,
        random_state=0,
    )
    assert m.classes_.dtype.kind == "U"
    assert m.encoder_.n_clusters == 4 and m.encoder_.fuse  # default fusion kept
    assert m.classifier_.C == 0.5
    assert m.features_.n_displacement_groups == 2
    pred = m.predict([s.position for s in msr_small["Xte"]])
    assert (pred == np.array([f"a{v:02d}" for v in msr_small["yte"]])).mean() >= 0.8
    with pytest.raises(TypeError, match="unknown option"):
        skelbehave.fit(X, names, layout="msr20", n_clustres=4)


def test_bad_input(msr_small):
    m = small_model().fit(msr_small["Xtr"], msr_small["ytr"])
    with pytest.raises(PoseDataError, match="layout"):
        BehaviorModel().fit([np.zeros((10, 20, 3))] * 2, [0, 1])
    with pytest.raises(ValueError, match="one label per sequence"):
        small_model().fit(msr_small["Xtr"], msr_small["ytr"][:-1])
    # kinect_v1 names the same Kinect joints as msr20 and is converted; MediaPipe has no spine, hands, feet
    wrong = skelbehave.PoseSequence(np.zeros((12, 33, 3)), "mediapipe33")
    with pytest.raises(LayoutError, match=r"differs.*spine"):
        m.predict([wrong])
    with pytest.raises(PoseDataError, match=r"17 joints|expects 20 joints"):
        m.predict([np.zeros((10, 17, 3))])


class _SeqModel:
    """A minimal sequence-level classifier: predicts by sequence length (tests the hook)."""

    _skelbehave_sequence_input = True

    def __init__(self, threshold=None):
        self.threshold = threshold

    def get_params(self, deep=True):
        return {"threshold": self.threshold}

    def set_params(self, **p):
        self.threshold = p.get("threshold", self.threshold)
        return self

    def fit(self, X, y):
        assert all(isinstance(s, skelbehave.PoseSequence) for s in X)
        self.classes_ = np.unique(y)
        self.threshold_ = np.median([s.n_frames for s in X])
        return self

    def predict(self, X):
        return np.where([s.n_frames > self.threshold_ for s in X], self.classes_[1], self.classes_[0])


def test_sequence_level_classifier_bypasses_encoding(msr_small):
    m = BehaviorModel(classifier=_SeqModel()).fit(msr_small["Xtr"][:10], [0, 1] * 5)
    assert m.encoder_ is None and m.features_ is None and m.n_features_out_ == 0
    assert set(m.predict(msr_small["Xte"][:5]).tolist()) <= {0, 1}
    with pytest.raises(TypeError, match="sequences directly"):
        m.transform(msr_small["Xte"][:2])


def test_custom_features_object(msr_small):
    f = JointFeatures(n_position_groups=2, n_displacement_groups=2, step=1)
    m = BehaviorModel(features=f, encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), random_state=0)
    m.fit(msr_small["Xtr"], msr_small["ytr"])
    assert m.features_ is not f and m.features_.step == 1
    assert len(m.encoder_.group_names_) == 4
