"""The package's pose CSV: exact round trip, every bad-input case, mangled files (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skelbehave.errors import PoseDataError, PoseFileNotFoundError
from skelbehave.io import detect_format, read_poses, write_poses
from skelbehave.layouts import JointLayout, get_layout
from skelbehave.poses import MAX_COORDINATE, PoseSequence

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _seq(T=6, layout="coco17", C=3, fps=30.0, conf=True, seed=0, **meta):
    rng = np.random.default_rng(seed)
    lay = get_layout(layout)
    pos = rng.standard_normal((T, lay.n_joints, C))
    pos[rng.random((T, lay.n_joints)) < 0.2] = np.nan
    c = rng.random((T, lay.n_joints)) if conf else None
    return PoseSequence(pos, lay, fps=fps, confidence=c, meta=meta)


def _same(a: PoseSequence, b: PoseSequence) -> None:
    assert a.layout == b.layout
    assert a.fps == b.fps
    np.testing.assert_array_equal(a.position, b.position)  # NaN == NaN here, values bit-exact
    ca = np.full(a.missing.shape, np.nan) if a.confidence is None else a.confidence
    cb = np.full(b.missing.shape, np.nan) if b.confidence is None else b.confidence
    np.testing.assert_array_equal(ca, cb)


# ----------------------------------------------------------------------------- round trip
def test_round_trip_two_persons_exact(tmp_path):
    a = _seq(T=7, seed=1, person=0, subject=4)
    b = _seq(T=3, seed=2, person="visitor", start_frame=5)
    f = write_poses(tmp_path / "p.csv", [a, b], units="m", coordinates="camera")
    assert detect_format(f) == "pose_csv"
    back = read_poses(f)
    assert [s.meta["person"] for s in back] == [0, "visitor"]
    assert [s.meta["start_frame"] for s in back] == [0, 5]
    assert back[0].meta["subject"] == 4 and back[0].meta["units"] == "m"
    assert back[1].meta["coordinates"] == "camera"
    _same(a, back[0])
    _same(b, back[1])


def test_round_trip_extreme_floats_and_2d(tmp_path):
    # the largest magnitude a sequence may hold (MAX_COORDINATE) and the smallest subnormal round-trip
    pos = np.array([[[5e-324, -1e30], [0.1, -0.0]], [[1 / 3, np.nan], [1e-300, 9.999999999999999e29]]])
    s = PoseSequence(pos, JointLayout.from_names(["a", "b"], name="two"), fps=None)
    back = read_poses(write_poses(tmp_path / "x.csv", s))[0]
    _same(s, back)
    assert back.n_dims == 2 and back.fps is None and back.confidence is None


def test_custom_layout_kept_with_groups(tmp_path):
    lay = JointLayout(
        name="pair",
        joints=("a_nose", "a_tail", "b_nose", "b_tail"),
        root=("a_tail",),
        groups={"a": ("a_nose", "a_tail"), "b": ("b_nose", "b_tail")},
        partitions={1: (("a", "b"),), 2: (("a",), ("b",))},
        description="two animals, two points",
    )
    s = PoseSequence(np.ones((3, 4, 2)), lay, fps=25)
    back = read_poses(write_poses(tmp_path / "c.csv", s))[0]
    assert back.layout == lay and back.layout.partition(2) == [["a_nose", "a_tail"], ["b_nose", "b_tail"]]


def test_fps_unknown_can_be_supplied_but_not_contradicted(tmp_path):
    f = write_poses(tmp_path / "a.csv", _seq(fps=None))
    assert read_poses(f)[0].fps is None
    assert read_poses(f, fps=12.5)[0].fps == 12.5
    g = write_poses(tmp_path / "b.csv", _seq(fps=30))
    assert read_poses(g, fps=30)[0].fps == 30
    with pytest.raises(PoseDataError, match=r"fps 30\.0, but fps=25"):
        read_poses(g, fps=25)


def test_hand_written_minimal_file(tmp_path):
    f = tmp_path / "hand.csv"
    f.write_text(
        "# skelbehave-pose-csv v1\n# layout: snake\n# fps: 10\n"
        "frame,time,person,head_x,head_y,tail_x,tail_y\n"
        "3,0.3,1,0,1,2,3\n4,0.4,1,,,2.5,3.5\n5,0.5,1,1,1,1,1"  # no final newline, no rows/persons
    )
    (s,) = read_poses(f)
    assert s.layout.joints == ("head", "tail") and s.meta["start_frame"] == 3 and s.meta["person"] == 1
    assert s.missing.tolist() == [[False, False], [True, False], [False, False]]


def test_read_15000_frames_round_trip(tmp_path):
    """A long recording reads back exactly (its read time is in benchmarks/timings.py)."""
    s = _seq(T=15000, layout="mediapipe33", seed=3)
    f = write_poses(tmp_path / "long.csv", s)
    back = read_poses(f)[0]
    _same(s, back)


def test_writer_refuses_what_it_cannot_write(tmp_path):
    a = _seq(layout="coco17", person=0)
    with pytest.raises(PoseDataError, match="share a layout"):
        write_poses(tmp_path / "a.csv", [a, _seq(layout="msr20", person=1)])
    with pytest.raises(PoseDataError, match="unique"):
        write_poses(tmp_path / "a.csv", [a, a])
    with pytest.raises(PoseDataError, match="share fps"):
        write_poses(tmp_path / "a.csv", [a, _seq(fps=25, person=1)])
    with pytest.raises(PoseDataError, match="no frames"):
        write_poses(tmp_path / "a.csv", a[0:0])
    with pytest.raises(PoseDataError, match="cannot be written"):
        write_poses(tmp_path / "a.csv", a.copy(meta={"person": "a,b"}))
    with pytest.raises(PoseDataError, match="cannot write format 'ntu_skeleton'"):
        write_poses(tmp_path / "a.csv", a, format="ntu_skeleton")
    assert not (tmp_path / "a.csv").exists()


# ----------------------------------------------------------------------------- bad input, one test per case
@pytest.fixture
def good(tmp_path):
    f = write_poses(tmp_path / "good.csv", [_seq(T=4, person=0), _seq(T=3, seed=5, person=1)])
    return f, f.read_text().split("\n")


def _write(tmp_path, lines_or_text):
    f = tmp_path / "bad.csv"
    f.write_text(lines_or_text if isinstance(lines_or_text, str) else "\n".join(lines_or_text))
    return f


def _header_len(lines):
    return next(i for i, ln in enumerate(lines) if not ln.startswith("#"))


def test_missing_file(tmp_path):
    with pytest.raises(PoseFileNotFoundError, match="no such file") as e:
        read_poses(tmp_path / "nope.csv", format="pose_csv")
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, PoseDataError)
    assert e.value.path.endswith("nope.csv")
    with pytest.raises(FileNotFoundError):
        read_poses(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    with pytest.raises(PoseDataError, match="empty file") as e:
        read_poses(_write(tmp_path, ""), format="pose_csv")
    assert e.value.line == 1
    with pytest.raises(PoseDataError, match="empty file"):
        read_poses(_write(tmp_path, ""))


def test_wrong_first_line(tmp_path, good):
    _, lines = good
    with pytest.raises(PoseDataError, match="expected first line '# skelbehave-pose-csv v1'") as e:
        read_poses(_write(tmp_path, ["# something else", *lines[1:]]), format="pose_csv")
    assert e.value.line == 1
    with pytest.raises(PoseDataError, match="version 2 is not supported"):
        read_poses(_write(tmp_path, ["# skelbehave-pose-csv v2", *lines[1:]]))


def test_wrong_column_header(tmp_path, good):
    _, lines = good
    h = _header_len(lines)
    bad = lines.copy()
    bad[h] = bad[h].replace("nose_z", "nose_q", 1)
    with pytest.raises(PoseDataError, match="expected column 'nose_z', found 'nose_q'") as e:
        read_poses(_write(tmp_path, bad))
    assert e.value.line == h + 1 and e.value.column == 6
    bad = lines.copy()
    bad[h] = bad[h].replace("frame,time,person", "frame,person,time")
    with pytest.raises(PoseDataError, match="must start with 'frame,time,person'"):
        read_poses(_write(tmp_path, bad))


def test_missing_metadata(tmp_path, good):
    _, lines = good
    with pytest.raises(PoseDataError, match="missing metadata line '# layout"):
        read_poses(_write(tmp_path, [ln for ln in lines if not ln.startswith("# layout")]))
    with pytest.raises(PoseDataError, match="missing metadata line '# fps"):
        read_poses(_write(tmp_path, [ln for ln in lines if not ln.startswith("# fps")]))
    with pytest.raises(PoseDataError, match="'# fps:' must be a positive number") as e:
        read_poses(_write(tmp_path, [ln.replace("# fps: 30.0", "# fps: -3") for ln in lines]))
    assert e.value.line == 3


def test_joint_count_not_fitting_layout(tmp_path):
    s = _seq(layout="msr20")
    lines = write_poses(tmp_path / "m.csv", s).read_text().split("\n")
    h = _header_len(lines)
    # drop the last joint (head) from the header and every row
    keep = len(lines[h].split(",")) - 4
    cut = [",".join(ln.split(",")[:keep]) if i >= h and ln else ln for i, ln in enumerate(lines)]
    with pytest.raises(PoseDataError, match=r"layout 'msr20' expects 20 joints .* 19 joints"):
        read_poses(_write(tmp_path, cut))


def test_ragged_row(tmp_path, good):
    _, lines = good
    h = _header_len(lines)
    bad = lines.copy()
    bad[h + 2] = bad[h + 2].rsplit(",", 1)[0]  # one field short (pandas would pad it silently)
    n = len(lines[h].split(","))
    with pytest.raises(PoseDataError, match=f"expected {n} fields, found {n - 1}") as e:
        read_poses(_write(tmp_path, bad))
    assert e.value.line == h + 3
    bad = lines.copy()
    bad[h + 1] += ",1"
    with pytest.raises(PoseDataError, match=f"found {n + 1}") as e:
        read_poses(_write(tmp_path, bad))
    assert e.value.line == h + 2


def test_non_numeric_cell(tmp_path, good):
    _, lines = good
    h = _header_len(lines)
    bad = lines.copy()
    cells = bad[h + 3].split(",")
    cells[5] = "abc"
    bad[h + 3] = ",".join(cells)
    with pytest.raises(PoseDataError, match=r"expected a number .* found 'abc'") as e:
        read_poses(_write(tmp_path, bad))
    assert e.value.line == h + 4 and e.value.column == lines[h].split(",")[5]
    cells[5] = "inf"
    bad[h + 3] = ",".join(cells)
    with pytest.raises(PoseDataError, match="infinite value"):
        read_poses(_write(tmp_path, bad))


def test_truncated_file(tmp_path, good):
    f, _ = good
    text = f.read_text()
    # cut inside the last number: the line keeps its field count, the missing line break tells
    with pytest.raises(PoseDataError, match="no line break"):
        read_poses(_write(tmp_path, text[:-3]))
    # cut after a whole line: the row counts tell
    with pytest.raises(PoseDataError, match="rows"):
        read_poses(_write(tmp_path, text[: text.rstrip("\n").rfind("\n") + 1]))
    # cut inside the header
    with pytest.raises(PoseDataError, match=r"column header|truncated"):
        read_poses(_write(tmp_path, text[: text.find("frame,time")]))


def test_frames_not_consecutive_and_unknown_person(tmp_path, good):
    _, lines = good
    h = _header_len(lines)
    bad = lines.copy()
    cells = bad[h + 2].split(",")
    cells[0] = "7"
    bad[h + 2] = ",".join(cells)
    with pytest.raises(PoseDataError, match="frames must increase by 1") as e:
        read_poses(_write(tmp_path, bad))
    assert e.value.column == "frame"
    bad = lines.copy()
    cells = bad[h + 1].split(",")
    cells[2] = "stranger"
    bad[h + 1] = ",".join(cells)
    with pytest.raises(PoseDataError, match="'stranger' is not listed"):
        read_poses(_write(tmp_path, bad))


def test_unknown_format(tmp_path):
    with pytest.raises(PoseDataError, match="unknown pose file format"):
        read_poses(_write(tmp_path, "a,b,c\n1,2,3\n"))
    with pytest.raises(PoseDataError, match="unknown format 'xyz'"):
        read_poses(_write(tmp_path, "a\n"), format="xyz")


# ----------------------------------------------------------------------------- hypothesis
_names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6).filter(lambda s: s[0] != "_")
# every finite float64 a PoseSequence accepts (|x| <= MAX_COORDINATE), subnormals included
_values = st.one_of(
    st.floats(-MAX_COORDINATE, MAX_COORDINATE, allow_nan=False, width=64),
    st.just(np.nan),
    st.sampled_from([5e-324, -5e-324, MAX_COORDINATE, -MAX_COORDINATE, -0.0]),
)


@st.composite
def sequences(draw):
    kind = draw(st.sampled_from(["coco17", "msr20", "custom"]))
    if kind == "custom":
        names = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
        layout = JointLayout.from_names(names, name=draw(st.sampled_from(["dlc", "mine"])))
    else:
        layout = get_layout(kind)
    J = layout.n_joints
    C = draw(st.sampled_from([2, 3]))
    has_conf = draw(st.booleans())
    fps = draw(st.one_of(st.none(), st.floats(0.01, 1000), st.sampled_from([15, 25, 29.97, 30])))
    n_persons = draw(st.integers(1, 3))
    ids = draw(
        st.lists(
            st.one_of(st.integers(0, 10**6), st.text(alphabet="xyzAB9-_", min_size=1, max_size=5)),
            min_size=n_persons,
            max_size=n_persons,
            unique_by=str,
        ).filter(lambda ids: all(str(i) not in ("nan", "NaN") for i in ids))
    )
    out = []
    for pid in ids:
        T = draw(st.integers(1, 5))
        flat = draw(st.lists(_values, min_size=T * J * C, max_size=T * J * C))
        pos = np.array(flat, dtype=np.float64).reshape(T, J, C)
        conf = None
        if has_conf:
            c = draw(st.lists(st.one_of(st.floats(0, 1), st.just(np.nan)), min_size=T * J, max_size=T * J))
            conf = np.array(c, dtype=np.float64).reshape(T, J)
        meta = {"person": pid, "start_frame": draw(st.integers(0, 1000)), "subject": draw(st.integers(0, 9))}
        out.append(PoseSequence(pos, layout, fps=fps, confidence=conf, meta=meta))
    return out


@SETTINGS
@given(seqs=sequences())
def test_hypothesis_round_trip_exact(tmp_path, seqs):
    f = write_poses(tmp_path / "rt.csv", seqs)
    back = read_poses(f)
    assert len(back) == len(seqs)
    for a, b in zip(seqs, back, strict=True):
        _same(a, b)
        for k in ("person", "start_frame", "subject"):
            assert a.meta[k] == b.meta[k] and type(a.meta[k]) is type(b.meta[k])


_junk = st.text(alphabet='0123456789.,-+eE "#\nxnaNi', min_size=0, max_size=8)


def _cell_location(seqs, row, col):
    """(person index, frame, joint, slot) of a data cell, slot = coord index or 'conf'."""
    p = 0
    while row >= seqs[p].n_frames:
        row -= seqs[p].n_frames
        p += 1
    s = seqs[p]
    C = s.n_dims
    width = C + int(any(q.confidence is not None for q in seqs))
    j, slot = divmod(col - 3, width)
    return p, row, j, slot


@SETTINGS
@given(seqs=sequences(), how=st.sampled_from(["truncate", "junk", "drop"]), data=st.data())
def test_hypothesis_mangled_files_raise_pose_data_error_or_read_right(tmp_path, seqs, how, data):
    f = write_poses(tmp_path / "m.csv", seqs)
    text = f.read_text()
    lines = text.split("\n")[:-1]
    h = _header_len(lines)
    touched = None  # (line index, column index) of a changed data cell
    if how == "truncate":
        # anywhere, just after a line break (whole rows lost), or inside the last cells
        ends = [i + 1 for i, ch in enumerate(text[:-1]) if ch == "\n"]
        cut = data.draw(
            st.one_of(
                st.integers(0, len(text) - 1),
                st.sampled_from(ends),
                st.integers(max(0, len(text) - 12), len(text) - 1),
            )
        )
        new = text[:cut]
    else:
        li = data.draw(st.integers(0, len(lines) - 1))
        cells = lines[li].split(",")
        ci = data.draw(st.integers(0, len(cells) - 1))
        if how == "junk":
            junk = data.draw(_junk)
            if junk == cells[ci]:
                return
            cells[ci] = junk
        else:
            del cells[ci]
        lines[li] = ",".join(cells)
        new = "\n".join(lines) + "\n"
        if li > h:
            touched = (li - h - 1, ci)
    g = tmp_path / "mangled.csv"
    g.write_text(new)
    try:
        back = read_poses(g)
    except PoseDataError:
        return  # the one exception type for bad input
    # no error: the data must be what was written, except the one cell that was changed
    assert len(back) == len(seqs)
    for p, (a, b) in enumerate(zip(seqs, back, strict=True)):
        assert a.layout.joints == b.layout.joints
        pa, pb = a.position.copy(), b.position.copy()
        ca = np.full(a.missing.shape, np.nan) if a.confidence is None else a.confidence.copy()
        cb = np.full(b.missing.shape, np.nan) if b.confidence is None else b.confidence.copy()
        assert pa.shape == pb.shape
        if touched is not None and touched[1] >= 3:
            tp, t, j, slot = _cell_location(seqs, *touched)
            if tp == p:
                if slot < a.n_dims:
                    pa[t, j, slot] = pb[t, j, slot] = 0.0
                else:
                    ca[t, j] = cb[t, j] = 0.0
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(ca, cb)
