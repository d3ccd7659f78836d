"""Clips of several individuals: relative descriptors, order independence, save/load, NTU and rat dyads.

Real data: the NTU two-person sample (``S001C003P008R002A058``, shaking hands)
and bouts of stream S1 of the shared rat dyads cut as two-rat clips
(``benchmarks/interactions.py:rat_dyad_clips``; train recordings 1-8, test 9-12).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import skelbehave
from skelbehave import PoseSequence
from skelbehave.errors import ModelFileError, ParameterError, PoseDataError
from skelbehave.features.interaction import InteractionFeatures, key_points, relative_descriptors
from skelbehave.io import read_ntu_skeleton
from skelbehave.layouts import JointLayout
from skelbehave.pipeline.clip_multi import pool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from interactions import rat_dyad_clips, swap_joined

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
NTU = DATA / "ntu_rgbd_samples"
CLASSES = ["social", "nonsocial", "aggression"]


# ----------------------------------------------------------------------------- relative descriptors
def test_approach_speed_and_offset_synthetic():
    lay = JointLayout.from_names(["nose", "tail"])
    T = 9
    a = PoseSequence(np.tile([[1.0, 0.0], [0.0, 0.0]], (T, 1, 1)), lay, fps=10)  # still, facing +x
    shift = np.linspace(8.0, 4.0, T)[:, None, None] * np.array([0.0, 1.0])  # b comes closer along +y
    b = PoseSequence(a.position + shift, lay, fps=10)
    blocks, info = relative_descriptors(a, b)
    assert [i.kind for i in info] == ["distance", "offset", "approach"]
    dist, off, app = blocks
    scale = 0.5  # mean root-to-joint distance of each animal
    # b is to a's left (+y seen from a facing +x): rotated offset (0, +), same heading (cos 1, sin 0)
    assert np.allclose(off[:, 0], 0) and np.allclose(off[:, 1], shift[:, 0, 1] / scale)
    assert np.allclose(off[:, 2:], [1.0, 0.0])
    speed = 4.0 / (T - 1) * 10 / scale  # units per second over the scale
    assert np.allclose(app[:, 0], speed)  # closing speed
    assert np.allclose(app[:, 1], 0) and np.allclose(app[:, 2], speed)  # only b moves towards a
    assert np.allclose(app[:, 3], 0) and np.allclose(app[:, 4], speed)
    # swapping the pair transposes the key-point distance matrix and keeps the closing speed
    blocks_ba, _ = relative_descriptors(b, a)
    assert np.allclose(blocks_ba[0].reshape(T, 2, 2), dist.reshape(T, 2, 2).transpose(0, 2, 1))
    assert np.allclose(blocks_ba[2][:, 0], app[:, 0])
    assert np.allclose(blocks_ba[2][:, 1:3], app[:, 2:0:-1])


def test_pool_is_order_independent_bit_for_bit():
    V = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    ref = pool(V)
    for perm in ([4, 3, 2, 1, 0], [1, 0, 2, 4, 3]):
        assert np.array_equal(pool(V[perm]), ref)
    assert np.allclose(ref[:7], V.mean(axis=0)) and np.array_equal(ref[7:], V.max(axis=0))


@pytest.fixture(scope="module")
def ntu_pair():
    a, b = read_ntu_skeleton(NTU / "S001C003P008R002A058.skeleton")
    return a, b


def test_ntu_handshake_relative_distances(ntu_pair):
    a, b = ntu_pair
    (dist, off, _), _ = relative_descriptors(a, b)
    kp = key_points(a.position, a.layout)
    assert kp.shape[1] == 1 + len(a.layout.groups)  # root + one centroid per group
    d = dist.reshape(a.n_frames, kp.shape[1], kp.shape[1])
    arm_r = 1 + list(a.layout.groups).index("arm_right")
    # the right arms meet (shaking hands) while the bodies stay apart
    assert d[:, arm_r, arm_r].min() < 0.5 * d[0, arm_r, arm_r]
    assert d[:, 0, 0].min() > 1.5
    assert off.shape == (a.n_frames, 3)  # 3-D: the root difference, not rotated


def test_ntu_two_person_sample_fits_and_predicts(ntu_pair):
    a, b = ntu_pair
    X, y = [], []
    for s in range(0, a.n_frames - 30 + 1, 10):  # windows of the two-person clip (shaking hands)
        X.append([a[s : s + 30], b[s : s + 30]])
        y.append("A058")
    for name in ("S001C001P001R001A001", "S002C001P003R001A003"):  # one-person clips: no pair
        (p,) = read_ntu_skeleton(NTU / f"{name}.skeleton")
        for s in range(0, p.n_frames - 30 + 1, 20):
            X.append([p[s : s + 30]])
            y.append(name[-4:])
    model = skelbehave.fit(X, y, random_state=0)
    assert model.interaction_ is not None and model.layout_.name == "ntu25"
    F = model.transform(X)
    n_rel = model.relation_encoder_.n_features_out_
    assert F.shape == (len(X), 2 * model.encoder_.n_features_out_ + 2 * n_rel)
    assert np.all(F[len([v for v in y if v == "A058"]) :, -2 * n_rel :] == 0)  # one person: no relations
    assert np.any(F[0, -2 * n_rel :] != 0)
    assert (model.predict(X) == np.asarray(y)).mean() >= 0.9
    swapped = [r[::-1] for r in X]
    assert np.array_equal(model.predict_proba(swapped), model.predict_proba(X))
    # three people: every order of them gives the same vector; nobody tracked: "no_pose"
    c = PoseSequence(a.position[:30] + np.array([1.0, 0.0, 0.0]), a.layout, fps=a.fps)
    trio = [a[:30], b[:30], c]
    F3 = model.transform([trio, trio[::-1], [trio[1], trio[2], trio[0]]])
    assert np.array_equal(F3[0], F3[1]) and np.array_equal(F3[0], F3[2])
    empty = PoseSequence(np.full((30, 25, 3), np.nan), a.layout, fps=a.fps)
    assert model.predict([[empty, empty], X[0]]).tolist() == ["no_pose", "A058"]
    with pytest.raises(PoseDataError, match="trained on recordings"):
        model.predict([a, b])
    with pytest.raises(PoseDataError, match="same frames"):
        model.predict([[a, b[:40]]])
    with pytest.raises(PoseDataError, match="recording 1, individual 0 is a plain array; pass layout"):
        skelbehave.fit([X[0], [np.zeros(3)]], y[:2], random_state=0)
    with pytest.raises(ParameterError, match="two or more individuals"):
        skelbehave.fit([r[:1] for r in X], y, random_state=0)


# ----------------------------------------------------------------------------- rat dyad clips
@pytest.fixture(scope="module")
def rat():
    dyads, joined, labels, rec = rat_dyad_clips(range(1, 13))
    rec, y = np.asarray(rec), np.asarray(labels)
    tr, te = np.flatnonzero(rec <= 8), np.flatnonzero(rec >= 9)
    model = skelbehave.fit([dyads[i] for i in tr], y[tr], random_state=0)
    return dyads, joined, y, tr, te, model


def test_rat_dyad_clip_task_beats_concatenated_baseline(rat):
    dyads, joined, y, tr, te, model = rat
    assert set(y[te]) == set(CLASSES) and len(te) >= 100
    pred = model.predict([dyads[i] for i in te])
    f1 = f1_score(y[te], pred, labels=CLASSES, average="macro")
    base = skelbehave.fit([joined[i] for i in tr], y[tr], random_state=0)
    f1_base = f1_score(y[te], base.predict([joined[i] for i in te]), labels=CLASSES, average="macro")
    assert f1 > 0.55 and f1 > f1_base  # chance about 0.33
    # the baseline depends on which rat comes first; the interaction model does not
    sw = [te[k] for k in range(0, len(te), 3)]
    assert (base.predict([swap_joined(joined[i]) for i in sw]) != base.predict([joined[i] for i in sw])).any()
    F = model.transform([dyads[i] for i in sw])
    assert np.array_equal(model.transform([dyads[i][::-1] for i in sw]), F)
    assert np.array_equal(model.predict([dyads[i][::-1] for i in sw]), model.predict([dyads[i] for i in sw]))


def test_rat_dyad_model_save_load(rat, tmp_path):
    dyads, _, _, _, te, model = rat
    X = [dyads[i] for i in te[:20]]
    path = model.save(tmp_path / "dyad.skb")
    back = skelbehave.load(path)
    assert isinstance(back.interaction_, InteractionFeatures)
    assert np.array_equal(back.transform(X), model.transform(X))
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(back.predict(X), model.predict(X))
    # a file whose relation encoder disagrees with the interaction features is refused
    from skelbehave.pipeline import persist

    params, arrays = model._get_state()
    params = {**params, "relation_encoder": None}
    with pytest.raises(ModelFileError, match="come together"):
        type(model)._from_state(params, arrays)
    assert persist.KINDS["InteractionFeatures"].endswith(":InteractionFeatures")
