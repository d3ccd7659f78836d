"""Tests of the lightweight 1-D CNN: DO-Conv folding, physical pruning, save/load, training."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the cnn extra is part of the dev install; see test below
import torch_pruning  # noqa: E402

from skelbehave.errors import MissingDependencyError  # noqa: E402
from skelbehave.models.cnn import CNNClassifier, DOConv1d, StreamNet, fold_doconv, prune_stream  # noqa: E402
from skelbehave.models.cnn.blocks import AdaptiveTemporalShift  # noqa: E402
from skelbehave.models.cnn.doconv import unfold_to_doconv  # noqa: E402
from skelbehave.models.cnn.network import residual_profile  # noqa: E402

pytestmark = pytest.mark.cnn  # skipped without the cnn extra (tests/conftest.py)

torch.set_num_threads(1)


def _n_params(m) -> int:
    return sum(p.numel() for p in m.parameters())


# ------------------------------------------------------------------ DO-Conv


def test_doconv_fold_matches_and_costs_like_plain_conv():
    torch.manual_seed(0)
    conv = DOConv1d(12, 16, 3, padding=1, depth_multiplier=5)
    with torch.no_grad():  # move D away from its identity start, as training would
        conv.D.normal_(0, 0.5)
    x = torch.randn(4, 12, 40)
    folded = conv.fold()
    assert type(folded) is torch.nn.Conv1d
    assert torch.allclose(conv(x), folded(x), atol=1e-5)
    plain = torch.nn.Conv1d(12, 16, 3, padding=1)
    assert _n_params(folded) == _n_params(plain)
    assert _n_params(conv) > _n_params(plain)  # over-parameterised while training


def test_doconv_network_folds_to_plain_network_with_same_outputs_and_macs():
    torch.manual_seed(1)
    kw = dict(channels=(16, 16, 32), residual_coefs="normal")
    net = StreamNet(60, 7, doconv=True, **kw)
    plain = StreamNet(60, 7, doconv=False, **kw)
    for m in net.modules():
        if isinstance(m, DOConv1d):
            torch.nn.init.normal_(m.D, 0, 0.3)
    net.eval()
    x = torch.randn(3, 60, 32)
    before = net(x)
    fold_doconv(net)
    assert not any(isinstance(m, DOConv1d) for m in net.modules())
    assert torch.allclose(before, net(x), atol=1e-5)
    assert _n_params(net) == _n_params(plain)
    ex = torch.randn(1, 60, 32)
    macs_f, _ = torch_pruning.utils.count_ops_and_params(net, ex)
    macs_p, _ = torch_pruning.utils.count_ops_and_params(plain, ex)
    assert macs_f == macs_p
    # and back: a plain conv re-expanded to DO-Conv keeps its function
    unfold_to_doconv(net)
    assert any(isinstance(m, DOConv1d) for m in net.modules())
    assert torch.allclose(before, net(x), atol=1e-5)


def test_residual_profile_and_temporal_shift_init():
    prof = residual_profile("normal", 6)
    assert prof[0] == pytest.approx(0.5) and prof[-1] == pytest.approx(0.5)
    assert max(prof) > 0.9 and prof == prof[::-1]
    with pytest.raises(ValueError):
        residual_profile([1.0, 1.0], 3)
    ts = AdaptiveTemporalShift(16, fold_div=8)
    x = torch.randn(1, 16, 9)
    y = ts(x)
    assert torch.equal(y[0, 0, :-1], x[0, 0, 1:])  # shifted from the future
    assert torch.equal(y[0, 2, 1:], x[0, 2, :-1])  # shifted from the past
    assert torch.equal(y[0, 5], x[0, 5])  # unchanged


# ------------------------------------------------------------------ pruning


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"non_local": True, "temporal_shift": True, "residual_coefs": "normal"},
        {"motion_excitation": True},
    ],
)
def test_pruning_physically_shrinks_tensors_and_network_still_runs(options):
    torch.manual_seed(2)
    net = StreamNet(60, 5, channels=(32, 32, 64, 64), **options)
    # make BN scales distinct so the ranking is meaningful
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            with torch.no_grad():
                m.weight.uniform_(0.01, 1.0)
    shapes_before = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    info = prune_stream(net, torch.randn(1, 60, 32), 0.5)
    shapes_after = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert info["params_after"] < 0.5 * info["params_before"]
    assert shapes_after["head.weight"][0] == 5  # the classifier head keeps every class
    assert shapes_after["stem.0.weight"][1] == 60  # input features are never pruned
    shrunk = [k for k in shapes_before if shapes_after[k] != shapes_before[k]]
    assert any(k.startswith("blocks.") and k.endswith("conv1.weight") for k in shrunk)
    net.eval()
    out = net(torch.randn(4, 60, 32))
    assert out.shape == (4, 5) and torch.isfinite(out).all()


def test_per_layer_pruning_halves_every_layer_and_cuts_parameters_by_two_thirds():
    torch.manual_seed(4)
    net = StreamNet(60, 5, channels=(32, 32, 64, 64))
    widths = {k: m.num_features for k, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm1d)}
    info = prune_stream(net, torch.randn(1, 60, 32), 0.5, scope="layer")
    after = {k: m.num_features for k, m in net.named_modules() if isinstance(m, torch.nn.BatchNorm1d)}
    assert info["scope"] == "per-layer"
    assert all(after[k] == widths[k] // 2 for k in widths), after
    # convolutions lose half their inputs and half their outputs; only the stem's input and head stay
    assert info["params_after"] < 0.32 * info["params_before"]
    with pytest.raises(ValueError, match="scope"):
        prune_stream(net, torch.randn(1, 60, 32), 0.5, scope="nope")


def test_correlation_init_keeps_the_most_correlated_filters():
    from skelbehave.models.cnn.slimming import correlation_scores

    torch.manual_seed(3)
    net = StreamNet(6, 3, channels=(16,))
    x = torch.randn(64, 6, 16)
    scores = correlation_scores(net, x)
    stem_bn = net.stem[1]
    assert scores[stem_bn].shape == (16,)
    # make stem channel 0 a copy of channel 1: both gain correlation, an unrelated one does not
    with torch.no_grad():
        net.stem[0].weight[0] = net.stem[0].weight[1]
    s2 = correlation_scores(net, x)[stem_bn]
    assert s2[0] > scores[stem_bn][0]
    info = prune_stream(net, torch.randn(1, 6, 16), 0.5, importance="correlation", data=x)
    assert info["params_after"] < info["params_before"]
    net.eval()
    assert net(x[:2]).shape == (2, 3)


def test_pruning_refuses_unfolded_doconv():
    net = StreamNet(6, 3, channels=(8,), doconv=True)
    with pytest.raises(ValueError, match="fold"):
        prune_stream(net, torch.randn(1, 6, 8), 0.5)


def test_motion_excitation_pools_weighted_frame_differences():
    import torch.nn.functional as F

    from skelbehave.models.cnn.blocks import MotionExcitation

    torch.manual_seed(5)
    me = MotionExcitation(8).eval()
    with torch.no_grad():
        me.expand.weight.normal_()
    x = torch.randn(3, 8, 10)
    # the textbook form: adjacent-frame differences weighted by 1 - cosine similarity
    r = me.bn(me.squeeze(x))
    w = (1 - F.cosine_similarity(x[:, :, 1:], x[:, :, :-1], dim=1, eps=1e-6)).clamp_min(0).unsqueeze(1)
    pooled = ((r[:, :, 1:] - r[:, :, :-1]) * w).sum(-1, keepdim=True) / (w.sum(-1, keepdim=True) + 1e-6)
    expected = x + x * (torch.sigmoid(me.expand(pooled)) - 0.5)
    torch.testing.assert_close(me(x), expected, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------ inputs


def test_motion_acceleration_and_bone_channels():
    from skelbehave.layouts import get_layout
    from skelbehave.models.cnn.inputs import make_inputs

    lay = get_layout("msr20")
    t = np.linspace(0, 1, 40)[:, None, None]
    rng = np.random.default_rng(0)
    body = rng.normal(size=(1, 20, 3))
    pos = body + t * np.array([1.0, 0.0, 0.0]) + 0.5 * t**2 * np.array([0.0, 2.0, 0.0])
    bones = lay.bone_indices
    x = make_inputs(
        [pos], lay, n_frames=32, motion_features=("displacement", "acceleration"), bones=bones
    )
    assert x["position"].shape == (1, 60 + 3 * len(bones), 32)
    assert x["motion"].shape == (1, 120, 32)
    acc = x["motion"][0, 60:].T.reshape(32, 20, 3)[4:-4]  # edges reach 2 * step frames
    # constant acceleration along y only, the same for every joint and frame away from the ends
    assert np.allclose(acc[..., 0], 0, atol=1e-4) and np.allclose(acc[..., 2], 0, atol=1e-4)
    assert acc[..., 1].min() > 0.9 * acc[..., 1].max() > 0  # (linear resampling bends it a little)
    bone_part = x["position"][0, 60:].T.reshape(32, len(bones), 3)
    assert np.allclose(bone_part, bone_part[:1], atol=1e-5)  # rigid body: bones do not change
    with pytest.raises(ValueError, match="motion_features"):
        make_inputs([pos], lay.root_indices, motion_features=("jerk",))


# ------------------------------------------------------------------ estimator on real data


@pytest.fixture(scope="module")
def msr_small(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.isin(ds.labels, [1, 5, 10, 13, 14, 16])  # 6 clearly different actions
    tr, te = ds.train_test_split()
    tr = tr[keep[tr]]
    te = te[keep[te]]
    seqs = ds.sequences
    return [seqs[i] for i in tr], ds.labels[tr], [seqs[i] for i in te], ds.labels[te]


SMALL = dict(
    channels=(16, 16, 32, 32),
    n_frames=32,
    max_epochs=25,
    patience=25,
    n_jobs=1,
    random_state=0,
)


@pytest.fixture(scope="module")
def fitted(msr_small):
    Xtr, ytr, _, _ = msr_small
    return CNNClassifier(doconv=True, sparsity=1e-4, fusion="weighted", **SMALL).fit(Xtr, ytr)


def test_short_training_beats_chance_on_real_msr_subjects(fitted, msr_small):
    _, _, Xte, yte = msr_small
    acc = float(np.mean(fitted.predict(Xte) == yte))
    assert acc > 0.55, f"accuracy {acc:.3f} on held-out subjects, chance is 1/6"
    proba = fitted.predict_proba(Xte)
    assert proba.shape == (len(Xte), 6)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


def test_fit_is_deterministic_with_a_seed(msr_small, fitted):
    Xtr, ytr, Xte, _ = msr_small
    other = CNNClassifier(doconv=True, sparsity=1e-4, fusion="weighted", **SMALL).fit(Xtr, ytr)
    np.testing.assert_array_equal(other.predict_proba(Xte[:10]), fitted.predict_proba(Xte[:10]))


def test_pruned_model_saves_and_loads_to_identical_outputs(msr_small, fitted, tmp_path):
    Xtr, ytr, Xte, _ = msr_small
    pruned = fitted.prune(Xtr, ytr, ratio=0.5, finetune_epochs=3)
    # half the channels; BN scales normalised by their group max spare the costly wide layers more
    assert pruned.n_parameters() < 0.65 * fitted.n_parameters()
    assert fitted.network_.streams["motion"].head.in_features == 32  # the original is untouched
    params, arrays = pruned._get_state()
    import json

    params = json.loads(json.dumps(params))  # the description is plain JSON
    widths = params["architecture"]["layers"]
    assert any(v["type"] == "conv" and v["out"] < 32 for v in widths.values())
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    np.savez(tmp_path / "w.npz", **arrays)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as z:
        loaded = CNNClassifier._from_state(params, dict(z))
    np.testing.assert_array_equal(loaded.predict_proba(Xte), pruned.predict_proba(Xte))
    assert loaded.n_parameters() == pruned.n_parameters()
    assert loaded.fusion_weights_ == pruned.fusion_weights_
    assert sum(pruned.fusion_weights_.values()) == pytest.approx(1.0)


def test_cost_report_shows_pruned_model_is_cheaper(msr_small, fitted):
    from skelbehave.models.cnn import cost_table

    Xtr, ytr, _, _ = msr_small
    small = fitted.prune(Xtr, ytr, ratio=0.5, finetune_epochs=0)
    table = cost_table({"unpruned": fitted, "pruned": small}, repeats=3)
    assert table.loc["pruned", "params_ratio"] < 0.65
    assert table.loc["pruned", "macs_ratio"] < 0.75
    assert table.loc["pruned", "size_bytes"] < table.loc["unpruned", "size_bytes"]
    assert (table[["latency_ms_b1", "latency_ms_b64"]] > 0).all().all()


def test_behavior_model_with_cnn_head_saves_and_loads(msr_small, tmp_path):
    import skelbehave

    Xtr, ytr, Xte, _ = msr_small
    model = skelbehave.fit(Xtr[:40], ytr[:40], classifier="cnn", channels=(8, 8), n_frames=16, max_epochs=2)
    path = tmp_path / "cnn_model.skb"
    model.save(path)
    again = skelbehave.load(path)
    np.testing.assert_allclose(again.predict_proba(Xte[:5]), model.predict_proba(Xte[:5]), atol=1e-6)


# ------------------------------------------------------------------ missing dependency


@pytest.mark.parametrize("missing", ["torch", "torch_pruning"])
def test_missing_dependency_gives_install_hint(monkeypatch, missing):
    import skelbehave.models.cnn as cnn

    monkeypatch.setitem(sys.modules, missing, None)  # makes "import <missing>" raise ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install [\"']skelbehave\[cnn\][\"']") as info:
        cnn.CNNClassifier  # noqa: B018
    assert missing in str(info.value)


def test_iterative_per_layer_pruning_with_distillation_reaches_the_same_widths(msr_small, fitted):
    Xtr, ytr, Xte, yte = msr_small
    fitted_params = fitted.n_parameters()
    once = fitted.prune(Xtr, ytr, ratio=0.5, finetune_epochs=0)
    fitted.set_params(prune_scope="layer", prune_steps=2, distillation=1.0)
    try:
        stepped = fitted.prune(Xtr, ytr, ratio=0.5, finetune_epochs=4)
    finally:
        fitted.set_params(prune_scope="global", prune_steps=1, distillation=1.0)
    stages = [h["stage"] for h in stepped.history_]
    assert "finetune 1/2" in stages and "finetune 2/2" in stages
    assert stepped.pruning_["steps"] == 2
    # 4 // (2 * 2) = 1 recovery epoch after step 1, then all 4; no early stopping by default
    tuned = [h for h in stepped.history_ if h["stage"].startswith("finetune")]
    assert len(tuned) == 1 + 4 and all("val_accuracy" not in h for h in tuned)
    fitted.set_params(finetune_early_stopping=True)
    try:
        es = fitted.prune(Xtr, ytr, ratio=0.5, finetune_epochs=2)
    finally:
        fitted.set_params(finetune_early_stopping=False)
    assert all("val_accuracy" in h for h in es.history_ if h["stage"] == "finetune")
    # every BatchNorm layer keeps half its channels (per-layer scope); the stem input and head stay
    for name, m in stepped.network_.named_modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            orig = dict(fitted.network_.named_modules())[name].num_features
            assert m.num_features == orig // 2, name
    assert stepped.n_parameters() < 0.4 * fitted_params
    assert once.n_parameters() != stepped.n_parameters()  # global vs per-layer differ
    assert float(np.mean(stepped.predict(Xte) == yte)) > 0.4


def test_distillation_loss_is_zero_only_for_matching_scores():
    from skelbehave.models.cnn.training import _distill_loss

    t = torch.randn(5, 4)
    assert float(_distill_loss(t.clone(), t)) == pytest.approx(0.0, abs=1e-6)
    assert float(_distill_loss(torch.randn(5, 4), t)) > 0.01


def test_geometric_fusion_is_the_renormalised_weighted_product(msr_small, fitted, tmp_path):
    _, _, Xte, yte = msr_small
    probs = fitted.stream_proba(Xte[:8])
    w = {"position": 0.3, "motion": 0.7}
    assert fitted.fusion_rule == "geometric"  # the default
    fitted.set_params(fusion_rule="arithmetic")
    try:
        arith = fitted.fuse(probs, w)
        params_arith, arrays_arith = fitted._get_state()
    finally:
        fitted.set_params(fusion_rule="geometric")
    geo = fitted.fuse(probs, w)
    fused = fitted.predict_proba(Xte[:8])  # with the fitted weights
    expected = fitted.fuse(probs)
    params, arrays = fitted._get_state()
    prod = probs["position"] ** 0.3 * probs["motion"] ** 0.7
    np.testing.assert_allclose(geo, prod / prod.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(arith, 0.3 * probs["position"] + 0.7 * probs["motion"], rtol=1e-6)
    assert not np.allclose(geo, arith, atol=1e-4)
    np.testing.assert_allclose(fused, expected, rtol=1e-6)
    loaded = CNNClassifier._from_state(params, arrays)
    assert loaded.fusion_rule == "geometric"
    np.testing.assert_allclose(loaded.predict_proba(Xte[:8]), fused, rtol=1e-6)
    # a file written before the option existed keeps the arithmetic rule it was made with
    del params_arith["init_params"]["fusion_rule"]
    old = CNNClassifier._from_state(params_arith, arrays_arith)
    assert old.fusion_rule == "arithmetic"
    with pytest.raises(ValueError, match="fusion_rule"):
        CNNClassifier(layout="msr20", fusion_rule="median", channels=(8,), max_epochs=1).fit(Xte[:6], yte[:6])
