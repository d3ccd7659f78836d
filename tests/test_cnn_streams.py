"""CNN inputs: bone and angle channels (formula checks) and training-time augmentation."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skelbehave.errors import ModelFileError, ParameterError  # noqa: E402
from skelbehave.features.kinematics import body_scale  # noqa: E402
from skelbehave.layouts import JointLayout  # noqa: E402
from skelbehave.models.cnn import CNNClassifier  # noqa: E402
from skelbehave.models.cnn.inputs import (  # noqa: E402
    angle_triples,
    augment_dict,
    augment_positions,
    clean_positions,
    joint_angles,
    make_inputs,
)
from skelbehave.models.cnn.state import cnn_from_state, cnn_state  # noqa: E402

pytestmark = pytest.mark.cnn

torch.set_num_threads(1)

# a tiny 2-D "arm": shoulder 0 (root) -> elbow 1 -> wrist 2, and a second branch 0 -> 3
ARM = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [-1.0, 1.0]])
BONES = np.array([[0, 1], [1, 2], [0, 3]])


def test_angle_triples_pair_every_two_bones_meeting_at_a_joint():
    assert angle_triples(BONES).tolist() == [[1, 0, 3], [0, 1, 2]]


def test_joint_angles_match_the_formula_in_2d_and_3d():
    seq = np.repeat(ARM[None], 4, axis=0)
    got = joint_angles(seq, angle_triples(BONES))
    # at the shoulder: elbow direction (1, 0) vs (-1, 1): 135 degrees; at the elbow: (-1, 0) vs (0, 2): 90
    assert np.allclose(got, [np.deg2rad(135), np.deg2rad(90)])
    seq3 = np.concatenate([seq, np.zeros((4, 4, 1))], axis=2)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    assert np.allclose(joint_angles(seq3 @ q.T, angle_triples(BONES)), got)  # rotation invariant


def test_bone_and_angle_channels_of_the_position_stream():
    seq = np.repeat(ARM[None], 10, axis=0) + np.linspace(0, 1, 10)[:, None, None]  # translating arm
    layout = JointLayout.from_names(("shoulder", "elbow", "wrist", "other"), root=["shoulder"])
    x = make_inputs(
        [seq], layout, n_frames=6, streams=("position",), bones=BONES, angles=angle_triples(BONES)
    )["position"][0]
    J, C, B = 4, 2, 3
    assert x.shape == (J * C + B * C + 2, 6)
    scale = body_scale(seq, layout)  # the same at every frame: a rigid translation
    bone = (ARM[BONES[:, 1]] - ARM[BONES[:, 0]]) / scale
    assert np.allclose(x[J * C : J * C + B * C].T, bone.reshape(1, -1), atol=1e-5)
    assert np.allclose(x[-2:].T, [np.deg2rad(135), np.deg2rad(90)], atol=1e-5)


@pytest.fixture(scope="module")
def clips(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    y = np.asarray(ds.labels)
    subj = np.asarray(ds.subjects)
    idx = np.flatnonzero(np.isin(y, np.unique(y)[:3]) & np.isin(subj, [1, 2]))
    return [ds.sequences[i] for i in idx], y[idx]


def test_augmentation_keeps_shapes_and_each_sequence_its_label(clips):
    X, y = clips
    layout = X[0].layout
    pos = [clean_positions(s) for s in X]
    plain = make_inputs(pos, layout, n_frames=32, bones=layout.bone_indices)
    off = make_inputs(pos, layout, n_frames=32, bones=layout.bone_indices, rng=np.random.default_rng(0),
                      augment={"rotate": 0, "time_warp": 0})  # fmt: skip
    for k in plain:
        assert np.allclose(off[k], plain[k], atol=1e-5)  # nothing asked: the same inputs, same order
    aug = augment_dict({"rotate_vertical": 20, "scale": 0.05, "crop": 0.9, "time_warp": 0.3,
                        "joint_dropout": 0.05})  # fmt: skip
    got = make_inputs(pos, layout, n_frames=32, bones=layout.bone_indices, rng=np.random.default_rng(1),
                      augment=aug)  # fmt: skip
    for k in plain:
        assert got[k].shape == plain[k].shape
        assert not np.allclose(got[k], plain[k])
    # order kept, so labels stay attached: an augmented sequence's nearest unaugmented one has its label
    a = got["position"].reshape(len(pos), -1)
    b = plain["position"].reshape(len(pos), -1)
    dist = ((a[:, None] - b[None]) ** 2).sum(-1)
    assert (y[dist.argmin(1)] == y).mean() >= 0.9
    assert (y[dist[:, ::-1].argmin(1)] == y).mean() < 0.7  # ... which a shuffled order would not give


def test_each_augmentation_does_what_it_says(clips):
    X, _ = clips
    layout = X[0].layout
    p = clean_positions(X[0])
    rng = np.random.default_rng(0)
    q, warp = augment_positions(p, rng, {"rotate_vertical": 40}, layout)
    assert np.allclose(q[..., 1], p[..., 1])  # the vertical axis is kept
    assert np.allclose(np.hypot(q[..., 0], q[..., 2]), np.hypot(p[..., 0], p[..., 2]))
    assert not np.allclose(q, p)
    u = np.linspace(0, 1, 50)
    q, warp = augment_positions(p, np.random.default_rng(3), {"time_warp": 0.9}, layout)
    w = warp(u)
    assert w[0] == 0 and w[-1] == 1 and np.all(np.diff(w) > 0) and not np.allclose(w, u)
    q, _ = augment_positions(p, np.random.default_rng(0), {"joint_dropout": 0.5}, layout)
    root = p[:, layout.root_indices].mean(axis=1)
    dropped = [j for j in range(p.shape[1]) if np.allclose(q[:, j], root) and not np.allclose(p[:, j], root)]
    assert 0 < len(dropped) < p.shape[1]
    assert not set(dropped) & set(np.asarray(layout.root_indices).tolist())
    with pytest.raises(ParameterError, match="time_warp"):
        augment_dict({"time_warp": 2.0})
    with pytest.raises(ParameterError, match="unknown key"):
        augment_dict({"mirror": 1})


def test_augmentation_is_off_at_predict_time_and_angles_save_and_load(clips):
    X, y = clips
    clf = CNNClassifier(channels=(8, 8), n_frames=24, max_epochs=2, angles=True, random_state=0,
                        augment={"rotate_vertical": 30, "time_warp": 0.5, "joint_dropout": 0.2})  # fmt: skip
    clf.fit(X, y)
    assert set(clf.classes_) == set(y)
    p1 = clf.predict_proba(X)
    assert np.array_equal(p1, clf.predict_proba(X))  # no randomness when predicting
    clf.set_params(augment=False)
    assert np.array_equal(p1, clf.predict_proba(X))
    n_in = clf.config_["stream_inputs"]["position"]
    J, C, B = 20, 3, len(X[0].layout.bone_indices)
    assert n_in == J * C + B * C + len(angle_triples(X[0].layout.bone_indices))
    params, arrays = cnn_state(clf)
    back = cnn_from_state(CNNClassifier, params, arrays)
    assert np.allclose(back.predict_proba(X), p1, atol=1e-6)
    old = {**params, "init_params": {k: v for k, v in params["init_params"].items() if k != "angles"}}
    with pytest.raises(ModelFileError, match="angles"):  # an older file (no angles) but angle arrays
        cnn_from_state(CNNClassifier, old, arrays)
    bad = {**params, "init_params": {**params["init_params"], "augment": {"rotate": -1}}}
    with pytest.raises(ModelFileError, match="augment"):
        cnn_from_state(CNNClassifier, bad, arrays)
