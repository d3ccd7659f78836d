"""FrameLevelModel and FrameFeatures: real PRECOG streams, two-animal features, saving."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from skelbehave.datasets import load_precog
from skelbehave.errors import ModelFileError, PoseDataError
from skelbehave.evaluation import frame_f1
from skelbehave.features.frame import FrameFeatures, split_individuals
from skelbehave.layouts import JointLayout
from skelbehave.pipeline.frame import FrameLevelModel, load_frame_model
from skelbehave.poses import PoseSequence


@pytest.fixture(scope="module")
def precog():
    ds = load_precog()
    names = ds.label_names
    return ds, names


@pytest.fixture(scope="module")
def precog_model(precog):
    ds, names = precog
    tr = np.flatnonzero(np.isin(ds.subjects, [1, 2, 3, 4, 5, 6]))
    model = FrameLevelModel(
        window=31, fit_stride=3, classifier_params={"n_estimators": 30}, context_folds=2, random_state=0
    )
    model.fit([ds.sequences[i] for i in tr], [names[i] for i in tr])
    return model


def test_precog_frame_level_on_held_out_subjects(precog, precog_model):
    ds, names = precog
    te = np.flatnonzero(np.isin(ds.subjects, [9, 10]))
    pred = precog_model.predict([ds.sequences[i] for i in te])
    truth = [names[i] for i in te]
    actions = [c for c in precog_model.classes_.tolist() if c != "no action"]
    f1 = frame_f1(truth, pred, labels=actions)
    # 8 actions + background: chance macro F1 is about 0.1; a small forest on 6 subjects gets far more
    assert f1 > 0.6, f1
    assert len(precog_model.classes_) == 9
    # probabilities per frame are a distribution over the classes
    p = precog_model.predict_proba([ds.sequences[te[0]]])[0]
    assert p.shape == (ds.sequences[te[0]].n_frames, 9)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_save_load_round_trip_and_tampering(precog, precog_model, tmp_path):
    ds, _ = precog
    path = precog_model.save(tmp_path / "m.skb")
    again = load_frame_model(path)
    seq = ds.sequences[-1]
    np.testing.assert_array_equal(precog_model.predict_proba([seq])[0], again.predict_proba([seq])[0])
    t1, t2 = precog_model.predict_table(seq), again.predict_table(seq)
    assert t1.equals(t2)
    assert list(t1.columns[:3]) == ["frame", "time", "label"] and t1["time"].iloc[1] == pytest.approx(1 / 30)
    seg = again.segments(seq)
    assert seg["end"].iloc[-1] == seq.n_frames and (seg["score"] > 0).all()
    # altered arrays: the checksum catches it
    bad = tmp_path / "bad.skb"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "arrays.npz":
                data = data[:-100] + bytes(100)
            zout.writestr(item, data)
    with pytest.raises(ModelFileError, match="checksum"):
        load_frame_model(bad)
    (tmp_path / "short.skb").write_bytes(path.read_bytes()[:500])
    with pytest.raises(ModelFileError):
        load_frame_model(tmp_path / "short.skb")


def test_wrong_input_is_rejected(precog_model):
    with pytest.raises(PoseDataError, match="individual"):
        precog_model.predict([PoseSequence(np.zeros((40, 17, 2)), "coco17")])
    with pytest.raises(PoseDataError, match="labels"):
        FrameLevelModel().fit([PoseSequence(np.zeros((40, 17, 2)), "coco17")], [np.zeros(39)])


# ----------------------------------------------------------------------------- two animals
def _animal(T, rng, heading, centre):
    """5 keypoints along the body axis (nose first), with some wiggle."""
    body = np.stack([np.array([2.0, 1.0, 0.0, -1.0, -2.0]), np.zeros(5)], axis=1)
    out = np.zeros((T, 5, 2))
    for t in range(T):
        c, s = np.cos(heading[t]), np.sin(heading[t])
        R = np.array([[c, -s], [s, c]])
        out[t] = body @ R.T + centre[t] + rng.normal(scale=0.05, size=(5, 2))
    return out


def test_frame_features_invariant_to_rotation_translation_and_scale():
    rng = np.random.default_rng(0)
    T = 60
    lay = JointLayout.from_names(["nose", "head", "body", "tail", "tip"])
    a = _animal(T, rng, np.linspace(0, 3, T), np.cumsum(rng.normal(size=(T, 2)), axis=0))
    b = _animal(T, rng, np.linspace(1, -2, T), np.cumsum(rng.normal(size=(T, 2)), axis=0) + 5)
    a[5, 2] = np.nan  # a missing keypoint stays missing
    ff = FrameFeatures()
    F, names = ff.transform_recording([PoseSequence(a, lay), PoseSequence(b, lay)])
    ang = 1.1
    R = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    moved = [PoseSequence(3.0 * (x @ R.T) + [100.0, -40.0], lay) for x in (a, b)]
    G, _ = ff.transform_recording(moved)
    assert "i0>i1:dist0" in names and "i1>i0:pos0" in names
    np.testing.assert_allclose(np.nan_to_num(F, nan=123.0), np.nan_to_num(G, nan=123.0), atol=2e-4)
    assert np.isnan(F[5, names.index("i0:pos4")])


def test_two_animal_model_uses_relative_position():
    """Label = whether the two animals are close; each animal alone moves the same way."""
    rng = np.random.default_rng(1)
    lay = JointLayout.from_names(["nose", "head", "body", "tail", "tip"])
    recs, ys = [], []
    for _ in range(4):
        T = 400
        close = (np.arange(T) // 50) % 2 == 1
        dist = np.where(close, 5.0, 30.0) + rng.normal(scale=0.5, size=T)
        path = np.cumsum(rng.normal(size=(T, 2)), axis=0)
        a = _animal(T, rng, rng.normal(scale=0.2, size=T).cumsum(), path)
        b = _animal(T, rng, rng.normal(scale=0.2, size=T).cumsum(), path + np.stack([dist, 0 * dist], 1))
        recs.append([PoseSequence(a, lay, fps=30), PoseSequence(b, lay, fps=30)])
        ys.append(np.where(close, "close", "apart"))
    model = FrameLevelModel(
        window="0.3s", classifier_params={"n_estimators": 20}, fit_stride=2, random_state=0
    ).fit(recs[:3], ys[:3])
    assert model.window_frames_ == 9 and model.n_individuals_ == 2
    assert frame_f1(ys[3], model.predict([recs[3]])[0]) > 0.9


def test_split_individuals_of_a_combined_dyad_sequence():
    lay = JointLayout(
        "dyad",
        ("r1_nose", "r1_tail", "r2_nose", "r2_tail"),
        root=("r1_nose", "r1_tail", "r2_nose", "r2_tail"),
        groups={"r1": ("r1_nose", "r1_tail"), "r2": ("r2_nose", "r2_tail")},
        partitions={1: (("r1", "r2"),), 2: (("r1",), ("r2",))},
    )
    pos = np.arange(5 * 4 * 2, dtype=float).reshape(5, 4, 2)
    parts = split_individuals(PoseSequence(pos, lay, fps=25, confidence=np.ones((5, 4))))
    assert [p.meta["person"] for p in parts] == ["r1", "r2"]
    np.testing.assert_array_equal(parts[1].position, pos[:, 2:])
    assert parts[0].layout.joints == ("nose", "tail") and parts[0].fps == 25
    single = PoseSequence(np.zeros((3, 20, 3)), "kinect_v1")
    assert split_individuals(single) == [single]


def test_acceleration_joint_speed_and_extra_windows(tmp_path):
    """The optional features are what they claim, and a model using them saves and reloads."""
    rng = np.random.default_rng(2)
    lay = JointLayout.from_names(["nose", "head", "body", "tail", "tip"])
    T = 120
    t = np.arange(T, dtype=float)
    centre = np.stack([0.01 * t**2, np.zeros(T)], axis=1)  # constant acceleration along x
    a = _animal(T, rng, np.zeros(T), centre)
    seq = PoseSequence(a, lay, fps=30)
    F0, n0 = FrameFeatures().transform_recording([seq])
    F, names = FrameFeatures(acceleration=True, joint_speed=True).transform_recording([seq])
    assert set(n0) < set(names) and F.shape == (T, len(names))
    np.testing.assert_array_equal(F0, F[:, [names.index(n) for n in n0]])  # the others unchanged
    vel = F[:, [i for i, n in enumerate(names) if n.startswith("i0:vel")]].reshape(T, 5, 2)
    speed = F[:, [i for i, n in enumerate(names) if n.startswith("i0:jspeed")]]
    np.testing.assert_allclose(speed, np.linalg.norm(vel, axis=-1), rtol=1e-4, atol=1e-6)
    acc = F[:, [i for i, n in enumerate(names) if n.startswith("i0:acc")]].reshape(T, 5, 2)
    assert acc.shape == (T, 5, 2) and np.isfinite(acc).all()

    recs = [seq, PoseSequence(a + rng.normal(scale=0.1, size=a.shape), lay, fps=30)]
    ys = [np.where((np.arange(T) // 30) % 2 == 1, "b", "a")] * 2
    base = FrameLevelModel(window=9, classifier_params={"n_estimators": 5}, random_state=0).fit(recs, ys)
    model = FrameLevelModel(
        window=9, classifier_params={"n_estimators": 5}, acceleration=True, joint_speed=True,
        extra_windows=("1s",), context_folds=2, context_raw=True, random_state=0,
    ).fit(recs, ys)  # fmt: skip
    # the second stage sees the context of the probabilities (means, maxima over the first three scales,
    # after-minus-before per scale), the means of the features over context_means, and the features
    n_sc = len(model.context_scales)
    width = 2 * (1 + 3 * n_sc + min(3, n_sc) + n_sc) + len(names) * (len(model.context_means) + 1)
    assert model.context_.n_features_in_ == width
    n_feat = len(names)
    # one more time scale: its mean and std per feature
    assert model.n_features_in_ == base.n_features_in_ * n_feat // len(n0) + 2 * n_feat
    again = load_frame_model(model.save(tmp_path / "m.skb"))
    assert again.extra_windows == ("1s",) and again.acceleration and again.joint_speed and again.context_raw
    np.testing.assert_array_equal(model.predict_proba([seq])[0], again.predict_proba([seq])[0])
