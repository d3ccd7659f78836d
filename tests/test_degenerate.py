"""Degenerate input never gets a behaviour, and every error is the package's (issue 14, part 7).

Sequences with no valid frame (all NaN, all zero = Kinect "not tracked", no
frame at all) get the explicit no-pose result; 1- and 2-frame sequences get a
class; missing labels, empty training sets, coordinates beyond float32 and a
3-D model scored on 2-D data raise a :class:`SkelbehaveError`. Real MSR
Action3D clips and PRECOG recordings, real models (VLAD + ridge, the CNN
head, frame-level window statistics and window VLAD).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skelbehave
from skelbehave import PoseSequence
from skelbehave.encoding import VLADEncoder, make_encoder
from skelbehave.errors import (
    NoPoseError,
    NoPoseWarning,
    ParameterError,
    ParameterTypeError,
    PoseDataError,
    SkelbehaveError,
)
from skelbehave.evaluation import classification_report, frame_accuracy, frame_f1
from skelbehave.models.cnn import CNNClassifier
from skelbehave.pipeline import BehaviorModel, FrameLevelModel
from skelbehave.temporal import NO_POSE, bout_table, has_pose, present_frames, segments, to_frames


# ----------------------------------------------------------------------------- data and models
@pytest.fixture(scope="module")
def msr(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.flatnonzero(np.isin(ds.labels, (2, 6, 13)) & np.isin(ds.subjects, (1, 2, 3)))
    return [ds.sequences[i] for i in keep], np.asarray(ds.labels)[keep]


@pytest.fixture(scope="module")
def precog(shared_data):
    from skelbehave.datasets import load_precog

    ds = load_precog(shared_data / "precog_2016")
    by_name = {
        Path(s.meta["source"]).name: (s, np.asarray(y)) for s, y in zip(ds.sequences, ds.labels, strict=True)
    }
    return by_name


def _cnn():
    return CNNClassifier(
        augment=False, channels=(4, 4), max_epochs=2, n_frames=16, patience=100, random_state=0
    )


@pytest.fixture(scope="module")
def clip_models(msr):
    X, y = msr
    return {
        "vlad": BehaviorModel(encoder=VLADEncoder(n_clusters=3, pyramid_levels=2), random_state=0).fit(X, y),
        "cnn": BehaviorModel(classifier=_cnn(), random_state=0).fit(X, y),
    }


@pytest.fixture(scope="module")
def frame_models(precog):
    recs = [precog[n] for n in ("Seq1_1.csv", "Seq2_1.csv")]
    out = {}
    for enc in ("statistics", "vlad"):
        m = FrameLevelModel(window=15, encoding=enc, classifier_params={"n_estimators": 5}, random_state=0)
        out[enc] = m.fit([r for r, _ in recs], [y for _, y in recs])
    return out


def _degenerate(seq: PoseSequence) -> dict[str, PoseSequence]:
    J, C = seq.n_joints, seq.n_dims
    T = min(seq.n_frames, 40)
    return {
        "all_nan": PoseSequence(np.full((T, J, C), np.nan), seq.layout, fps=seq.fps),
        "all_zero": PoseSequence(np.zeros((T, J, C)), seq.layout, fps=seq.fps),
        "no_frame": PoseSequence(np.zeros((0, J, C)), seq.layout, fps=seq.fps),
    }


# ----------------------------------------------------------------------------- presence
def test_present_frames_on_a_real_recording(precog):
    seq, _ = precog["Seq1_1.csv"]
    pos = seq.position.copy()
    pos[10:20] = np.nan  # not seen
    pos[30:35] = 0.0  # Kinect "not tracked"
    pos[50, 1:] = np.nan  # one joint left: still a pose
    present = present_frames(PoseSequence(pos, seq.layout))
    assert present.sum() == seq.n_frames - 15
    assert not present[10:20].any() and not present[30:35].any() and present[50]
    assert has_pose(seq) and not has_pose(PoseSequence(pos[10:20], seq.layout))


# ----------------------------------------------------------------------------- clip models
@pytest.mark.parametrize("head", ["vlad", "cnn"])
def test_clip_model_gives_no_pose_never_a_behaviour(clip_models, msr, head):
    m = clip_models[head]
    X, _ = msr
    real = X[0]
    for name, seq in _degenerate(real).items():
        pred = m.predict([real, seq, X[1]])
        assert pred[1] == NO_POSE, name
        assert pred[0] in m.classes_ and pred[2] in m.classes_
        assert pred[0] == m.predict([real])[0] and pred[2] == m.predict([X[1]])[0]  # others unchanged
        proba = m.predict_proba([real, seq])
        assert np.isnan(proba[1]).all() and np.isfinite(proba[0]).all()
        np.testing.assert_allclose(proba[0], m.predict_proba([real])[0], rtol=1e-6)
        assert m.predict([seq]).tolist() == [NO_POSE]  # nothing with a pose at all
        with pytest.raises(NoPoseError, match="item 1: no valid frame"):
            m.predict([real, seq], no_pose="error")
    with pytest.raises(ParameterError, match="no_pose"):
        m.predict([real], no_pose="ignore")


@pytest.mark.parametrize("head", ["vlad", "cnn"])
@pytest.mark.parametrize("n_frames", [1, 2])
def test_clip_model_labels_one_and_two_frames(clip_models, msr, head, n_frames):
    m = clip_models[head]
    seq = msr[0][0][:n_frames]
    pred = m.predict([seq])
    assert pred[0] in m.classes_
    p = m.predict_proba([seq])[0]
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)


def test_clip_transform_and_decision_rows(clip_models, msr):
    m = clip_models["vlad"]
    real = msr[0][0]
    zero = _degenerate(real)["all_zero"]
    Z = m.transform([real, zero])
    assert Z.shape == (2, m.n_features_out_) and np.isnan(Z[1]).all() and np.isfinite(Z[0]).all()
    D = m.decision_function([zero, real])
    assert np.isnan(D[0]).all() and np.isfinite(D[1]).all()
    assert m.predict_proba([zero, zero]).shape == (2, len(m.classes_))


def test_string_classes_keep_a_string_array(msr):
    X, y = msr
    names = np.array([f"a{v}" for v in y])
    m = BehaviorModel(encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), random_state=0).fit(X, names)
    pred = m.predict([X[0], _degenerate(X[0])["all_nan"]])
    assert pred.dtype.kind == "U" and pred.tolist() == [m.predict([X[0]])[0], NO_POSE]


def test_clip_training_leaves_out_sequences_without_a_pose(msr):
    X, y = msr
    X = list(X)
    X[3] = _degenerate(X[3])["all_zero"]
    enc = VLADEncoder(n_clusters=2, pyramid_levels=1)
    with pytest.warns(NoPoseWarning, match="item 3"):
        m = BehaviorModel(encoder=enc, random_state=0).fit(X, y)
    ref = BehaviorModel(encoder=enc, random_state=0).fit(X[:3] + X[4:], np.r_[y[:3], y[4:]])
    assert (m.predict(msr[0][:6]) == ref.predict(msr[0][:6])).all()
    with pytest.raises(NoPoseError):
        BehaviorModel(encoder=enc).fit([_degenerate(s)["all_nan"] for s in X[:4]], y[:4])


def test_clip_labels_must_be_given(msr):
    X, y = msr
    bad = y.astype(object)
    bad[2] = None
    with pytest.raises(PoseDataError, match="item 2: its label is missing"):
        BehaviorModel().fit(X, bad)
    bad = y.astype(float)
    bad[5] = np.nan
    with pytest.raises(PoseDataError, match="item 5"):
        BehaviorModel().fit(X, bad)
    with pytest.raises(ParameterError, match="reserved"):
        BehaviorModel().fit(X, np.where(y == y[0], NO_POSE, "x"))


def test_empty_fit_is_a_package_error():
    for model in (BehaviorModel(), FrameLevelModel()):
        with pytest.raises(PoseDataError, match="no"):
            model.fit([], [])


# ----------------------------------------------------------------------------- frame models
@pytest.mark.parametrize("encoding", ["statistics", "vlad"])
def test_frame_model_marks_absent_recordings(frame_models, precog, encoding):
    m = frame_models[encoding]
    seq, _ = precog["Seq3_1.csv"]
    for name, rec in _degenerate(seq).items():
        (p,) = m.predict_proba([rec])
        assert p.shape == (rec.n_frames, len(m.classes_)) and np.isnan(p).all(), name
        (lab,) = m.predict([rec])
        assert len(lab) == rec.n_frames and all(v == NO_POSE for v in lab), name
        table = m.predict_table(rec)
        assert table["absent"].all() and table["label"].isna().all(), name
        assert len(m.segments(rec)) == 0, name


@pytest.mark.parametrize("encoding", ["statistics", "vlad"])
def test_frame_model_marks_absent_frames_inside_a_recording(frame_models, precog, encoding):
    m = frame_models[encoding]
    seq, y = precog["Seq3_1.csv"]
    pos = seq.position.copy()
    pos[100:160] = np.nan
    pos[300:320] = 0.0
    gappy = PoseSequence(pos, seq.layout, fps=seq.fps, meta=seq.meta)
    absent = ~present_frames(gappy)
    (lab,) = m.predict([gappy])
    assert (np.asarray([v == NO_POSE for v in lab]) == absent).all()
    assert set(lab[~absent].tolist()) <= set(m.classes_.tolist())
    table = m.predict_table(gappy)
    assert (table["absent"].to_numpy() == absent).all()
    assert (
        table.loc[table["absent"], "label"].isna().all()
        and table.loc[~table["absent"], "label"].notna().all()
    )
    assert np.isnan(table.loc[table["absent"], [f"proba_{c}" for c in m.classes_]].to_numpy()).all()
    bouts = m.segments(gappy)
    covered = np.zeros(len(lab), dtype=bool)
    for s, e in zip(bouts["start"], bouts["end"], strict=True):
        covered[s:e] = True
    assert (covered == ~absent).all()  # bouts cover exactly the frames with a pose
    assert np.isfinite(bouts["score"]).all()
    budget = bout_table(lab)
    assert NO_POSE not in budget.index and budget["frames"].sum() == (~absent).sum()
    assert m.score([gappy], [y]) == pytest.approx(frame_f1(y, lab, labels=m.classes_.tolist()))
    # absent frames are not scored: the same as scoring only the frames with a pose
    assert frame_accuracy(y, lab) == pytest.approx(float(np.mean(y[~absent] == lab[~absent].astype(y.dtype))))


@pytest.mark.parametrize("encoding", ["statistics", "vlad"])
@pytest.mark.parametrize("n_frames", [1, 2])
def test_frame_model_labels_one_and_two_frames(frame_models, precog, encoding, n_frames):
    m = frame_models[encoding]
    seq, _ = precog["Seq3_1.csv"]
    (lab,) = m.predict([seq[:n_frames]])
    assert len(lab) == n_frames and set(lab.tolist()) <= set(m.classes_.tolist())


def test_frame_labels_must_be_given(precog):
    seq, y = precog["Seq1_1.csv"]
    bad = y.astype(float)
    bad[7] = np.nan
    m = FrameLevelModel(window=15, classifier_params={"n_estimators": 3})
    with pytest.raises(PoseDataError, match=r"Seq1_1\.csv.*recording 0: 1 frame label\(s\) missing.*frame 7"):
        m.fit([seq], [bad])
    bad = y.astype(object)
    bad[:3] = None
    with pytest.raises(PoseDataError, match="recording 0: 3 frame label"):
        m.fit([seq], [bad])


def test_frame_training_skips_absent_frames(precog):
    (s1, y1), (s2, y2) = precog["Seq1_1.csv"], precog["Seq2_1.csv"]
    nobody = PoseSequence(np.zeros_like(s2.position), s2.layout, fps=s2.fps)
    m = FrameLevelModel(window=15, classifier_params={"n_estimators": 3}, random_state=0)
    ref = FrameLevelModel(window=15, classifier_params={"n_estimators": 3}, random_state=0).fit([s1], [y1])
    m.fit([s1, nobody], [y1, y2])  # the recording without anybody adds no window
    assert (m.predict([s1])[0] == ref.predict([s1])[0]).all()
    with pytest.raises(PoseDataError, match="no training window"):
        FrameLevelModel(window=15).fit([nobody], [y2])


def test_saved_3d_frame_model_refuses_a_2d_recording(tmp_path, frame_models, precog):
    path = frame_models["statistics"].save(tmp_path / "f.skb")
    m = skelbehave.load(path)
    seq, _ = precog["Seq3_1.csv"]
    flat = PoseSequence(seq.position[..., :2], seq.layout, fps=seq.fps)
    with pytest.raises(SkelbehaveError, match="2-D"):
        m.predict([flat])
    # the tree kernel itself checks the width of what it is given
    with pytest.raises(SkelbehaveError, match="features per row"):
        m.classifier_.predict_proba(np.zeros((4, m.n_features_in_ - 3), dtype=np.float32))


def test_clip_model_refuses_other_coordinate_count(clip_models, msr):
    seq = msr[0][0]
    flat = PoseSequence(seq.position[..., :2], seq.layout, fps=seq.fps)
    with pytest.raises(PoseDataError, match="2-D coordinates, the model was trained on 3-D"):
        clip_models["vlad"].predict([flat])


# ----------------------------------------------------------------------------- huge coordinates
def test_huge_coordinates_get_no_class(clip_models, frame_models, msr, precog):
    seq = msr[0][0]
    with pytest.raises(PoseDataError):
        PoseSequence(seq.position * 1e300, seq.layout)
    for m in clip_models.values():
        with pytest.raises(SkelbehaveError):
            m.predict([seq.position * 1e300])
    rec, _ = precog["Seq3_1.csv"]
    with pytest.raises(SkelbehaveError):
        frame_models["statistics"].predict([rec.position * 1e300])


# ----------------------------------------------------------------------------- evaluation and tables
def test_clip_metrics_leave_out_no_pose(clip_models, msr):
    m = clip_models["vlad"]
    X, y = msr
    Xd = [*X[:10], _degenerate(X[10])["all_nan"]]
    pred = m.predict(Xd)
    rep = classification_report(y[:11], pred)
    ref = classification_report(y[:10], m.predict(X[:10]))
    assert rep.n_no_pose == 1 and rep.accuracy == ref.accuracy and rep.macro_f1 == ref.macro_f1
    assert "without a pose" in str(rep)


def test_batch_tables_show_no_pose(clip_models, frame_models, msr, precog):
    from skelbehave.batch.tables import score_sequences

    seq = msr[0][0]
    pos = seq.position.copy()
    pos[: seq.n_frames // 2] = 0.0  # first half: Kinect tracked nobody
    half = PoseSequence(pos, seq.layout, fps=15.0)
    w = seq.n_frames // 2
    table = score_sequences(clip_models["vlad"], [half], window=w, stride=w)
    assert pd.isna(table["label"].iloc[0]) and np.isnan(table.filter(like="proba_").iloc[0]).all()
    assert table["label"].iloc[-1] in clip_models["vlad"].classes_
    rec, _ = precog["Seq3_1.csv"]
    pos = rec.position.copy()
    pos[:50] = np.nan
    ft = score_sequences(frame_models["statistics"], [PoseSequence(pos, rec.layout, fps=rec.fps)])
    assert ft["absent"].iloc[:50].all() and not ft["absent"].iloc[50:].any()
    assert ft["label"].iloc[:50].isna().all()


# ----------------------------------------------------------------------------- errors are the package's
def test_bad_arguments_raise_package_errors_that_are_still_value_errors(msr):
    from skelbehave.evaluation import segment_f1

    seq = msr[0][0]
    labels = np.r_[np.zeros(10), np.ones(seq.n_frames - 10)]
    cases = [
        lambda: make_encoder("nope"),
        lambda: to_frames(-5),
        lambda: to_frames("abc", 30.0),
        lambda: FrameLevelModel(encoding="nope").fit([seq], [labels]),
        lambda: FrameLevelModel(classifier="cnn").fit([seq], [labels]),
        lambda: BehaviorModel(encoder=VLADEncoder(n_clusters=2)).fit(msr[0][:4], [0, 0, 0, 0]),
        lambda: segment_f1([0, 1], [0, 1], iou_threshold=0),
    ]
    for case in cases:
        with pytest.raises(SkelbehaveError) as info:
            case()
        assert isinstance(info.value, ValueError), type(info.value)  # scikit-learn's checks expect ValueError
    with pytest.raises(ParameterTypeError):
        skelbehave.fit(msr[0][:4], [0, 1, 0, 1], no_such_option=3)
    with pytest.raises(TypeError):  # still a TypeError for callers that catch it
        skelbehave.fit(msr[0][:4], [0, 1, 0, 1], no_such_option=3)


def test_no_foreign_raise_in_the_model_layers():
    """No ``raise ValueError/TypeError/KeyError/IndexError/RuntimeError`` left in the layers of this part."""
    import re

    root = Path(skelbehave.__file__).parent
    files = [
        p
        for d in ("pipeline", "features", "encoding", "models", "temporal")
        for p in (root / d).rglob("*.py")
    ]
    files.append(root / "evaluation.py")
    pattern = re.compile(r"raise (ValueError|TypeError|KeyError|IndexError|RuntimeError)\b")
    offenders = [
        f"{p.relative_to(root)}:{i}"
        for p in files
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_segments_ignore_absent_runs():
    seg = segments(
        np.array([0, 0, -1, -1, 1]), np.array([[1, 0], [1, 0], [np.nan] * 2, [np.nan] * 2, [0, 1]])
    )
    assert seg["start"].tolist() == [0, 4] and np.isfinite(seg["score"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bout_table(np.array(["a", NO_POSE, "a"], dtype=object))["fraction"].tolist() == [1.0]
    tab = bout_table(np.array([0, -1, 0, 1]), classes=["rest", "walk"])
    assert tab["frames"].tolist() == [2, 1] and tab["bouts"].tolist() == [2, 1]


def test_bare_cnn_gives_no_pose(msr):
    X, y = msr
    Xd = list(X)
    Xd[2] = _degenerate(X[2])["all_nan"]
    with pytest.warns(NoPoseWarning):
        cnn = _cnn().fit(Xd, y)
    for name, seq in _degenerate(X[0]).items():
        pred = cnn.predict([X[0], seq])
        assert pred[0] in cnn.classes_ and pred[1] == NO_POSE, name
        assert np.isnan(cnn.predict_proba([seq])).all(), name
    bad = y.astype(object)
    bad[0] = None
    with pytest.raises(PoseDataError, match="item 0"):
        _cnn().fit(X, bad)
    flat = PoseSequence(X[0].position[..., :2], X[0].layout, fps=X[0].fps)
    with pytest.raises(PoseDataError, match="input channels"):
        cnn.predict([flat])


def test_what_is_not_a_list_of_sequences_is_refused(clip_models, frame_models, msr):
    for bad in (None, 5, "walk", {"a": 1}):
        for m in (clip_models["vlad"], clip_models["cnn"], frame_models["statistics"]):
            with pytest.raises(ParameterTypeError):
                m.predict(bad)
    arr = msr[0][0].position
    for bad in (arr.astype(complex), arr.astype(str)):
        for m in (clip_models["vlad"], clip_models["cnn"]):
            with pytest.raises(PoseDataError, match="real numbers"):
                m.predict([bad])
    with pytest.raises(ParameterError, match="context_folds"):
        FrameLevelModel(context_folds=-1).fit(
            [msr[0][0]], [np.r_[np.zeros(10), np.ones(msr[0][0].n_frames - 10)]]
        )
    with pytest.raises(ParameterError, match="n_clusters"):
        BehaviorModel(encoder=VLADEncoder(n_clusters=0)).fit(*msr)
