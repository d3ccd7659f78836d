"""The kinematics core: definitions on small arrays, numba kernels against their NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.features import _reference as R
from skelbehave.features.kinematics import (
    acceleration,
    body_scale,
    body_scale_ragged,
    central_difference,
    central_difference_ragged,
    heading,
    root_position,
    velocity,
)
from skelbehave.layouts import JointLayout, get_layout


def _ragged(rng, lengths, J=20, C=3, nan_frac=0.1):
    X = rng.normal(size=(int(np.sum(lengths)), J, C))
    X[rng.random(X.shape[:2]) < nan_frac] = np.nan
    off = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return X, off


# ----------------------------------------------------------------------------- central difference
def test_central_difference_interior_and_edges_by_hand():
    x = np.array([0.0, 1.0, 4.0, 9.0, 16.0, 25.0])
    d = central_difference(x, step=2)
    # t=0: (x2 - x0)/2; t=1: (x3 - x0)/3; t=2: (x4 - x0)/4; t=5: (x5 - x3)/2
    assert d.tolist() == [2.0, 3.0, 4.0, 6.0, 7.0, 8.0]


def test_central_difference_exact_on_linear_motion_and_zero_for_one_frame():
    t = np.arange(7.0)
    x = np.stack([3 * t, -t], axis=1)[:, None, :] * np.ones((1, 4, 1))  # (T, J, C)
    for step in (1, 2, 3, 10):
        d = central_difference(x, step)
        assert d.shape == x.shape
        assert np.allclose(d[..., 0], 3.0) and np.allclose(d[..., 1], -1.0)
    assert central_difference(np.ones((1, 3)), 2).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="step"):
        central_difference(x, 0)


def test_central_difference_keeps_nan_local():
    x = np.arange(8.0)
    x[4] = np.nan
    d = central_difference(x, 1)
    assert np.isnan(d[[3, 5]]).all() and np.isfinite(np.delete(d, [3, 5])).all()


@pytest.mark.parametrize("step", [1, 2, 5])
def test_central_difference_ragged_matches_reference_and_per_sequence(step):
    rng = np.random.default_rng(step)
    lengths = [1, 2, 7, 30, 0, 13]
    X, off = _ragged(rng, lengths)
    rate = rng.uniform(5, 30, size=len(lengths))
    got = central_difference_ragged(X, off, step, rate)
    ref = R.central_difference_ragged_numpy(X, off, step, rate)
    assert got.shape == X.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12, equal_nan=True)
    for i in range(len(lengths)):  # never reaches into the neighbouring sequence
        a, b = off[i], off[i + 1]
        np.testing.assert_allclose(got[a:b], central_difference(X[a:b], step) * rate[i], equal_nan=True)


def test_velocity_and_acceleration_of_a_parabola():
    t = np.arange(20.0)
    x = (0.5 * 3.0 * (t / 10.0) ** 2)[:, None]  # a = 3 units/s^2 at 10 fps
    v = velocity(x, step=2, fps=10)
    a = acceleration(x, step=2, fps=10)
    assert np.allclose(v[2:-2, 0], 3.0 * t[2:-2] / 10.0)
    assert np.allclose(a[4:-4, 0], 3.0)
    assert np.allclose(acceleration(x, step=2), a / 100.0)  # per frame^2 without fps
    with pytest.raises(ValueError, match="fps"):
        velocity(x, fps=0)


# ----------------------------------------------------------------------------- root, scale, heading
def test_root_position_is_nanmean_of_root_joints():
    lay = get_layout("coco17")
    p = np.random.default_rng(0).normal(size=(5, 17, 2))
    hips = lay.root_indices
    p[1, hips[0]] = np.nan
    p[2, hips] = np.nan
    r = root_position(p, lay)
    assert np.allclose(r[0], p[0, hips].mean(axis=0))
    assert np.allclose(r[1], p[1, hips[1]])
    assert np.isnan(r[2]).all()


def test_body_scale_size_sets_and_spread():
    p = np.zeros((5, 20, 3))
    p[:, 2, 1] = [1.0, 2.0, 3.0, 0.0, np.nan]  # frame 3 distance 0 and frame 4 NaN are skipped
    p[4, 2] = np.nan
    assert body_scale(p, "msr20") == 2.0
    lay = JointLayout.from_names(["a", "b", "c"])
    q = np.zeros((3, 3, 2))
    q[:, 1, 0] = 2.0
    q[:, 2, 1] = [4.0, 4.0, 10.0]  # root = mean of all joints (no root named)
    root = root_position(q, lay)
    dist = np.sqrt(((q - root[:, None]) ** 2).sum(axis=2)).mean(axis=1)
    assert body_scale(q, lay) == pytest.approx(np.median(dist))
    assert body_scale(q, lay, root=np.zeros((3, 2))) == pytest.approx(np.median([2.0, 2.0, 4.0]))
    assert body_scale(np.full((4, 3, 2), np.nan), lay) == 1.0


@pytest.mark.parametrize("layout", ["msr20", "coco17", "animal"])
def test_body_scale_ragged_matches_reference(layout):
    rng = np.random.default_rng(1)
    if layout == "animal":
        lay = JointLayout.from_names(["nose", "ear_l", "ear_r", "tail"])
        X, off = _ragged(rng, [5, 1, 0, 40, 9], J=4, C=2, nan_frac=0.3)
    else:
        lay = get_layout(layout)
        X, off = _ragged(rng, [5, 1, 0, 40, 9], J=lay.n_joints, C=3, nan_frac=0.3)
    X[off[3] : off[3] + 3] = np.nan
    got = body_scale_ragged(X, off, lay)
    ref = R.body_scale_ragged_numpy(X, off, lay)
    assert got.shape == (5,) and got[2] == 1.0
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_body_scale_is_invariant_to_translation_and_linear_in_size():
    X, _ = _ragged(np.random.default_rng(2), [30])
    s = body_scale(X, "msr20")
    assert body_scale(3.0 * X + 7.0, "msr20") == pytest.approx(3.0 * s)


def test_heading_forward_fill_and_facing():
    lay = JointLayout.from_names(["nose", "body", "tail"])
    p = np.zeros((4, 3, 2))
    p[:, 0] = [[0.0, 1.0], [np.nan, np.nan], [-1.0, 0.0], [0.0, -1.0]]
    p[:, 2] = [0.0, 0.0]
    h = heading(p, lay)
    assert np.allclose(h, [np.pi / 2, np.pi / 2, np.pi, -np.pi / 2])
    p[0, 0] = np.nan  # before the first known heading: the first known one
    assert np.allclose(heading(p, lay)[:2], np.pi)
    coco = get_layout("coco17")
    q = np.zeros((2, 17, 2))
    left, right = coco.indices(coco.facing[0]), coco.indices(coco.facing[1])
    q[:, left] = [0.0, 0.0]
    q[:, right] = [1.0, 0.0]  # left-to-right along +x: facing +y
    assert np.allclose(heading(q, coco), np.pi / 2)
    assert np.isnan(heading(np.full((3, 3, 2), np.nan), lay)).all()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_joint_features_scale_is_one_over_body_scale(backend):
    from skelbehave.features import normalization_params

    rng = np.random.default_rng(3)
    X, off = _ragged(rng, [12, 1, 30], nan_frac=0.2)
    X[off[2] : off[2] + 5] = np.nan
    M = normalization_params(X, off, "msr20", backend=backend)
    for i in range(3):
        want = 1.0 / body_scale(X[off[i] : off[i + 1]], "msr20")
        np.testing.assert_allclose(np.diag(M[i]), want, rtol=1e-12)
    lay = JointLayout.from_names(["a", "b", "c", "d"], root=["a"])
    Y, off2 = _ragged(rng, [9, 20], J=4, C=2, nan_frac=0.2)
    M2 = normalization_params(Y, off2, lay, backend=backend)
    for i in range(2):
        np.testing.assert_allclose(M2[i, 0, 0], 1.0 / body_scale(Y[off2[i] : off2[i + 1]], lay), rtol=1e-12)
