"""Cheap frame-level scoring at scale: the window-statistics kernel, float32 tree walks, saved HGB splits."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.features.frame import window_statistics, window_statistics_reference
from skelbehave.models.trees import FlatTrees
from skelbehave.temporal.windows import Windows, sliding_windows


@pytest.mark.parametrize(
    ("lengths", "length", "stride", "pyramid", "extra"),
    [([40, 1, 57], 9, 1, (2, 4), ()), ([120], 31, 3, (2,), (61, 5)), ([5, 8], 31, 2, (), (3,))],
)
def test_window_statistics_kernel_matches_numpy(lengths, length, stride, pyramid, extra):
    rng = np.random.default_rng(1)
    F = rng.normal(size=(sum(lengths), 7)).astype(np.float32) * 10
    F[rng.random(F.shape) < 0.2] = np.nan
    F[3:9, 2] = np.nan  # a whole window of one feature missing: NaN mean and std
    w = sliding_windows(lengths, length, stride)
    got = window_statistics(F, w, pyramid, extra)
    want = window_statistics_reference(F, w, pyramid, extra)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4, equal_nan=True)


def test_window_statistics_kernel_keeps_window_order_across_recordings():
    """Windows of several recordings in any order (a training subset) get their own rows."""
    rng = np.random.default_rng(2)
    F = rng.normal(size=(90, 4)).astype(np.float32)
    w = sliding_windows([30, 60], 11, 2)
    perm = rng.permutation(len(w))[: len(w) // 2]
    sub = Windows(w.seq[perm], w.center[perm], w.start[perm], w.stop[perm], w.offsets, w.length, w.stride)
    np.testing.assert_allclose(
        window_statistics(F, sub, (2,)), window_statistics(F, w, (2,))[perm], rtol=0, atol=0
    )


def test_flat_trees_score_float32_rows_as_scikit_learn_does():
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) > 0).astype(int) + (X[:, 2] > 1)
    et = ExtraTreesClassifier(n_estimators=7, min_samples_leaf=3, random_state=0).fit(X, y)
    flat = FlatTrees.from_sklearn(et)
    np.testing.assert_allclose(flat.predict_proba(X), et.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(flat.predict_proba(X), flat.predict_proba(X.astype(np.float64)), atol=1e-12)


def test_saved_histogram_boosting_with_a_missing_value_split_loads():
    """HistGradientBoosting splits NaN from all numbers with threshold +inf; a saved model must load."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = rng.integers(0, 2, 300)
    X[y == 1, 0] = np.nan  # the class is where the value is missing: the best split is NaN vs numbers
    hgb = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    flat = FlatTrees.from_sklearn(hgb)
    th = flat.arrays["threshold"][~flat.arrays["is_leaf"]]
    assert np.isinf(th).any()
    back = FlatTrees._from_state(*flat._get_state())
    np.testing.assert_allclose(back.predict_proba(X), hgb.predict_proba(X), atol=1e-9)
    state = flat._get_state()
    state[1]["threshold"] = state[1]["threshold"].copy()
    state[1]["threshold"][np.flatnonzero(~flat.arrays["is_leaf"])[0]] = np.nan
    from skelbehave.errors import ModelFileError

    with pytest.raises(ModelFileError, match="NaN split thresholds"):
        FlatTrees._from_state(*state)


def test_fit_with_progress_grows_the_same_forest_and_logs_stage_timings(caplog):
    import logging

    from skelbehave.layouts import JointLayout
    from skelbehave.pipeline import FrameLevelModel
    from skelbehave.poses import PoseSequence

    rng = np.random.default_rng(0)
    lay = JointLayout.from_names(["a", "b", "c"])
    x = np.cumsum(rng.normal(size=(300, 3, 2)), axis=0)
    y = (np.arange(300) // 40) % 3
    x[y == 1] += rng.normal(scale=3, size=(int((y == 1).sum()), 3, 2))
    rec = PoseSequence(x, lay, fps=30)
    kw = dict(window=9, classifier_params={"n_estimators": 13, "class_weight": "balanced"}, random_state=0)
    quiet = FrameLevelModel(**kw).fit([rec], [y])
    with caplog.at_level(logging.INFO, logger="skelbehave.pipeline.frame"):
        shown = FrameLevelModel(**kw, progress=True).fit([rec], [y])
    assert len(shown.classifier_.estimators_) == 13 and shown.classifier_.n_estimators == 13
    assert not shown.classifier_.warm_start
    np.testing.assert_array_equal(shown.predict_proba([rec])[0], quiet.predict_proba([rec])[0])
    stages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fit: ")]
    assert any("per-frame features" in m for m in stages) and any("window head" in m for m in stages)
    assert stages[-1].endswith("s in all")
