"""Windows, aggregation, smoothing, segments and frame/segment metrics: formulas on small arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skelbehave.errors import PoseDataError
from skelbehave.evaluation import frame_accuracy, frame_f1, frame_report, segment_f1
from skelbehave.temporal import (
    aggregate_windows,
    bout_table,
    median_smooth,
    min_bout_length,
    runs,
    segments,
    sliding_windows,
    to_frames,
    window_labels,
)


# ----------------------------------------------------------------------------- windows
def _windows_loop(lengths, length, stride):
    """Plain reference: per-sequence loop over centres."""
    rows = []
    for i, T in enumerate(lengths):
        centres = list(range(0, T, stride))
        if T and centres[-1] != T - 1:
            centres.append(T - 1)
        for c in centres:
            a = max(c - length // 2, 0)
            b = min(c - length // 2 + length, T)
            rows.append((i, c, a, b))
    return rows


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=5),
    length=st.integers(1, 15),
    stride=st.integers(1, 7),
)
def test_sliding_windows_match_loop(lengths, length, stride):
    w = sliding_windows(lengths, length, stride)
    got = list(zip(w.seq.tolist(), w.center.tolist(), w.start.tolist(), w.stop.tolist(), strict=True))
    assert got == _windows_loop(lengths, length, stride)
    # every frame of every sequence lies in some window when windows are at least a stride long
    if length < stride:
        return
    covered = np.zeros(sum(lengths), dtype=bool)
    for a, b in zip(w.global_start, w.global_stop, strict=True):
        covered[a:b] = True
    assert covered.all()


def test_sliding_windows_long_recording():
    """3.5 M windows as index arrays (the time it takes is in benchmarks/timings.py)."""
    w = sliding_windows([2_000_000, 1_500_000], length=61, stride=1)
    assert len(w) == 3_500_000
    assert w.center[-1] == 1_499_999 and (w.stop - w.start).max() == 61


def test_window_length_in_seconds():
    assert to_frames("2s", fps=15) == 30
    assert to_frames(0.2, fps=30) == 6
    assert to_frames(7) == 7
    with pytest.raises(PoseDataError, match="fps"):
        to_frames("1s")
    with pytest.raises(ValueError):
        to_frames(0)


def test_lengths_with_a_unit_everywhere():
    assert to_frames("500ms", fps=30) == 15 and to_frames("1.5s", fps=20) == 30
    with pytest.raises(ValueError, match="cannot read"):
        to_frames("3 frames")
    # smoothing lengths take durations too: 100 ms at 30 fps is a 3-frame median, at 50 fps 5 frames
    rng = np.random.default_rng(0)
    p = rng.random((40, 3))
    np.testing.assert_array_equal(median_smooth(p, "100ms", fps=30), median_smooth(p, 3))
    np.testing.assert_array_equal(median_smooth(p, "0.1s", fps=50), median_smooth(p, 5))
    y = np.array([0] * 5 + [1] * 3 + [0] * 5 + [2] * 10)
    assert (min_bout_length(y, "150ms", fps=20) == min_bout_length(y, 3)).all()
    assert (min_bout_length(y, "200ms", fps=20) == min_bout_length(y, 4)).all()
    assert (min_bout_length(y, "200ms", fps=20) != y).any()  # the 3-frame bout of 1 is merged away
    with pytest.raises(PoseDataError, match="fps"):
        min_bout_length(y, "1s")


def test_window_labels_center_and_majority():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    w = sliding_windows([9], length=5, stride=2)  # centres 0, 2, 4, 6, 8
    assert window_labels(y, w, "center").tolist() == [0, 0, 1, 2, 2]
    # window around 4 = frames 2..6 -> [0, 1, 1, 2, 2]: tie 1 vs 2 -> smaller index
    assert window_labels(y, w, "majority").tolist() == [0, 0, 1, 2, 2]
    y2 = np.array([-1, -1, -1, 1, 1])
    w2 = sliding_windows([5], length=3, stride=1)
    assert window_labels(y2, w2, "majority").tolist() == [-1, -1, 1, 1, 1]
    with pytest.raises(ValueError):
        window_labels(y, w, "mode")


# ----------------------------------------------------------------------------- aggregation
def _aggregate_loop(proba, w, weights):
    from skelbehave.temporal.windows import _kernel

    T = int(w.offsets[-1])
    kern = _kernel(w.length if w.length % 2 else w.length + 1, weights)
    half = len(kern) // 2
    num = np.zeros((T, proba.shape[1]))
    den = np.zeros(T)
    for k in range(len(w)):
        c = w.global_center[k]
        lo, hi = w.offsets[w.seq[k]], w.offsets[w.seq[k] + 1]
        for t in range(max(lo, c - half), min(hi, c + half + 1)):
            wt = kern[t - c + half]
            num[t] += wt * proba[k]
            den[t] += wt
    return num / den[:, None]


@pytest.mark.parametrize("weights", ["uniform", "triangular", "gaussian"])
@pytest.mark.parametrize("stride", [1, 3])
def test_aggregate_matches_loop(weights, stride):
    rng = np.random.default_rng(0)
    lengths = [23, 1, 17]
    w = sliding_windows(lengths, length=7, stride=stride)
    p = rng.dirichlet(np.ones(3), size=len(w))
    got = np.concatenate(aggregate_windows(p, w, weights=weights))
    ref = _aggregate_loop(p, w, weights)
    np.testing.assert_allclose(got, ref / ref.sum(1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(got.sum(1), 1.0)


def test_aggregate_center_weights_take_own_window():
    w = sliding_windows([6], length=5, stride=1)
    p = np.eye(3)[[0, 1, 2, 0, 1, 2]].astype(float)
    got = aggregate_windows(p, w, weights="center")[0]
    np.testing.assert_allclose(got, p)


# ----------------------------------------------------------------------------- smoothing
def test_median_smooth_removes_single_frame_flicker():
    lab = np.array([0] * 10 + [1] + [0] * 5 + [1] * 10)
    p = np.eye(2)[lab]
    out = median_smooth(p, 5).argmax(1)
    assert out[10] == 0 and (out[:16] == 0).all() and (out[17:] == 1).all()
    np.testing.assert_allclose(median_smooth(p, 1), p)


def test_min_bout_length():
    y = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 2, 2, 2])
    out = min_bout_length(y, 3)
    assert out.tolist() == [0] * 9 + [2] * 5
    s, e, _ = runs(out)
    assert ((e - s) >= 3).all()
    # with probabilities the short bout joins the neighbour it resembles most
    y = np.array([0, 0, 0, 1, 2, 2, 2])
    p = np.full((7, 3), 0.1)
    p[3] = [0.1, 0.3, 0.6]
    assert min_bout_length(y, 2, p).tolist() == [0, 0, 0, 2, 2, 2, 2]
    assert min_bout_length(y, 1).tolist() == y.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=60), st.integers(2, 6))
def test_min_bout_length_property(labels, k):
    y = np.array(labels)
    out = min_bout_length(y, k)
    s, e, _ = runs(out)
    if len(y) >= k:
        assert ((e - s) >= k).all()
    # bouts that were long enough keep their frames
    s0, e0, v0 = runs(y)
    for a, b, v in zip(s0, e0, v0, strict=True):
        if b - a >= k:
            assert (out[a:b] == v).all()


def test_segments_and_bout_table():
    lab = np.array([0, 0, 1, 1, 1, 0, 2])
    p = np.eye(3)[lab] * 0.8 + 0.2 / 3
    seg = segments(lab, p, fps=10.0, classes=["none", "walk", "run"])
    assert seg["label"].tolist() == ["none", "walk", "none", "run"]
    assert seg["start"].tolist() == [0, 2, 5, 6] and seg["end"].tolist() == [2, 5, 6, 7]
    np.testing.assert_allclose(seg["score"], 0.8 + 0.2 / 3)
    np.testing.assert_allclose(seg["duration"], [0.2, 0.3, 0.1, 0.1])
    tab = bout_table([lab, np.array([1, 1])], fps=10.0, classes=["none", "walk", "run", "fly"])
    assert tab.loc["walk", "frames"] == 5 and tab.loc["walk", "bouts"] == 2
    assert tab.loc["none", "bouts"] == 2 and tab.loc["fly", "frames"] == 0
    assert tab["fraction"].sum() == pytest.approx(1.0)
    assert tab.loc["walk", "seconds"] == pytest.approx(0.5)


# ----------------------------------------------------------------------------- metrics
def test_frame_metrics_against_sklearn():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(1)
    yt = [rng.integers(0, 4, 50), rng.integers(0, 4, 30)]
    yp = [rng.integers(0, 4, 50), rng.integers(0, 4, 30)]
    t, p = np.concatenate(yt), np.concatenate(yp)
    assert frame_accuracy(yt, yp) == pytest.approx(accuracy_score(t, p))
    assert frame_f1(yt, yp, labels=[1, 2, 3]) == pytest.approx(
        f1_score(t, p, labels=[1, 2, 3], average="macro")
    )
    per = frame_f1(yt, yp, average=None)
    np.testing.assert_allclose(list(per.values()), f1_score(t, p, average=None))
    # ignored frames (true label 0) do not count at all
    m = t != 0
    assert frame_accuracy(yt, yp, ignore=0) == pytest.approx(accuracy_score(t[m], p[m]))
    with pytest.raises(ValueError):
        frame_f1([0, 1], [0])


def test_segment_f1_iou_matching():
    yt = np.array([0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 2, 2, 2, 2])
    # bout 1 (1..4) found with IoU 3/4; bout 2 (7..8) predicted as 7..9 -> IoU 2/3;
    # class 2 predicted 10..11 -> IoU 0.5; one false class-2 bout at 0
    yp = np.array([2, 0, 1, 1, 1, 0, 0, 1, 1, 1, 2, 2, 0, 0])
    f = segment_f1(yt, yp, labels=[1, 2], average=None, iou_threshold=0.5)
    assert f[1] == pytest.approx(1.0)
    assert f[2] == pytest.approx(2 * 1 / (2 * 1 + 1 + 0))
    f = segment_f1(yt, yp, labels=[1, 2], average=None, iou_threshold=0.7)
    assert f[1] == pytest.approx(2 * 1 / (2 + 1 + 1)) and f[2] == 0.0
    # one predicted bout cannot match two true bouts
    yt2 = np.array([1, 1, 0, 1, 1])
    yp2 = np.array([1, 1, 1, 1, 1])
    assert segment_f1(yt2, yp2, labels=[1], iou_threshold=0.1) == pytest.approx(2 / 3)
    assert segment_f1(yt, yt, labels=[1, 2]) == 1.0
    with pytest.raises(ValueError):
        segment_f1(yt, yp, iou_threshold=0)


def test_frame_report_table():
    yt = [np.array([0, 1, 1, 2, 2, 2]), np.array([1, 1, 0])]
    yp = [np.array([0, 1, 0, 2, 2, 2]), np.array([1, 1, 1])]
    rep = frame_report(yt, yp, labels=[1, 2])
    assert list(rep.index) == ["1", "2", "macro"]
    assert rep.loc["2", "frame_f1"] == 1.0 and rep.loc["2", "frames"] == 3
    assert rep.loc["macro", "frames"] == 7
    assert rep.attrs["accuracy"] == pytest.approx(7 / 9)
