"""Encoders: numba kernels vs NumPy references, normalisations, pyramid, fusion, state."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.encoding import BoWEncoder, FisherEncoder, VLADEncoder, _kernels, _reference, make_encoder
from skelbehave.features.descriptors import BlockInfo, LocalDescriptors


def _ragged(rng, lengths, dims, names=None, nan_rows=()):
    lengths = np.asarray(lengths)
    off = np.r_[0, np.cumsum(lengths)]
    N = int(off[-1])
    blocks = [rng.normal(size=(N, d)) for d in dims]
    for r in nan_rows:
        blocks[0][r] = np.nan
    fi = np.concatenate([np.arange(n) for n in lengths]) if N else np.zeros(0, int)
    names = names or [f"g{i}" for i in range(len(dims))]
    infos = [BlockInfo(*n.split(":")) if ":" in n else BlockInfo("features", n) for n in names]
    return LocalDescriptors(blocks, off, fi, lengths, infos)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ kernels vs references
@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_vlad_and_bow_kernels_match_reference(rng, levels):
    lengths = [7, 0, 1, 40, 13]  # includes an empty and a one-row sequence
    off = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    Z = rng.normal(size=(off[-1], 5))
    Z[[3, 30]] = np.nan
    rt = rng.random(off[-1])
    rt[0], rt[1] = 0.0, 0.999999  # edges of the unit interval
    C = rng.normal(size=(6, 5))
    V, cnt = _kernels.vlad_accumulate(Z, C, off, rt, levels)
    Vr, cr = _reference.vlad_reference(Z, C, off, rt, levels)
    np.testing.assert_allclose(V, Vr, atol=1e-12)
    np.testing.assert_array_equal(cnt, cr)
    H = _kernels.bow_accumulate(Z, C, off, rt, levels)
    np.testing.assert_array_equal(H, _reference.bow_reference(Z, C, off, rt, levels))
    # every valid row counted once per level
    assert cnt.sum() == levels * (off[-1] - 2)
    assert V.shape == (len(lengths), 2**levels - 1, 6, 5)


def test_fisher_kernel_matches_reference(rng):
    off = np.array([0, 20, 20, 55], dtype=np.int64)
    Z = rng.normal(size=(55, 4))
    Z[5] = np.nan
    rt = rng.random(55)
    means, sig = rng.normal(size=(3, 4)), rng.random((3, 4)) + 0.3
    lw = np.log(np.array([0.2, 0.3, 0.5]))
    got = _kernels.fisher_accumulate(Z, means, sig, lw, off, rt, 3)
    ref = _reference.fisher_reference(Z, means, sig, lw, off, rt, 3)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    # soft counts of a cell sum to its row count
    np.testing.assert_allclose(got[0].sum(axis=2), got[3], atol=1e-6)


# ------------------------------------------------------------------ encoders
def test_vlad_shape_and_normalisation(rng):
    D = _ragged(rng, [30, 45, 12], [6, 4])
    enc = VLADEncoder(n_clusters=4, pyramid_levels=2, random_state=0).fit(D)
    F = enc.transform(D)
    assert F.shape[1] == enc.n_features_out_ == 3 * 4 * (6 + 4)
    # whole vector scaled to norm <= 1; each (group, cell) block L2 normalised
    assert np.all(np.linalg.norm(F, axis=1) <= 1 + 1e-9)
    block = F[0, : 4 * 6] * np.sqrt(2 * 3)
    assert np.linalg.norm(block) == pytest.approx(1.0)
    # intra-normalisation: each centre's residual sum has unit norm (or zero)
    per_centre = np.linalg.norm(block.reshape(4, 6), axis=1)
    assert np.all((np.abs(per_centre - per_centre.max()) < 1e-9) | (per_centre == 0))


def test_vlad_normalisations_switch_off(rng):
    D = _ragged(rng, [30, 45], [3])
    raw = VLADEncoder(
        n_clusters=3, pyramid_levels=1, power_norm=False, intra_norm=False, l2_norm=False, random_state=0
    )
    raw.fit(D)
    V, _ = _reference.vlad_reference(
        raw._project(0, D.blocks[0]), raw.centres_[0], D.offsets, D.relative_time(), 1
    )
    np.testing.assert_allclose(raw.transform(D), V.reshape(2, -1), atol=1e-10)
    pw = VLADEncoder(n_clusters=3, pyramid_levels=1, intra_norm=False, l2_norm=False, random_state=0).fit(D)
    np.testing.assert_allclose(pw.transform(D), (np.sign(V) * np.sqrt(np.abs(V))).reshape(2, -1), atol=1e-10)


def test_pyramid_makes_time_order_count(rng):
    # second sequence = first reversed in time: orderless VLAD identical, pyramid not
    b = np.cumsum(rng.normal(size=(40, 3)), axis=0)  # a trajectory, so halves differ
    fi = np.arange(40)
    info = [BlockInfo("features", "g")]
    both = LocalDescriptors([np.vstack([b, b[::-1]])], [0, 40, 80], np.r_[fi, fi], [40, 40], info)
    train = _ragged(rng, [300], [3], names=["g"])
    train.blocks[0] *= 5
    flat = VLADEncoder(n_clusters=3, pyramid_levels=1, random_state=0).fit(train).transform(both)
    np.testing.assert_allclose(flat[0], flat[1], atol=1e-9)
    pyr = VLADEncoder(n_clusters=3, pyramid_levels=3, random_state=0).fit(train).transform(both)
    np.testing.assert_allclose(pyr[0, : flat.shape[1]], pyr[1, : flat.shape[1]], atol=1e-9)
    assert np.abs(pyr[0] - pyr[1]).max() > 0.05


def test_pca_reduces_and_whitens(rng):
    D = _ragged(rng, [200, 100], [10])
    D.blocks[0][:, 0] *= 10
    enc = VLADEncoder(n_clusters=2, n_components=3, whiten=True, pyramid_levels=1, random_state=0).fit(D)
    Z = enc._project(0, D.blocks[0])
    assert Z.shape == (300, 3)
    np.testing.assert_allclose(Z.std(axis=0, ddof=1), 1.0, rtol=1e-6)
    frac = VLADEncoder(n_clusters=2, n_components=0.5, pyramid_levels=1, random_state=0).fit(D)
    assert frac.pca_components_[0].shape[0] == 1  # the scaled column holds > 50 % of the variance


def test_nan_rows_are_skipped(rng):
    D = _ragged(rng, [20, 20], [3], nan_rows=[0, 1, 2])
    enc = VLADEncoder(n_clusters=2, pyramid_levels=1, random_state=0).fit(D)
    assert np.isfinite(enc.transform(D)).all()


def test_fusion_joins_parts_with_same_body_part(rng):
    D = _ragged(rng, [30, 30], [3, 6, 9], names=["position:arm", "displacement:arm", "displacement:leg"])
    D.blocks[1] *= 100  # scale differences are removed by the unit-variance scaling
    enc = VLADEncoder(n_clusters=2, pyramid_levels=1, fuse=True, random_state=0).fit(D)
    assert enc.group_names_ == ["position+displacement:arm", "displacement:leg"]
    assert enc.group_dims_ == [9, 9]
    fused = enc._fused(D)
    tot = [np.sqrt(fused.blocks[0][:, :3].var(0).sum()), np.sqrt(fused.blocks[0][:, 3:].var(0).sum())]
    np.testing.assert_allclose(tot, 1.0, rtol=1e-6)
    kw = {"displacement": 2.0}
    w = VLADEncoder(n_clusters=2, pyramid_levels=1, fuse=True, kind_weights=kw, random_state=0).fit(D)
    assert np.sqrt(w._fused(D).blocks[0][:, 3:].var(0).sum()) == pytest.approx(2.0)


@pytest.mark.parametrize("cls", [VLADEncoder, BoWEncoder, FisherEncoder])
def test_state_round_trip_and_determinism(rng, cls):
    D = _ragged(rng, [25, 31, 40], [4, 5], names=["position:a", "displacement:a"])
    enc = cls(n_clusters=3, pyramid_levels=2, random_state=7).fit(D)
    again = cls(n_clusters=3, pyramid_levels=2, random_state=7).fit(D)
    np.testing.assert_array_equal(enc.transform(D), again.transform(D))
    params, arrays = enc._get_state()
    import json

    json.dumps(params)  # JSON-able
    back = cls._from_state(json.loads(json.dumps(params)), arrays)
    np.testing.assert_array_equal(back.transform(D), enc.transform(D))


def test_bow_and_fisher_shapes(rng):
    D = _ragged(rng, [25, 31], [4])
    bow = BoWEncoder(n_clusters=5, pyramid_levels=2, random_state=0).fit(D)
    H = bow.transform(D)
    assert H.shape == (2, 3 * 5)
    fv = FisherEncoder(n_clusters=2, pyramid_levels=1, random_state=0).fit(D)
    assert fv.transform(D).shape == (2, 2 * 2 * 4)
    assert make_encoder("fisher", n_clusters=3).n_clusters == 3
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("sift")


def test_subsampling_bounds_fit_rows(rng, monkeypatch):
    D = _ragged(rng, [5000, 5000], [3])
    seen = []
    import skelbehave.encoding.encoders as E

    orig = E._kmeans

    def spy(Z, *a):
        seen.append(len(Z))
        return orig(Z, *a)

    monkeypatch.setattr(E, "_kmeans", spy)
    VLADEncoder(n_clusters=4, max_fit_samples=1000, random_state=0).fit(D)
    assert seen == [1000]
    # MiniBatchKMeans path
    enc = VLADEncoder(n_clusters=4, kmeans="minibatch", random_state=0).fit(D)
    assert enc.centres_[0].shape == (4, 3)


def test_errors(rng):
    D = _ragged(rng, [10, 10], [3])
    with pytest.raises(TypeError, match="LocalDescriptors"):
        VLADEncoder().fit(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="fewer than n_clusters"):
        VLADEncoder(n_clusters=50).fit(D)
    enc = VLADEncoder(n_clusters=2, random_state=0).fit(D)
    other = _ragged(rng, [10], [4])
    with pytest.raises(ValueError, match="differ from the blocks seen in fit"):
        enc.transform(other)
    with pytest.raises(ValueError, match="pyramid_levels"):
        VLADEncoder(pyramid_levels=0).fit(D)


def test_encoder_does_no_feature_computation_and_fuses_acceleration_by_part(rng):
    D = _ragged(rng, [6, 4], [3, 3], names=["displacement:arm", "acceleration:arm"])
    enc = VLADEncoder(n_clusters=2, pyramid_levels=1, random_state=0).fit(D)
    assert enc.group_names_ == ["displacement:arm", "acceleration:arm"]  # no block added
    assert not hasattr(enc, "delta_step") and not hasattr(enc, "_with_deltas")
    w = {"acceleration": 3.0}
    fused = VLADEncoder(n_clusters=2, pyramid_levels=1, fuse=True, kind_weights=w, random_state=0).fit(D)
    assert fused.group_names_ == ["displacement+acceleration:arm"] and fused.group_dims_ == [6]
    assert np.sqrt(fused._fused(D).blocks[0][:, 3:].var(0).sum()) == pytest.approx(3.0)
    params, arrays = fused._get_state()
    back = VLADEncoder._from_state(params, arrays)
    np.testing.assert_array_equal(back.transform(D), fused.transform(D))
    with pytest.raises(ValueError, match="kind_weights"):
        VLADEncoder(n_clusters=2, fuse=True, kind_weights={"acceleration": -1}).fit(D)


@pytest.mark.parametrize(
    "flags", [(True, True, True), (False, False, False), (True, False, True), (False, True, False)]
)
def test_one_pass_vlad_kernel_matches_numpy_path(rng, flags):
    D = _ragged(rng, [30, 0, 45, 3], [6, 4], names=["position:a", "displacement:a"])
    power, intra, l2 = flags
    enc = VLADEncoder(
        n_clusters=4, pyramid_levels=3, power_norm=power, intra_norm=intra, l2_norm=l2, random_state=0
    ).fit(D)
    fast = enc.transform(D)
    Dp = enc._fused(D)
    scale = 1 / np.sqrt(2 * 7) if l2 else 1.0
    slow = np.hstack(
        [
            enc._encode_group(g, enc._project(g, b), Dp.offsets, Dp.relative_time()) * scale
            for g, b in enumerate(Dp.blocks)
        ]
    )
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_total_variance_kernel_matches_numpy(rng):
    X = rng.normal(size=(500, 6)) * [1, 2, 3, 4, 5, 6] + 7
    assert _kernels.total_variance(X) == pytest.approx(X.var(axis=0).sum(), rel=1e-12)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 2] = np.nan  # a column without any value adds nothing, as with np.nansum
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        ref = np.nansum(np.nanvar(X, axis=0))
    assert _kernels.total_variance(X) == pytest.approx(ref, rel=1e-12)


def test_fit_transform_equals_fit_then_transform_and_float32_output(rng):
    D = _ragged(rng, [40, 25, 60, 8], [6, 6], names=["position:a", "displacement:a"], nan_rows=[3, 50])
    kw = dict(n_clusters=4, pyramid_levels=3, fuse=True, kind_weights={"displacement": 2.0}, random_state=0)
    F = VLADEncoder(**kw).fit_transform(D)
    enc = VLADEncoder(**kw).fit(D)
    np.testing.assert_array_equal(F, enc.transform(D))
    assert F.dtype == np.float64
    enc32 = VLADEncoder(dtype="float32", **kw).fit(D)
    F32 = enc32.fit_transform(D)
    assert F32.dtype == np.float32
    np.testing.assert_allclose(F32, F, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="dtype"):
        VLADEncoder(dtype="int8", **kw).fit(D).transform(D)


def test_kmeans_seeding_matches_sklearn(rng):
    """The encoders' k-means++ seeding picks the rows sklearn's KMeans picks, so centres are sklearn's."""
    from sklearn.cluster import KMeans

    from skelbehave.encoding.encoders import _kmeans, _kmeans_plusplus_indices

    X = (rng.normal(size=(3000, 12)) * rng.uniform(0.2, 3, 12)).astype(np.float32)
    X[:800] += 3
    for seed in (0, 1, 7):
        idx = _kmeans_plusplus_indices(X, 8, np.random.RandomState(seed))
        assert len(np.unique(idx)) == 8
        ref = KMeans(8, n_init=1, max_iter=100, random_state=seed).fit(X).cluster_centers_
        np.testing.assert_array_equal(_kmeans(X, 8, seed, "full"), ref)
    D = _kernels.candidate_sq_distances(X, np.array([0, 5]), np.einsum("ij,ij->i", X, X, dtype=np.float64))
    np.testing.assert_allclose(D, ((X[[0, 5], None, :] - X[None]) ** 2).sum(-1), rtol=1e-4, atol=1e-3)
