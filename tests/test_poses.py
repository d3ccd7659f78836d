"""PoseSequence: validation errors, indexing, zero frames, gap filling, resampling, as_sequences."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.errors import LayoutError, PoseDataError
from skelbehave.poses import MAX_COORDINATE, PoseSequence, as_sequences


def _ramp(T=6, layout="coco17", C=2, fps=10.0):
    J = {"coco17": 17, "msr20": 20, "kinect_v1": 20}[layout]
    p = np.arange(T, dtype=float)[:, None, None] * np.ones((T, J, C)) + np.arange(J)[None, :, None]
    return PoseSequence(p, layout, fps=fps)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("position", "match"),
    [
        (np.zeros((5, 20)), r"shape \(frames, joints, coords\), got 2 dimensions"),
        (np.zeros((5, 19, 3)), "layout 'msr20' expects 20 joints, found 19"),
        (np.zeros((5, 20, 4)), "expected 2 or 3 coordinates per joint, found 4"),
        ([[["a", "b", "c"]] * 20], "positions must be numeric"),
        ([[[1.0, 2.0]], [[1.0]]], "positions must be numeric"),
    ],
)
def test_validation_errors(position, match):
    with pytest.raises(PoseDataError, match=match):
        PoseSequence(position, "msr20", meta={"source": "x.txt"})


def test_validation_names_source_and_joint():
    p = np.zeros((4, 20, 3))
    p[2, 19, 1] = np.inf
    with pytest.raises(PoseDataError, match="frame 2, joint 'head'") as e:
        PoseSequence(p, "msr20", meta={"source": "a01.txt"})
    assert e.value.path == "a01.txt"
    with pytest.raises(PoseDataError, match=r"confidence must have shape .* \(4, 20\), got \(4, 19\)"):
        PoseSequence(np.zeros((4, 20, 3)), "msr20", confidence=np.ones((4, 19)))
    for bad in (0, -3, np.nan, np.inf):
        with pytest.raises(PoseDataError, match="fps must be a positive number"):
            PoseSequence(np.zeros((4, 20, 3)), "msr20", fps=bad)
    with pytest.raises(LayoutError, match="unknown layout 'nope'"):
        PoseSequence(np.zeros((4, 20, 3)), "nope")


def test_fps_unknown_raises_only_when_needed():
    s = PoseSequence(np.zeros((3, 17, 2)), "coco17")
    assert s.n_frames == 3 and s.fps is None
    with pytest.raises(PoseDataError, match="fps is unknown"):
        _ = s.times
    with pytest.raises(PoseDataError, match="fps is unknown"):
        _ = s.duration
    np.testing.assert_allclose(_ramp(fps=4).times, np.arange(6) / 4)


def test_positions_are_float64_copies_of_int_input():
    raw = np.ones((2, 17, 2), dtype=np.int32)
    s = PoseSequence(raw, "coco17")
    assert s.position.dtype == np.float64
    s.position[0, 0, 0] = 5
    assert raw[0, 0, 0] == 1


# ----------------------------------------------------------------------------- indexing and copies
def test_getitem_and_copy():
    s = _ramp()
    s.meta["subject"] = 3
    assert s[1:4].n_frames == 3 and s[1:4].meta["subject"] == 3
    np.testing.assert_array_equal(s[-1].position, s.position[-1:])  # negative index (bug fixed)
    np.testing.assert_array_equal(s[np.array([0, 2])].position, s.position[[0, 2]])
    with pytest.raises(IndexError):
        s[6]
    c = s.copy(fps=20)
    c.meta["subject"] = 4
    c.position[0] = -1
    assert s.meta["subject"] == 3 and s.position[0, 0, 0] == 0 and c.fps == 20
    with pytest.raises(TypeError, match="unexpected fields"):
        s.copy(colour="red")


def test_zero_frames():
    z = PoseSequence(np.zeros((0, 20, 3)), "kinect_v1", fps=30)
    assert z.n_frames == 0 and len(z) == 0 and z.duration == 0.0
    assert z.missing.shape == (0, 20)
    assert z.fill_gaps(3).n_frames == 0
    assert z.mark_zero_frames_missing().n_frames == 0
    with pytest.raises(PoseDataError, match="cannot resample an empty sequence"):
        z.resample(10)
    assert _ramp()[3:3].n_frames == 0


# ----------------------------------------------------------------------------- cleaning
def test_mark_zero_frames_missing_only_all_zero_frames():
    p = np.ones((4, 20, 3))
    p[1] = 0
    p[2, 5] = 0  # one joint at the origin is not a missing frame
    conf = np.ones((4, 20))
    s = PoseSequence(p, "msr20", confidence=conf).mark_zero_frames_missing()
    assert np.isnan(s.position[1]).all() and not np.isnan(s.position[[0, 2, 3]]).any()
    assert (s.confidence[1] == 0).all() and (s.confidence[0] == 1).all()


def test_fill_gaps_interpolates_short_inner_gaps_only():
    s = _ramp(T=10)
    p = s.position.copy()
    p[2:4, 0] = np.nan  # gap of 2
    p[5:9, 1] = np.nan  # gap of 4
    p[0:2, 2] = np.nan  # at the start
    p[8:, 3] = np.nan  # at the end
    q = s.copy(position=p).fill_gaps(max_gap=3)
    np.testing.assert_allclose(q.position[2:4, 0], s.position[2:4, 0])  # linear data: exact
    assert np.isnan(q.position[5:9, 1]).all()
    assert np.isnan(q.position[0:2, 2]).all() and np.isnan(q.position[8:, 3]).all()
    np.testing.assert_array_equal(s.copy(position=p).fill_gaps(0).position, p)
    assert np.isnan(s.copy(position=p).fill_gaps(4).position[5:9, 1]).sum() == 0
    with pytest.raises(ValueError, match="max_gap"):
        s.fill_gaps(-1)


def test_fill_gaps_partial_nan_joint():
    s = _ramp(T=5)
    p = s.position.copy()
    p[2, 4, 0] = np.nan  # only x missing: the joint counts as missing and is re-interpolated
    q = s.copy(position=p).fill_gaps(1)
    np.testing.assert_allclose(q.position[2, 4], s.position[2, 4])


# ----------------------------------------------------------------------------- resampling
def test_resample_linear_keeps_duration_and_endpoints():
    s = _ramp(T=5, fps=10)
    r = s.resample(9)
    assert r.n_frames == 9 and r.fps == pytest.approx(18.0) and r.duration == pytest.approx(s.duration)
    np.testing.assert_allclose(r.position[0], s.position[0])
    np.testing.assert_allclose(r.position[-1], s.position[-1])
    np.testing.assert_allclose(r.position[1, 0, 0], 0.5)  # halfway between frames 0 and 1
    d = s.resample(3)
    np.testing.assert_allclose(d.position[:, 0, 0], [0, 2, 4])
    assert s.resample(5).position.tolist() == s.position.tolist()


def test_resample_edge_cases():
    one = _ramp(T=1, fps=10)
    r = one.resample(4)
    assert r.n_frames == 4 and (r.position == one.position[0]).all() and r.fps == 40
    s = _ramp(T=4)
    s.confidence = np.linspace(0, 1, 4)[:, None] * np.ones((4, 17))
    r = s.resample(7)
    assert r.confidence.shape == (7, 17) and r.confidence[3, 0] == pytest.approx(0.5)
    p = s.position.copy()
    p[1, 0] = np.nan
    r = s.copy(position=p).resample(7)
    assert np.isnan(r.position[1:4, 0]).all() and not np.isnan(r.position[[0, 4, 5, 6], 0]).any()
    assert _ramp(fps=None).resample(3).fps is None
    with pytest.raises(ValueError, match="n_frames must be >= 1"):
        s.resample(0)


# ----------------------------------------------------------------------------- as_sequences
def test_as_sequences():
    s = _ramp()
    assert as_sequences(s) == [s]
    out = as_sequences([np.zeros((4, 20, 3)), s.copy(), np.zeros((2, 20, 3))], layout="msr20", fps=15)
    assert [q.n_frames for q in out] == [4, 6, 2] and out[0].fps == 15 and out[0].meta == {"index": 0}
    assert len(as_sequences(np.zeros((3, 20, 3)), layout="kinect_v1")) == 1
    assert len(as_sequences(np.zeros((2, 3, 20, 3)), layout="kinect_v1")) == 2
    with pytest.raises(PoseDataError, match="item 0 is a plain array; pass layout"):
        as_sequences([np.zeros((4, 20, 3))])
    with pytest.raises(PoseDataError, match="item 1: layout 'msr20' expects 20 joints, found 19"):
        as_sequences([np.zeros((4, 20, 3)), np.zeros((4, 19, 3))], layout="msr20")


def test_resample_matches_numpy_interp_reference():
    rng = np.random.default_rng(0)
    for T, n in [(2, 5), (7, 3), (41, 64), (64, 41), (13, 13)]:
        s = PoseSequence(rng.standard_normal((T, 20, 3)), "msr20", fps=15)
        r = s.resample(n)
        x = np.linspace(0, T - 1, n)
        ref = np.stack(
            [[np.interp(x, np.arange(T), s.position[:, j, c]) for c in range(3)] for j in range(20)]
        ).transpose(2, 0, 1)
        np.testing.assert_allclose(r.position, ref, rtol=1e-12, atol=1e-12)


def test_resample_crop_matches_numpy_interp_and_keeps_duration_of_the_part():
    rng = np.random.default_rng(1)
    T, n = 30, 17
    s = PoseSequence(rng.standard_normal((T, 20, 3)), "msr20", fps=15)
    r = s.resample(n, start=0.2, stop=0.7)
    x = np.linspace(0.2 * (T - 1), 0.7 * (T - 1), n)
    ref = np.stack(
        [[np.interp(x, np.arange(T), s.position[:, j, c]) for c in range(3)] for j in range(20)]
    ).transpose(2, 0, 1)
    np.testing.assert_allclose(r.position, ref, rtol=1e-12, atol=1e-12)
    assert r.duration == pytest.approx(0.5 * s.duration)
    for bad in [(0.5, 0.5), (-0.1, 1.0), (0.0, 1.2)]:
        with pytest.raises(ValueError, match="start"):
            s.resample(n, start=bad[0], stop=bad[1])


def test_fill_gaps_any_length_and_edges():
    T = 12
    p = np.arange(T, dtype=float)[:, None, None] * np.ones((T, 20, 3))
    p[0:2, 0] = np.nan  # start
    p[4:9, 0] = np.nan  # a 5-frame interior gap
    p[11, 0] = np.nan  # end
    p[:, 1] = np.nan
    p[6, 1] = 2.0  # present in one frame only
    p[:, 2] = np.nan  # never present
    s = PoseSequence(p, "msr20")
    short = s.fill_gaps(4)
    assert np.isnan(short.position[[0, 1, 4, 8, 11], 0]).all()  # too long, or at an edge
    assert np.isnan(short.position[:, 1]).sum() == (T - 1) * 3
    full = s.fill_gaps(None, edges=True).position
    np.testing.assert_allclose(full[:, 0, 0], [2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10])
    assert np.all(full[:, 1] == 2.0)  # held at its one present value
    assert np.isnan(full[:, 2]).all()
    np.testing.assert_array_equal(full[:, 3], p[:, 3])  # untouched joints unchanged
    with pytest.raises(ValueError, match="max_gap"):
        s.fill_gaps(-1)


# ----------------------------------------------------------------------------- coordinate range (issue 14)
def test_coordinates_beyond_float32_range_are_refused(shared_data):
    from skelbehave.io.msr import read_msr_skeleton

    seq = read_msr_skeleton(shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt")
    # scaling a real recording by 1e300 changed its predicted class before issue 14
    with pytest.raises(PoseDataError, match=r"beyond \+-1e\+30: the float32 feature pipeline") as e:
        PoseSequence(seq.position * 1e300, seq.layout, fps=seq.fps, meta={"source": "x.txt"})
    assert e.value.path == "x.txt"
    t, j = np.argwhere(~np.isnan(seq.position[..., 0]))[0]
    msg = str(e.value)
    assert f"frame {t}, joint {seq.layout.joints[j]!r} (x)" in msg
    # the bound itself, and NaN, are fine; magnitude and infinity anywhere are not
    pos = np.full((4, 20, 3), np.nan)
    pos[0] = MAX_COORDINATE
    pos[1] = -MAX_COORDINATE
    assert PoseSequence(pos, "msr20").n_frames == 4
    for bad, what in ((np.nextafter(MAX_COORDINATE, np.inf), "beyond"), (-np.inf, "infinite coordinate")):
        p = pos.copy()
        p[3, 19, 2] = bad
        with pytest.raises(PoseDataError, match=what) as e:
            PoseSequence(p, "msr20")
        assert "frame 3, joint 'head' (z)" in str(e.value)
    with pytest.raises(PoseDataError, match="beyond"):
        as_sequences([seq.position * 1e300], layout="msr20")


def test_infinite_confidence_is_refused():
    conf = np.ones((3, 20))
    conf[2, 5] = np.inf
    with pytest.raises(PoseDataError, match="infinite confidence at frame 2"):
        PoseSequence(np.zeros((3, 20, 3)), "msr20", confidence=conf)
    conf[2, 5] = np.nan
    assert PoseSequence(np.zeros((3, 20, 3)), "msr20", confidence=conf).confidence is not None
