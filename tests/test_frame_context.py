"""The default context stage of FrameLevelModel: its statistics, its lighter fold models, save / load.

Real PRECOG streams (a few subjects, the library defaults), plus small arrays
checked against a plain loop over frames.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from skelbehave.datasets import load_precog
from skelbehave.errors import ModelFileError, ParameterError
from skelbehave.pipeline.frame import CONTEXT_HEAD, FOLD_HEAD, WINDOW_HEAD, FrameLevelModel, load_frame_model
from skelbehave.temporal import context_statistics, moving_mean


def _reference(P, lengths, scales, stats):
    """context_statistics by a loop over sequences and frames (clipped stretches, empty side = the frame)."""
    rows = []
    off = np.r_[0, np.cumsum(lengths)]
    for a, b in pairwise(off):
        X = P[a:b]
        for t in range(len(X)):
            row = [X[t]]
            means, before, after = [], [], []
            for s in scales:
                h = s // 2
                c = X[max(0, t - h) : t + h + 1]
                bef = X[max(0, t - s) : t]
                aft = X[t + 1 : t + 1 + s]
                before.append(bef.mean(0) if len(bef) else X[t])
                after.append(aft.mean(0) if len(aft) else X[t])
                means += [c.mean(0), before[-1], after[-1]]
            if "mean" in stats:
                row += means
            if "max" in stats:
                row += [X[max(0, t - s // 2) : t - s // 2 + s].max(0) for s in scales[:3]]
            if "diff" in stats:
                row += [q - p for p, q in zip(before, after, strict=True)]
            rows.append(np.concatenate(row))
    return np.array(rows)


@pytest.mark.parametrize("stats", [("mean",), ("mean", "max", "diff"), ("diff", "max")])
def test_context_statistics_match_a_loop_and_stay_inside_each_sequence(stats):
    rng = np.random.default_rng(0)
    lengths = [7, 1, 12]
    P = rng.random((sum(lengths), 3))
    scales = (3, 5, 9, 4)
    got = context_statistics(P, lengths, scales, stats)
    np.testing.assert_allclose(got, _reference(P, lengths, scales, stats), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_moving_mean_leaves_out_missing_values_and_sequence_borders():
    rng = np.random.default_rng(1)
    lengths = [6, 9]
    F = rng.normal(size=(15, 2))
    F[[1, 2, 8], 0] = np.nan
    got = moving_mean(F, lengths, [5])
    off = np.r_[0, np.cumsum(lengths)]
    for a, b in pairwise(off):
        for t in range(a, b):
            want = np.nanmean(F[max(a, t - 2) : min(b, t + 3)], axis=0)
            np.testing.assert_allclose(got[t], want, rtol=1e-5)
    with pytest.raises(ParameterError, match="lengths"):
        moving_mean(F, [6, 8], [5])
    with pytest.raises(ParameterError, match="scales"):
        context_statistics(F, lengths, [0])
    with pytest.raises(ParameterError, match="subset"):
        context_statistics(F, lengths, [3], ("median",))


@pytest.fixture(scope="module")
def precog():
    ds = load_precog()
    tr = np.flatnonzero(np.isin(ds.subjects, [1, 2, 3]))[:9]
    return ds, [ds.sequences[i] for i in tr], [ds.label_names[i] for i in tr]


@pytest.fixture(scope="module")
def default_model(precog):
    _, X, y = precog
    return FrameLevelModel(random_state=0).fit(X, y)  # the library defaults, context stage included


def test_default_has_the_context_stage_with_lighter_fold_models(default_model):
    m = default_model
    assert m.context_folds == 3 and m.context_ is not None
    K, n_sc = len(m.classes_), len(m.context_scales)
    n_feat = len(m.feature_names_)
    width = K * (1 + 3 * n_sc + min(3, n_sc) + n_sc) + n_feat * len(m.context_means)
    assert m.context_.n_features_in_ == width
    # fold models: the window head's defaults with FOLD_HEAD over them; an explicit head is kept as given
    fold = m._new_classifier(fold=True)
    fold = fold.steps[-1][1] if hasattr(fold, "steps") else fold
    n_fold, n_head = FOLD_HEAD["extra_trees"]["n_estimators"], WINDOW_HEAD["extra_trees"]["n_estimators"]
    assert fold.n_estimators == n_fold < n_head
    given = FrameLevelModel(classifier_params={"n_estimators": 7})._new_classifier(fold=True)
    assert (given.steps[-1][1] if hasattr(given, "steps") else given).n_estimators == 7
    # a linear window head gets the default forest as its context head (trees read the probabilities)
    ctx = FrameLevelModel(classifier="ridge")._new_context_head()
    assert type(ctx.steps[-1][1] if hasattr(ctx, "steps") else ctx).__name__ == "ExtraTreesClassifier"


def _final(est):
    return est.steps[-1][1] if hasattr(est, "steps") else est


def test_window_head_tries_log2_columns_while_fold_models_and_context_head_keep_sqrt():
    # issue 16: the cheaper window head (40 trees, log2 of the columns per split); the out-of-fold
    # probabilities and the context head as before (sqrt; 60 context trees), also behind a linear head
    m = FrameLevelModel()
    head, fold = _final(m._new_classifier()), _final(m._new_classifier(fold=True))
    ctx = _final(m._new_context_head())
    assert (head.n_estimators, head.max_features) == (40, "log2") == (
        WINDOW_HEAD["extra_trees"]["n_estimators"], WINDOW_HEAD["extra_trees"]["max_features"])
    assert (fold.n_estimators, fold.max_features) == (FOLD_HEAD["extra_trees"]["n_estimators"], "sqrt")
    assert (ctx.n_estimators, ctx.max_features) == (CONTEXT_HEAD["extra_trees"]["n_estimators"], "sqrt")
    assert head.class_weight == fold.class_weight == ctx.class_weight == "balanced"
    linear = _final(FrameLevelModel(classifier="ridge")._new_context_head())
    assert (linear.n_estimators, linear.max_features) == (60, "sqrt")
    given = _final(FrameLevelModel(classifier_params={"n_estimators": 7})._new_context_head())
    assert (given.n_estimators, given.max_features) == (7, "sqrt")  # explicit parameters kept as given


def test_context_stage_round_trips_through_save_and_load(precog, default_model, tmp_path, monkeypatch):
    ds, _, _ = precog
    seqs = [ds.sequences[i] for i in np.flatnonzero(ds.subjects == 12)[:2]]
    back = load_frame_model(default_model.save(tmp_path / "m.skb"))
    assert back.context_stats == default_model.context_stats and back.context_means == (91,)
    assert back.context_scales == default_model.context_scales
    for a, b in zip(default_model.predict_proba(seqs), back.predict_proba(seqs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    for a, b in zip(default_model.predict(seqs), back.predict(seqs), strict=True):
        np.testing.assert_array_equal(a, b)
    # the context stage's rows in blocks shared by threads: the probabilities of one thread, bit for bit
    import skelbehave.pipeline.frame_stages as stages

    one = back.set_params(n_jobs=1).predict_proba(seqs)
    monkeypatch.setattr(stages, "_CONTEXT_ROWS", 37)
    two = back.set_params(n_jobs=2).predict_proba(seqs)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_file_from_before_the_new_context_parameters_scores_as_it_did(precog, tmp_path):
    """A file whose init lacks context_stats / context_means gets the old context stage, not today's."""
    _, X, y = precog
    old = FrameLevelModel(
        window=15, classifier_params={"n_estimators": 5}, context_folds=2, context_scales=(9, 31, 91),
        context_stats=("mean",), context_means=(), random_state=0,
    ).fit(X[:4], y[:4])  # fmt: skip
    params, arrays = old._get_state()
    for k in ("context_stats", "context_means"):
        del params["init"][k]
    back = FrameLevelModel._from_state(params, arrays)
    assert back.context_stats == ("mean",) and back.context_means == ()
    np.testing.assert_array_equal(old.predict_proba([X[5]])[0], back.predict_proba([X[5]])[0])
    # the same file claiming today's statistics describes the context differently: refused on load
    params["init"]["context_stats"] = ["mean", "max", "diff"]
    with pytest.raises(ModelFileError, match="context"):
        FrameLevelModel._from_state(params, arrays)
    params["init"]["context_stats"] = ["median"]
    with pytest.raises(ModelFileError, match="context_stats"):
        FrameLevelModel._from_state(params, arrays)
    params["init"]["context_stats"] = ["mean"]
    params["init"]["context_means"] = [0]
    with pytest.raises(ModelFileError, match="context_means"):
        FrameLevelModel._from_state(params, arrays)


def test_no_context_stage_without_two_recordings_that_have_training_windows(precog):
    _, X, y = precog
    from skelbehave.poses import PoseSequence

    nobody = PoseSequence(np.full_like(X[1].position, np.nan), X[1].layout, fps=X[1].fps)
    m = FrameLevelModel(window=15, classifier_params={"n_estimators": 3}, random_state=0)
    assert m.fit([X[0], nobody], [y[0], y[1]]).context_ is None  # one stage, no error
    assert m.fit([X[0], nobody, X[2]], [y[0], y[1], y[2]]).context_ is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"context_stats": ("median",)},
        {"context_stats": "mean"},
        {"context_means": (0,)},
        {"context_scales": ()},
    ],
)
def test_bad_context_parameters_fail_before_fitting(precog, bad):
    _, X, y = precog
    with pytest.raises(ParameterError, match=next(iter(bad))):
        FrameLevelModel(**bad).fit(X[:2], y[:2])


def test_context_inputs_at_some_rows_equal_those_rows_of_all(monkeypatch):
    """Fit computes the context inputs at the training windows only; moving means go by column blocks."""
    import skelbehave.temporal.context as ctx

    rng = np.random.default_rng(1)
    lengths = [40, 0, 1, 77, 30]
    P = rng.random((148, 3))
    F = rng.normal(size=(148, 7))
    F[rng.random(F.shape) < 0.2] = np.nan
    rows = np.r_[0, 39, 40, 41, 60, 117, 118, 147]
    stats = ("mean", "max", "diff")
    full = context_statistics(P, lengths, [3, 9, 31], stats)
    np.testing.assert_array_equal(context_statistics(P, lengths, [3, 9, 31], stats, rows=rows), full[rows])
    means = moving_mean(F, lengths, [5, 91])
    monkeypatch.setattr(ctx, "BLOCK_BYTES", 8 * 149 * 3 * 2)  # two columns per block
    np.testing.assert_array_equal(moving_mean(F, lengths, [5, 91]), means)
    np.testing.assert_array_equal(moving_mean(F, lengths, [5, 91], rows=rows), means[rows])
