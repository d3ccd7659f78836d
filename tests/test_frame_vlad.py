"""The frame-level model with the method: per-group VLAD of windows, any head of the registry.

Also the parts it is composed from: the head registry's window heads, the
fast window encoding (against encoding every window as a sequence of its
own, and against a plain NumPy reference of the kernel), the frame
descriptors by body part, and the input check of the flattened forests.
"""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.datasets import load_precog
from skelbehave.encoding import VLADEncoder
from skelbehave.encoding._kernels import nearest_centres, vlad_encode_windows
from skelbehave.encoding.windows import encode_windows
from skelbehave.errors import PoseDataError
from skelbehave.evaluation import frame_f1
from skelbehave.features.descriptors import LocalDescriptors
from skelbehave.features.frame import FrameFeatures, frame_descriptors, split_individuals
from skelbehave.models.heads import HEADS, make_head
from skelbehave.models.trees import FlatTrees
from skelbehave.pipeline.frame import FrameLevelModel
from skelbehave.temporal.windows import sliding_windows, to_frames


@pytest.fixture(scope="module")
def precog():
    return load_precog()


@pytest.fixture(scope="module")
def precog_descriptors(precog):
    """Frame descriptors of three real PRECOG streams (kinect_v1: 6 body parts + root motion)."""
    ff = FrameFeatures()
    seqs = precog.sequences[:3]
    blocks, names = [], None
    for s in seqs:
        F, names = ff.transform_recording(s)
        blocks.append(F)
    lengths = [len(b) for b in blocks]
    F = np.concatenate(blocks)
    return frame_descriptors(F, names, lengths, seqs[0].layout, seqs[0].n_dims), F, names


def _cut(D: LocalDescriptors, start, stop) -> LocalDescriptors:
    """Every window as a sequence of its own (the slow, obvious way)."""
    rows = np.concatenate([np.arange(a, b) for a, b in zip(start, stop, strict=True)])
    lens = np.asarray(stop) - np.asarray(start)
    return LocalDescriptors(
        [b[rows] for b in D.blocks],
        np.r_[0, np.cumsum(lens)],
        np.concatenate([np.arange(n) for n in lens]),
        lens,
        D.block_info,
    )


def test_frame_descriptors_group_columns_by_body_part(precog_descriptors):
    D, F, names = precog_descriptors
    parts = [str(b) for b in D.block_info]
    assert parts == [
        "joints:head", "joints:torso", "joints:arm_left", "joints:arm_right", "joints:leg_left",
        "joints:leg_right", "root:i0",
    ]  # fmt: skip
    # position + velocity (x, y, z) of each joint: 4-joint limbs have 24 columns, the head 6
    assert D.dims[:6] == [6, 18, 24, 24, 24, 24]
    # every feature column lands in exactly one block, missing values as 0
    assert sum(D.dims) == F.shape[1]
    assert not any(np.isnan(b).any() for b in D.blocks)
    # the left arm block holds the left arm's positions: compare with the named columns
    lay = load_precog().sequences[0].layout
    j = lay.indices(("elbow_left",))[0]
    col = names.index(f"i0:pos{3 * j}")
    np.testing.assert_array_equal(D.blocks[2][:, 3], np.nan_to_num(F[:, col]))


def test_frame_descriptors_two_animals_have_pair_blocks():
    rng = np.random.default_rng(0)
    from skelbehave.layouts import JointLayout
    from skelbehave.poses import PoseSequence

    lay = JointLayout.from_names(["nose", "body", "tail"])
    rec = [PoseSequence(rng.normal(size=(30, 3, 2)), lay) for _ in range(2)]
    F, names = FrameFeatures().transform_recording(rec)
    D = frame_descriptors(F, names, [30], lay, 2)
    assert [str(b) for b in D.block_info] == [
        "joints:i0:all", "root:i0", "joints:i1:all", "root:i1", "pair:i0>i1", "pair:i1>i0",
    ]  # fmt: skip
    assert sum(D.dims) == F.shape[1]


@pytest.mark.parametrize("fuse", [False, True])
def test_encode_windows_equals_encoding_each_window(precog_descriptors, fuse):
    D, _, _ = precog_descriptors
    enc = VLADEncoder(n_clusters=6, pyramid_levels=3, fuse=fuse, random_state=0).fit(D)
    w = sliding_windows(D.lengths(), length=31, stride=5)
    fast = encode_windows(enc, D, w.global_start, w.global_stop)
    slow = enc.transform(_cut(D, w.global_start, w.global_stop))
    assert fast.shape == (len(w), enc.n_features_out_)
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)
    # windows differ from each other (the encoding does not collapse)
    assert np.linalg.norm(fast[0] - fast[len(w) // 2]) > 0.1


def _reference_windows(Z, centres, start, stop, levels):
    """Plain NumPy VLAD of windows (nearest centre, residual sums per pyramid cell, the 3 normalisations)."""
    l, k = centres.shape
    out = []
    for a, b in zip(start, stop, strict=True):
        cells = []
        t = (np.arange(b - a) + 0.5) / (b - a)
        z = Z[a:b]
        ok = ~np.isnan(z).any(axis=1)
        near = np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for v in range(levels):
            cell = np.minimum(np.floor(t * 2**v).astype(int), 2**v - 1)
            for c in range(2**v):
                V = np.zeros((l, k))
                for i in np.flatnonzero(ok & (cell == c)):
                    V[near[i]] += z[i] - centres[near[i]]
                V = np.sign(V) * np.sqrt(np.abs(V))
                n = np.linalg.norm(V, axis=1, keepdims=True)
                V = np.divide(V, n, out=np.zeros_like(V), where=n > 0)
                tot = np.linalg.norm(V)
                cells.append((V / tot if tot > 0 else V).ravel())
        out.append(np.concatenate(cells))
    return np.array(out)


def test_window_kernel_matches_numpy_reference():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(80, 3))
    Z[[5, 17, 40]] = np.nan  # rows with NaN are left out
    C = rng.normal(size=(4, 3))
    start = np.array([0, 3, 10, 50, 79])
    stop = np.array([20, 9, 41, 80, 80])
    assign = nearest_centres(Z, C)
    assert assign[5] == -1 and (assign[~np.isnan(Z).any(1)] >= 0).all()
    out = np.zeros((len(start), 7 * 4 * 3))
    vlad_encode_windows(Z, assign, C, start, stop, 3, True, True, True, 1.0, out, 0)
    np.testing.assert_allclose(out, _reference_windows(Z, C, start, stop, 3), atol=1e-12)


def test_encode_windows_rejects_bad_windows(precog_descriptors):
    D, _, _ = precog_descriptors
    enc = VLADEncoder(n_clusters=4, pyramid_levels=1, random_state=0).fit(D)
    with pytest.raises(ValueError, match="non-empty row ranges"):
        encode_windows(enc, D, np.array([5]), np.array([5]))
    with pytest.raises(ValueError, match="non-empty row ranges"):
        encode_windows(enc, D, np.array([0]), np.array([D.n_rows + 1]))


@pytest.mark.parametrize("head", ["ridge", "extra_trees"])
def test_vlad_window_model_on_real_precog(precog, head, tmp_path):
    ds = precog
    names = ds.label_names
    tr = np.flatnonzero(np.isin(ds.subjects, [1, 2, 3, 4]))
    te = np.flatnonzero(np.isin(ds.subjects, [9, 10]))
    params = {"n_estimators": 40} if head == "extra_trees" else None
    model = FrameLevelModel(
        window=31, fit_stride=3, encoding="vlad", classifier=head, classifier_params=params, random_state=0
    ).fit([ds.sequences[i] for i in tr], [names[i] for i in tr])
    assert isinstance(model.encoder_, VLADEncoder)
    # 6 body parts + root motion, each 3 pyramid cells x 8 centres x its dimension
    assert len(model.encoder_.group_dims_) == 7
    assert model.encoder_.n_features_out_ == 3 * 8 * sum(model.encoder_.group_dims_)
    assert model.n_features_in_ == model.encoder_.n_features_out_
    X = [ds.sequences[i] for i in te]
    pred = model.predict(X)
    actions = [c for c in model.classes_.tolist() if c != "no action"]
    f1 = frame_f1([names[i] for i in te], pred, labels=actions)
    # 8 actions + background: chance macro F1 is about 0.1; the VLAD windows learn the actions
    assert f1 > 0.5, f1
    p = model.predict_proba(X[:1])[0]
    assert p.shape == (X[0].n_frames, len(model.classes_))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # the one model format: encoder, head and parameters come back from the file
    import skelbehave

    again = skelbehave.load(model.save(tmp_path / "vlad.skb"))
    assert again.encoding == "vlad" and again.encoder_.n_features_out_ == model.encoder_.n_features_out_
    np.testing.assert_allclose(again.predict_proba(X[:1])[0], p, rtol=1e-6, atol=1e-9)


def test_window_model_heads_from_the_registry(precog):
    ds = precog
    names = ds.label_names
    tr = np.flatnonzero(np.isin(ds.subjects, [1, 2]))
    X, y = [ds.sequences[i] for i in tr], [names[i] for i in tr]
    # a linear head on window statistics (NaN-free thanks to the registry's nan_safe pipeline)
    m = FrameLevelModel(window=15, fit_stride=4, classifier="logreg", random_state=0).fit(X, y)
    assert type(m.classifier_).__name__ == "Pipeline"
    assert m.predict(X[:1])[0].shape == (X[0].n_frames,)
    m = FrameLevelModel(window=15, fit_stride=4, classifier="hgb", classifier_params={"max_iter": 5})
    m.fit(X, y)
    assert type(m.classifier_).__name__ == "HistGradientBoostingClassifier"
    assert m.classifier_.max_iter == 5
    few = {"n_estimators": 5}
    both = FrameLevelModel(window=15, fit_stride=4, encoding="vlad+statistics", classifier_params=few)
    both.fit(X, y)
    stats = FrameLevelModel(window=15, fit_stride=4, classifier_params=few).fit(X, y)
    assert both.n_features_in_ == stats.n_features_in_ + both.encoder_.n_features_out_
    assert stats.encoder_ is None
    with pytest.raises(ValueError, match="not window descriptors"):
        FrameLevelModel(classifier="cnn").fit(X, y)
    with pytest.raises(ValueError, match="unknown classifier"):
        FrameLevelModel(classifier="forest").fit(X, y)
    with pytest.raises(ValueError, match="encoding must be"):
        FrameLevelModel(encoding="fisher").fit(X, y)


def test_head_registry_window_heads():
    assert {"extra_trees", "hgb", "ridge", "svm", "logreg"} <= set(HEADS)
    et = make_head("extra_trees", random_state=3, n_jobs=2)
    assert (et.n_estimators, et.min_samples_leaf, et.max_features, et.random_state, et.n_jobs) == (
        200, 2, "sqrt", 3, 2,
    )  # fmt: skip
    hgb = make_head("hgb", learning_rate=0.05)
    assert (hgb.max_leaf_nodes, hgb.l2_regularization, hgb.early_stopping, hgb.learning_rate) == (
        31, 1.0, False, 0.05,
    )  # fmt: skip
    X = np.random.default_rng(0).normal(size=(40, 4))
    X[::3, 1] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    for name in ("ridge", "svm", "logreg", "extra_trees", "hgb"):
        head = make_head(name, nan_safe=True, random_state=0)
        assert head.fit(X, y).predict(X).shape == (40,), name
    with pytest.raises(ValueError):
        make_head("ridge").fit(X, y)  # without nan_safe a linear head refuses NaN


def test_flat_trees_check_the_feature_count():
    from sklearn.ensemble import ExtraTreesClassifier

    X = np.random.default_rng(0).normal(size=(50, 6))
    flat = FlatTrees.from_sklearn(ExtraTreesClassifier(n_estimators=4, random_state=0).fit(X, X[:, 0] > 0))
    with pytest.raises(PoseDataError, match="expects 6 features per row, found 4"):
        flat.predict_proba(X[:, :4])
    with pytest.raises(PoseDataError, match="expects 6 features"):
        flat.predict_proba(X[0])
    assert flat.predict_proba(X).shape == (50, 2)


def test_to_frames_units():
    assert to_frames("500ms", fps=30) == 15
    assert to_frames("1.5s", fps=20) == 30
    assert to_frames("40ms", fps=25) == 1
    assert to_frames("12f") == 12 and to_frames("12") == 12
    with pytest.raises(PoseDataError, match="frame rate"):
        to_frames("500ms")
    with pytest.raises(ValueError, match="cannot read"):
        to_frames("5 minutes", fps=30)
    w = sliding_windows([100], length=to_frames("1s", fps=30), stride=to_frames("100ms", fps=30))
    assert w.length == 30 and w.stride == 3


def test_split_individuals_kept(precog):
    # a one-person PRECOG stream is one individual
    assert len(split_individuals(precog.sequences[0])) == 1
