"""Joint features: numba kernels against their NumPy references, edge cases, invariances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelbehave.errors import LayoutError, PoseDataError
from skelbehave.features import (
    JointFeatures,
    LocalDescriptors,
    joint_groups,
    keyframe_indices,
    normalization_params,
    normalize,
    relative_displacement,
    relative_position,
)
from skelbehave.features.descriptors import BlockInfo
from skelbehave.features.kinematics import acceleration, body_scale, central_difference, velocity
from skelbehave.layouts import get_layout
from skelbehave.poses import PoseSequence

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
UTD_ORDER = [
    "head", "shoulder_center", "spine", "hip_center",
    "shoulder_left", "elbow_left", "wrist_left", "hand_left",
    "shoulder_right", "elbow_right", "wrist_right", "hand_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
]  # fmt: skip
TOL = 1e-10


def _read_msr(path: Path) -> np.ndarray:
    a = np.fromfile(path, sep=" ").reshape(-1, 20, 4)[:, :, :3].copy()
    a[np.all(a == 0, axis=(1, 2))] = np.nan  # Kinect "no skeleton" frames are missing, not 0
    return a


@pytest.fixture(scope="module")
def msr() -> list[np.ndarray]:
    files = sorted((DATA / "msr_action3d").glob("*_skeleton3D.txt"))
    assert len(files) == 567, f"expected the 567 MSR Action3D files under {DATA}"
    return [_read_msr(f) for f in files]


@pytest.fixture(scope="module")
def utd() -> list[PoseSequence]:
    from scipy.io import loadmat

    lay = get_layout("kinect_v1")
    perm = [UTD_ORDER.index(j) for j in lay.joints]
    files = sorted((DATA / "utd_mhad").glob("*_skeleton.mat"))[::8]
    assert len(files) > 100
    return [
        PoseSequence(loadmat(f)["d_skel"].transpose(2, 0, 1)[:, perm], lay, fps=30.0, meta={"source": str(f)})
        for f in files
    ]


def _both(X, **kw):
    a = JointFeatures(**kw).fit(X).transform(X)
    b = JointFeatures(backend="numpy", **kw).fit(X).transform(X)
    return a, b


def _same(a: LocalDescriptors, b: LocalDescriptors) -> None:
    assert a.group_names == b.group_names
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.frame_index, b.frame_index)
    np.testing.assert_array_equal(a.n_frames, b.n_frames)
    np.testing.assert_allclose(a.concat(), b.concat(), rtol=0, atol=TOL)


CONFIGS = [
    {},
    {"rotate": True, "pairwise": True, "overlapping": True},
    {"keyframes": "motion", "n_keyframes": 12, "step": 3, "acceleration": True},
    {"keyframes": "stride", "stride": 4, "normalize": False, "acceleration": True},
    {"fill_value": None, "rotate": True, "n_position_groups": 3, "n_displacement_groups": 6},
]


# ----------------------------------------------------------------------------- kernels vs NumPy
@pytest.mark.parametrize(
    "kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default"
)
def test_numba_matches_numpy_on_all_msr(msr, kw):
    a, b = _both(msr, layout="msr20", **kw)
    _same(a, b)
    assert a.n_sequences == 567
    if kw.get("fill_value", 0.0) is not None:
        assert np.isfinite(a.concat()).all()


def test_numba_matches_numpy_on_utd(utd):
    a, b = _both(utd, rotate=True, pairwise=True)
    _same(a, b)
    assert a.n_rows == sum(s.n_frames for s in utd)


def test_low_level_functions_match_numpy(msr):
    X = np.concatenate(msr[:80])
    off = np.concatenate([[0], np.cumsum([len(x) for x in msr[:80]])])
    for rotate in (False, True):
        np.testing.assert_allclose(
            normalization_params(X, off, "msr20", rotate=rotate),
            normalization_params(X, off, "msr20", rotate=rotate, backend="numpy"),
            atol=TOL,
        )
        for translate in (False, True):
            np.testing.assert_allclose(
                normalize(X, off, "msr20", rotate=rotate, translate=translate),
                normalize(X, off, "msr20", rotate=rotate, translate=translate, backend="numpy"),
                atol=TOL,
            )
    kw = {"joints": ["head", "hand_left", "foot_right"]}
    np.testing.assert_allclose(
        relative_position(X, off, "msr20", pairwise=True, **kw),
        relative_position(X, off, "msr20", pairwise=True, backend="numpy", **kw),
        atol=TOL,
    )
    np.testing.assert_allclose(
        relative_displacement(X, off, "msr20", step=3, fps=15.0, **kw),
        relative_displacement(X, off, "msr20", step=3, fps=15.0, backend="numpy", **kw),
        atol=TOL,
    )
    for mode in ("stride", "motion"):
        r1, o1 = keyframe_indices(X, off, mode=mode, n_keyframes=7, stride=3)
        r2, o2 = keyframe_indices(X, off, mode=mode, n_keyframes=7, stride=3, backend="numpy")
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(o1, o2)


# ----------------------------------------------------------------------------- edge cases
def test_single_frame_sequence_has_zero_displacement(msr):
    X = [msr[0][:1], msr[1]]
    a, b = _both(X, layout="msr20")
    _same(a, b)
    first = a.sequence(0)
    assert all(blk.shape[0] == 1 for blk in first)
    disp = np.hstack(
        [blk for info, blk in zip(a.block_info, first, strict=True) if info.kind == "displacement"]
    )
    assert np.all(disp == 0.0)
    pos = np.hstack([blk for info, blk in zip(a.block_info, first, strict=True) if info.kind == "position"])
    assert np.any(pos != 0.0)


def test_short_sequence_uses_one_sided_differences():
    # T = 3 < 2 D = 4: every frame clamps to the sequence's first and last frame
    x = np.zeros((3, 20, 3))
    x[:, :, 0] = np.array([0.0, 1.0, 3.0])[:, None]
    d = relative_displacement(x, None, "msr20", joints=["head"], step=2, fps=10.0, normalize=False)
    np.testing.assert_allclose(d[:, 0], [15.0, 15.0, 15.0])  # (3 - 0) / (2 frames / 10 fps)
    x5 = np.zeros((5, 20, 3))
    x5[:, :, 1] = np.array([0.0, 1.0, 4.0, 9.0, 16.0])[:, None]
    d5 = relative_displacement(x5, None, "msr20", joints=["head"], step=1, normalize=False)
    np.testing.assert_allclose(d5[:, 1], [1.0, 2.0, 4.0, 6.0, 7.0])  # per frame, one-sided at edges


def test_no_leakage_across_sequences(msr):
    a, b = msr[3], msr[10]
    both = JointFeatures(layout="msr20", rotate=True).fit([a]).transform([a, b])
    alone_a = JointFeatures(layout="msr20", rotate=True).fit([a]).transform([a])
    alone_b = JointFeatures(layout="msr20", rotate=True).fit([b]).transform([b])
    np.testing.assert_array_equal(both.concat()[: len(a)], alone_a.concat())
    np.testing.assert_array_equal(both.concat()[len(a) :], alone_b.concat())
    np.testing.assert_array_equal(both.frame_index, np.r_[np.arange(len(a)), np.arange(len(b))])


def test_nan_joints_policy(msr):
    x = msr[20].copy()
    x[5:9, get_layout("msr20").index("hand_left")] = np.nan
    kept = JointFeatures(layout="msr20", fill_value=None).fit([x])
    d = kept.transform([x])
    ref = JointFeatures(layout="msr20", fill_value=None, backend="numpy").fit([x]).transform([x])
    _same(d, ref)
    names = kept.get_feature_names_out()
    full = d.concat()
    bad_cols = {n.rsplit(":", 1)[0].split(":")[0] for n in names[np.isnan(full).any(axis=0)]}
    assert bad_cols == {"position", "displacement"}
    assert all("hand_left" in n for n in names[np.isnan(full).any(axis=0)])
    # displacement at frames 3..10 touches the gap (step 2), position only at 5..8
    hl_pos = [i for i, n in enumerate(names) if n.startswith("position:") and ":hand_left." in n]
    hl_disp = [i for i, n in enumerate(names) if n.startswith("displacement:") and ":hand_left." in n]
    assert np.flatnonzero(np.isnan(full[:, hl_pos]).any(axis=1)).tolist() == [5, 6, 7, 8]
    assert np.flatnonzero(np.isnan(full[:, hl_disp]).any(axis=1)).tolist() == [3, 4, 5, 6, 7, 8, 9, 10]
    filled = JointFeatures(layout="msr20").fit([x]).transform([x]).concat()
    assert np.isfinite(filled).all()
    np.testing.assert_array_equal(filled[np.isnan(full)], 0.0)
    np.testing.assert_array_equal(filled[~np.isnan(full)], full[~np.isnan(full)])


def test_all_missing_sequence_is_finite_after_fill():
    x = np.full((6, 20, 3), np.nan)
    d = JointFeatures(layout="msr20", rotate=True).fit([x]).transform([x])
    assert np.all(d.concat() == 0.0)


def test_two_d_input_matches_numpy(msr):
    X2 = [x[:, :, :2].copy() for x in msr[:60]]
    a, b = _both(X2, layout="msr20", rotate=True, pairwise=True)
    _same(a, b)
    assert a.dims[0] == 2  # head alone: 1 joint x 2 coords, no pairs inside a 1-joint group
    # 2-D rotation is in-plane: the mean hip/shoulder line becomes horizontal
    y = normalize(X2[0], None, "msr20", rotate=True)
    lay = get_layout("msr20")
    f = np.nanmean(
        y[:, lay.indices(lay.facing[1])].mean(axis=1) - y[:, lay.indices(lay.facing[0])].mean(axis=1), axis=0
    )
    assert abs(f[1]) < 1e-12 and f[0] > 0


def test_single_joint_user_group(msr):
    kw = {
        "position_groups": {"hand": ["hand_left"]},
        "displacement_groups": [["foot_right"], ["head", "spine"]],
    }
    a, b = _both(msr[:30], layout="msr20", **kw)
    _same(a, b)
    assert a.group_names == ["position:hand", "displacement:g0", "displacement:g1"]
    assert a.block_info[1] == BlockInfo("displacement", "g0")
    assert a.dims == [3, 3, 6]


def test_empty_collection_and_zero_length_sequence(msr):
    f = JointFeatures(layout="msr20").fit(msr[:2])
    d = f.transform([msr[0], np.zeros((0, 20, 3)), msr[1]])
    assert d.lengths().tolist() == [len(msr[0]), 0, len(msr[1])]
    assert f.transform([]).n_rows == 0


# ----------------------------------------------------------------------------- invariances
def _rot_y(x: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return x @ R.T


def test_translation_scale_rotation_invariance(msr):
    x = msr[100]
    moved = 2.5 * _rot_y(x, 0.8) + np.array([1.0, -2.0, 3.0])
    f_rot = JointFeatures(layout="msr20", rotate=True, pairwise=True).fit([x])
    np.testing.assert_allclose(f_rot.transform([moved]).concat(), f_rot.transform([x]).concat(), atol=1e-9)
    f = JointFeatures(layout="msr20").fit([x])
    shifted = 0.5 * x + np.array([0.3, 0.1, -0.2])
    np.testing.assert_allclose(f.transform([shifted]).concat(), f.transform([x]).concat(), atol=1e-9)
    # without rotate, a turned body gives different descriptors
    assert not np.allclose(f.transform([_rot_y(x, 0.8)]).concat(), f.transform([x]).concat(), atol=1e-3)
    # without normalize, scale is kept
    g = JointFeatures(layout="msr20", normalize=False).fit([x])
    np.testing.assert_allclose(g.transform([2 * x]).concat(), 2 * g.transform([x]).concat(), atol=1e-9)


def test_body_size_is_one_after_normalisation(msr):
    lay = get_layout("msr20")
    y = normalize(msr[42], None, lay)
    d = np.linalg.norm(y[:, lay.index("shoulder_center")] - y[:, lay.index("hip_center")], axis=1)
    assert np.nanmedian(d) == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(y[:, lay.index("hip_center")][~np.isnan(d)], 0.0)


def test_displacement_in_seconds_uses_fps():
    x = np.zeros((10, 20, 3))
    x[:, :, 2] = 0.1 * np.arange(10)[:, None]
    seqs = [PoseSequence(x, "msr20", fps=30.0)]
    d = JointFeatures(n_position_groups=0, normalize=False).fit(seqs).transform(seqs)
    np.testing.assert_allclose(d.concat()[:, 2::3], 3.0)  # 0.1 m per frame at 30 fps
    per_frame = JointFeatures(layout="msr20", n_position_groups=0, normalize=False).fit([x]).transform([x])
    np.testing.assert_allclose(per_frame.concat()[:, 2::3], 0.1)
    with pytest.raises(PoseDataError, match="unknown fps"):
        JointFeatures().fit(seqs).transform([seqs[0], PoseSequence(x, "msr20")])


# ----------------------------------------------------------------------------- groups and key frames
def test_default_groups_and_counts(msr):
    f = JointFeatures(layout="msr20").fit(msr[:3])
    assert [(b.kind, b.part) for b in f.block_info_[:6]] == [
        ("position", "head"),
        ("position", "torso"),
        ("position", "arm_left"),
        ("position", "arm_right"),
        ("position", "leg_left"),
        ("position", "leg_right"),
    ]
    assert [str(b) for b in f.block_info_[6:]] == [
        "displacement:head+torso",
        "displacement:arm_left",
        "displacement:arm_right",
        "displacement:leg_left+leg_right",
    ]
    assert sum(f.dims_) == 2 * 20 * 3  # non-overlapping groups cover each joint once per kind
    pos_only = JointFeatures(layout="msr20", n_displacement_groups=0).fit(msr[:3]).transform(msr[:3])
    assert all(b.kind == "position" for b in pos_only.block_info)
    disp_only = JointFeatures(layout="msr20", n_position_groups=0).fit(msr[:3]).transform(msr[:3])
    assert all(b.kind == "displacement" for b in disp_only.block_info)
    with pytest.raises(ValueError, match="no feature groups"):
        JointFeatures(layout="msr20", n_position_groups=0, n_displacement_groups=0).fit(msr[:3])
    with pytest.raises(LayoutError, match="elbow_middle"):
        JointFeatures(layout="msr20", position_groups=[["elbow_middle"]]).fit(msr[:3])


def test_overlapping_groups_add_bone_neighbours():
    names, groups = joint_groups("msr20", 6, overlapping=True)
    arm = groups[names.index("arm_left")]
    assert set(arm) == {"shoulder_center", "shoulder_left", "elbow_left", "wrist_left", "hand_left"}
    _, plain = joint_groups("msr20", 6)
    assert sum(map(len, groups)) > sum(map(len, plain)) == 20


def test_pairwise_stays_inside_groups(msr):
    f = JointFeatures(layout="msr20", pairwise=True).fit(msr[:2])
    sizes = [len(g) for g in f.groups_[:6]]
    assert f.dims_[:6] == [3 * (k + k * (k - 1) // 2) for k in sizes]
    assert sum(f.dims_[:6]) < 3 * 20 * 19 // 2  # far fewer than all J^2 pairs


def test_keyframes_motion_and_stride(msr):
    x = msr[7]
    d = JointFeatures(layout="msr20", keyframes="motion", n_keyframes=5).fit([x]).transform([x])
    idx = d.frame_index
    assert len(idx) == 5 and np.all(np.diff(idx) > 0)
    e = np.nansum(np.sum(central_difference(x, 1) ** 2, axis=2), axis=1)  # edges: one-sided, / span
    assert set(idx) == set(np.argsort(-e, kind="stable")[:5])
    full = JointFeatures(layout="msr20").fit([x]).transform([x]).concat()
    np.testing.assert_array_equal(
        d.concat(), full[idx]
    )  # descriptors use the full sequence around key frames
    s = JointFeatures(layout="msr20", keyframes="stride", stride=4).fit([x]).transform([x])
    np.testing.assert_array_equal(s.frame_index, np.arange(0, len(x), 4))
    short = JointFeatures(layout="msr20", keyframes="motion", n_keyframes=500).fit([x]).transform([x])
    np.testing.assert_array_equal(short.frame_index, np.arange(len(x)))
    with pytest.raises(ValueError, match="n_keyframes"):
        JointFeatures(layout="msr20", keyframes="motion").fit([x])


# ----------------------------------------------------------------------------- estimator API
def test_sklearn_conventions(msr):
    from sklearn.base import clone
    from sklearn.utils import get_tags

    f = JointFeatures(layout="msr20", n_position_groups=3, rotate=True)
    g = clone(f)
    assert g.get_params() == f.get_params() and g is not f
    assert not hasattr(g, "layout_")
    g.set_params(n_displacement_groups=2)
    assert g.n_displacement_groups == 2
    with pytest.raises(ValueError, match="invalid parameter"):
        g.set_params(n_groups=3)
    assert get_tags(f).transformer_tags is not None
    assert "n_position_groups=3" in repr(f)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        JointFeatures(layout="msr20").transform(msr[:1])
    d = g.fit_transform(msr[:4])
    assert len(g.get_feature_names_out()) == d.concat().shape[1]


def test_n_jobs_same_result_and_restores_threads(msr):
    import numba

    before = numba.get_num_threads()
    a = JointFeatures(layout="msr20", n_jobs=2, keyframes="motion", n_keyframes=9).fit(msr).transform(msr)
    b = JointFeatures(layout="msr20", n_jobs=1, keyframes="motion", n_keyframes=9).fit(msr).transform(msr)
    np.testing.assert_array_equal(a.concat(), b.concat())
    assert numba.get_num_threads() == before


def test_layout_mismatch_and_bad_input(msr):
    f = JointFeatures(layout="msr20").fit(msr[:2])
    with pytest.raises(LayoutError, match="differs from the fitted layout"):
        f.transform([PoseSequence(msr[0], "kinect_v1")])
    with pytest.raises(PoseDataError, match="coordinates"):
        f.transform([msr[0][:, :, :2]])
    with pytest.raises(PoseDataError):
        JointFeatures(layout="msr20").fit([np.zeros((5, 19, 3))])
    with pytest.raises(ValueError, match="offsets"):
        normalize(np.zeros((5, 20, 3)), np.array([0, 3]), "msr20")


def test_serial_and_parallel_kernels_are_cached_separately():
    from skelbehave.features import _kernels as K

    names = {
        d.py_func.__qualname__
        for d in (K._fused_serial, K._fused_parallel, K._energy_serial, K._energy_parallel)
    }
    assert len(names) == 4  # numba's cache key ignores parallel=True: same name would share one entry
    assert K._fused_parallel.targetoptions.get("parallel") and not K._fused_serial.targetoptions.get(
        "parallel"
    )


def test_importing_features_does_not_import_sklearn():
    # scikit-learn costs about a second to import; the transformer works without it
    import subprocess
    import sys

    code = "import sys, skelbehave.features; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_random_ragged_collections_match_numpy():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None)
    @given(
        lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6),
        C=st.sampled_from([2, 3]),
        step=st.integers(1, 4),
        nan_frac=st.sampled_from([0.0, 0.1, 0.5]),
        rotate=st.booleans(),
        pairwise=st.booleans(),
        keyframes=st.sampled_from(["all", "stride", "motion"]),
        seed=st.integers(0, 2**16),
    )
    def check(lengths, C, step, nan_frac, rotate, pairwise, keyframes, seed):
        rng = np.random.default_rng(seed)
        X = []
        for T in lengths:
            x = rng.normal(size=(T, 20, C))
            x[rng.random((T, 20)) < nan_frac] = np.nan
            X.append(x)
        kw = {"layout": "msr20", "step": step, "rotate": rotate, "pairwise": pairwise, "acceleration": True}
        kw.update(keyframes=keyframes, n_keyframes=3, stride=2, fill_value=None)
        a, b = _both(X, **kw)
        _same(a, b)
        np.testing.assert_array_equal(np.isnan(a.concat()), np.isnan(b.concat()))

    check()


# ----------------------------------------------------------------------------- the kinematics core
def test_displacement_and_acceleration_are_the_kinematics_definitions(utd):
    """JointFeatures' velocity and acceleration blocks equal kinematics.velocity / acceleration
    of the body-scaled positions (one formula, one edge treatment)."""
    seqs = utd[:6]
    f = JointFeatures(
        n_position_groups=0, n_displacement_groups=1, acceleration=True, step=3, fill_value=None
    ).fit(seqs)
    d = f.transform(seqs)
    assert [b.kind for b in d.block_info] == ["displacement", "acceleration"]
    np.testing.assert_array_equal(d.fps, [30.0] * 6)
    for i, s in enumerate(seqs):
        p = s.position / body_scale(s.position, s.layout)
        vel, acc = d.sequence(i)
        T = s.n_frames
        np.testing.assert_allclose(vel, velocity(p, 3, s.fps).reshape(T, -1), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(acc, acceleration(p, 3, s.fps).reshape(T, -1), rtol=1e-9, atol=1e-7)
    # a parabola: constant acceleration away from the edges
    t = np.arange(40.0) / 10.0
    x = np.zeros((40, 20, 3))
    x[:, :, 0] = 0.5 * 4.0 * t[:, None] ** 2
    x[:, 2, 1] = 1.0  # unit body size
    a = JointFeatures(layout="msr20", n_position_groups=0, n_displacement_groups=1, acceleration=True, fps=10)
    acc = a.fit([x]).transform([x]).blocks[1].reshape(40, 20, 3)
    np.testing.assert_allclose(acc[4:-4, :, 0], 4.0, rtol=1e-9)
    assert np.all(acc[:, :, 1:] == 0)
    with pytest.raises(ValueError, match="step"):
        JointFeatures(layout="msr20", step=0).fit([x])


# ----------------------------------------------------------------------------- first-release model files
V1 = Path(__file__).resolve().parent / "data" / "v1_kinematics"


def _rebuild_v1(path: Path):
    """Components of a first-release ``.skb`` file, upgraded and rebuilt (as the loader does)."""
    import json
    import zipfile

    from skelbehave.encoding import VLADEncoder
    from skelbehave.features import upgrade_v1_components
    from skelbehave.models.heads import head_from_state

    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("model.json"))
        with z.open("arrays.npz") as fh:
            npz = np.load(fh)
            arrays = {k: npz[k] for k in npz.files}
    comps = upgrade_v1_components(doc["components"])
    sub = {role: {k: arrays[f"{role}.{k}"] for k in e["arrays"]} for role, e in comps.items()}
    lay = get_layout(doc["layout_name"])
    feats = JointFeatures(**comps["features"]["params"]).fit([PoseSequence(np.zeros((2, 20, 3)), lay)])
    enc = VLADEncoder._from_state(comps["encoder"]["params"], sub["encoder"])
    clf = head_from_state(comps["classifier"]["params"], sub["classifier"])
    return doc, comps, feats, enc, clf


def test_upgraded_v1_model_predicts_what_the_first_release_predicted():
    import json

    from skelbehave.datasets import load_msr_action3d

    expected = json.loads((V1 / "expected.json").read_text())
    doc, comps, feats, enc, clf = _rebuild_v1(V1 / "msr_vlad_acc.skb")
    assert comps["features"]["params"]["step"] == 2 and comps["features"]["params"]["acceleration"] is True
    assert "displacement_step" not in comps["features"]["params"]
    assert comps["encoder"]["params"]["params"]["kind_weights"] == {"displacement": 2.0, "acceleration": 3.0}
    assert doc["components"]["encoder"]["params"]["params"]["delta_step"] == 2  # input left unchanged
    ds = load_msr_action3d()
    by_name = {Path(s.meta["source"]).name: s for s in ds.sequences}
    X = [by_name[n] for n in expected["sources"]]
    assert sum(bool(np.isnan(s.position).any()) for s in X) >= 2  # missing frames are covered
    dec = clf.decision_function(enc.transform(feats.transform(X)))
    np.testing.assert_allclose(dec, expected["decision"], rtol=1e-7, atol=1e-9)
    assert clf.predict(enc.transform(feats.transform(X))).tolist() == expected["pred"]


def test_upgrade_v1_refuses_what_it_cannot_reproduce():
    from skelbehave.errors import ModelFileError
    from skelbehave.features import upgrade_v1_components

    comps = {
        "features": {"type": "JointFeatures", "params": {"displacement_step": 3, "keyframes": "all"}},
        "encoder": {"type": "VLADEncoder", "params": {"params": {"delta_step": 2}}},
    }
    with pytest.raises(ModelFileError, match="re-create"):
        upgrade_v1_components(comps)
    comps["encoder"]["params"]["params"]["delta_step"] = 0
    new = upgrade_v1_components(comps)
    assert new["features"]["params"] == {"step": 3, "keyframes": "all", "acceleration": False}
    assert comps["features"]["params"]["displacement_step"] == 3  # pure: the input is not changed
