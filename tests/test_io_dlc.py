"""DeepLabCut CSV reader: real rat / CalMS21 files, bad input, mangled files (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skelbehave.errors import PoseDataError, PoseFileNotFoundError
from skelbehave.io import detect_format, read_poses
from skelbehave.io.dlc import dlc_individuals

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _rat_file(shared_data, n=1):
    (f,) = sorted((shared_data / "rat_social_dlc" / "dlc_csv").glob(f"{n}DLC*.csv"))
    return f


def test_rat_multi_animal_matches_pandas(shared_data):
    f = _rat_file(shared_data, 1)
    assert detect_format(f) == "dlc"
    seqs = read_poses(f, fps=30)
    assert [s.meta["person"] for s in seqs] == ["individual1", "individual2"] == dlc_individuals(f)
    # reference: plain pandas on the rows after the 4 header rows (pandas' MultiIndex reader
    # would take the first, all-empty data row for an index-name row and drop it)
    ref = pd.read_csv(f, header=None, skiprows=4, float_precision="round_trip").to_numpy(dtype=float)
    head = pd.read_csv(f, header=None, nrows=4).to_numpy()
    for s in seqs:
        assert s.layout.joints == ("top", "body", "tail", "tail-m", "tail-e")
        assert s.n_dims == 2 and s.fps == 30 and s.meta["units"] == "px"
        for j, bp in enumerate(s.layout.joints):
            for k, coord in enumerate(("x", "y", "likelihood")):
                (col,) = np.flatnonzero((head[1] == s.meta["person"]) & (head[2] == bp) & (head[3] == coord))
                got = s.position[:, j, k] if k < 2 else s.confidence[:, j]
                np.testing.assert_array_equal(got, ref[:, col])
    np.testing.assert_array_equal(ref[:, 0], np.arange(len(ref)))
    assert seqs[0].n_frames == len(ref) == 14734
    # empty cells are missing detections: 22-41 % of cells (data README)
    miss = np.mean([s.missing.mean() for s in seqs])
    assert 0.2 < miss < 0.45


def test_rat_all_twelve_files_read(shared_data):
    files = sorted((shared_data / "rat_social_dlc" / "dlc_csv").glob("*DLC*.csv"))
    assert len(files) == 12
    for f in files:
        a, b = read_poses(f)
        assert a.fps is None  # DLC files store no frame rate; never guessed
        n_lines = f.read_bytes().count(b"\n")
        assert a.n_frames == b.n_frames == n_lines - 4  # one row per frame after 4 header rows
        assert 12_900 <= a.n_frames <= 15_700


def test_calms21_scorer_row_names_the_animals(shared_data):
    f = shared_data / "calms21_mouse083" / "mouse083_pose.csv"
    res, intr = read_poses(f, fps=30)
    assert (res.meta["person"], intr.meta["person"]) == ("Resident", "Intruder")
    assert res.layout.joints == (
        "nose",
        "ear_left",
        "ear_right",
        "neck",
        "hip_left",
        "hip_right",
        "tail_base",
    )
    assert res.n_frames == intr.n_frames == 4881
    ref = pd.read_csv(f, header=[0, 1, 2], index_col=0, float_precision="round_trip")
    np.testing.assert_array_equal(intr.position[:, 6, 1], ref[("Intruder", "tail_base", "y")].to_numpy())
    assert 0 < np.nanmin(res.position[..., 0]) and np.nanmax(res.position[..., 0]) < 1024


def test_single_animal_and_fixed_layout(tmp_path):
    f = tmp_path / "one.csv"
    f.write_text(
        "scorer,net,net,net,net,net,net\r\nbodyparts,nose,nose,nose,tail,tail,tail\r\n"
        "coords,x,y,likelihood,x,y,likelihood\r\n10,1,2,0.5,,,\r\n11,1.5,2.5,0.25,3,4,0.125\r\n"
    )
    (s,) = read_poses(f)
    assert s.meta["person"] == 0 and s.meta["start_frame"] == 10 and s.meta["scorer"] == "net"
    assert s.missing.tolist() == [[False, True], [False, False]]
    from skelbehave.layouts import JointLayout

    lay = JointLayout.from_names(["nose", "tail"], name="worm")
    assert read_poses(f, layout=lay)[0].layout.name == "worm"
    with pytest.raises(PoseDataError, match=r"expects 3 joints .* 2 body parts"):
        read_poses(f, layout=JointLayout.from_names(["a", "b", "c"]))


# ----------------------------------------------------------------------------- bad input
GOOD = (
    "scorer,n,n,n,n,n,n\nindividuals,a,a,a,b,b,b\nbodyparts,p,p,p,p,p,p\n"
    "coords,x,y,likelihood,x,y,likelihood\n0,1,2,0.9,3,4,0.8\n1,1.1,2.1,0.7,3.1,4.1,0.6\n"
)


def _bad(tmp_path, text):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    return f


def test_good_fixture_reads(tmp_path):
    a, b = read_poses(_bad(tmp_path, GOOD), format="dlc")
    assert a.position[1, 0].tolist() == [1.1, 2.1] and b.confidence[:, 0].tolist() == [0.8, 0.6]


def test_missing_and_empty(tmp_path):
    with pytest.raises(PoseFileNotFoundError):
        read_poses(tmp_path / "no.csv", format="dlc")
    with pytest.raises(PoseDataError, match="empty file"):
        read_poses(_bad(tmp_path, ""), format="dlc")


def test_wrong_header(tmp_path):
    with pytest.raises(PoseDataError, match="first cell 'scorer'") as e:
        read_poses(_bad(tmp_path, GOOD.replace("scorer", "score", 1)), format="dlc")
    assert e.value.line == 1
    with pytest.raises(PoseDataError, match="row 3 must start with 'bodyparts'") as e:
        read_poses(_bad(tmp_path, GOOD.replace("bodyparts", "parts")), format="dlc")
    assert e.value.line == 3
    with pytest.raises(PoseDataError, match="coords must be x, y"):
        read_poses(_bad(tmp_path, GOOD.replace("likelihood,x", "lik,x")), format="dlc")
    with pytest.raises(PoseDataError, match="incomplete DeepLabCut header"):
        read_poses(_bad(tmp_path, "scorer,n,n\nbodyparts,p,p\n"), format="dlc")


def test_ragged_row(tmp_path):
    with pytest.raises(PoseDataError, match="expected 7 fields, found 6") as e:
        read_poses(_bad(tmp_path, GOOD.replace("0,1,2,0.9,3,4,0.8", "0,1,2,0.9,3,4")))
    assert e.value.line == 5


def test_non_numeric_cell(tmp_path):
    with pytest.raises(PoseDataError, match="found 'oops'") as e:
        read_poses(_bad(tmp_path, GOOD.replace("3.1", "oops")))
    assert e.value.line == 6 and e.value.column == "b/p/x"


def test_truncated(tmp_path):
    with pytest.raises(PoseDataError, match="no line break"):
        read_poses(_bad(tmp_path, GOOD[:-3]))


def test_frames_out_of_order(tmp_path):
    with pytest.raises(PoseDataError, match="must increase by 1"):
        read_poses(_bad(tmp_path, GOOD.replace("\n1,1.1", "\n5,1.1")))


def test_inconsistent_coords(tmp_path):
    text = "scorer,n,n,n\nbodyparts,p,p,q\ncoords,x,y,x\n0,1,2,3\n"
    with pytest.raises(PoseDataError, match=r"coordinates \['x'\], expected \['x', 'y'\]"):
        read_poses(_bad(tmp_path, text))


# ----------------------------------------------------------------------------- hypothesis
@st.composite
def dlc_files(draw):
    n_ind = draw(st.integers(1, 2))
    parts = draw(
        st.lists(st.sampled_from(["nose", "ear", "tail", "paw"]), min_size=1, max_size=3, unique=True)
    )
    T = draw(st.integers(1, 6))
    ncol = n_ind * len(parts) * 3
    vals = draw(
        st.lists(
            st.one_of(st.floats(-1e4, 1e4, allow_nan=False), st.just(np.nan)),
            min_size=T * ncol,
            max_size=T * ncol,
        )
    )
    data = np.array(vals).reshape(T, ncol)
    inds = [f"ind{i + 1}" for i in range(n_ind)]
    head = [["scorer"] + ["net"] * ncol]
    if n_ind > 1:
        head.append(["individuals"] + [i for i in inds for _ in parts for _ in range(3)])
    head.append(["bodyparts"] + [p for _ in inds for p in parts for _ in range(3)])
    head.append(["coords"] + ["x", "y", "likelihood"] * (n_ind * len(parts)))
    rows = [",".join(h) for h in head]
    for t in range(T):
        rows.append(",".join([str(t)] + ["" if np.isnan(v) else repr(float(v)) for v in data[t]]))
    return "\n".join(rows) + "\n", data, len(head), len(parts)


_junk = st.text(alphabet='0123456789.,-e "#\nxnaN', min_size=0, max_size=6)


@SETTINGS
@given(spec=dlc_files(), how=st.sampled_from(["truncate", "junk", "drop"]), data=st.data())
def test_hypothesis_mangled_dlc(tmp_path, spec, how, data):
    text, values, n_head, _ = spec
    lines = text.split("\n")[:-1]
    touched = None
    if how == "truncate":
        ends = [i + 1 for i, ch in enumerate(text[:-1]) if ch == "\n"]
        cut = data.draw(
            st.one_of(
                st.integers(0, len(text) - 1),
                st.sampled_from(ends),
                st.integers(max(0, len(text) - 8), len(text) - 1),
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
        touched = (li, ci)
    f = tmp_path / "m.csv"
    f.write_text(new)
    try:
        seqs = read_poses(f, format="dlc")
    except PoseDataError:
        return
    # read without error: every value not touched must be exactly what was written
    T = seqs[0].n_frames
    got = np.concatenate(
        [np.concatenate([s.position, s.confidence[..., None]], axis=2).reshape(T, -1) for s in seqs], axis=1
    )
    expect = values.copy()
    if how == "truncate" and T < len(values):
        # DeepLabCut files carry no frame count: a file cut just after a line break reads as
        # the frames before the cut, exactly (cuts anywhere else raise)
        assert new.endswith("\n")
        expect = expect[:T]
    assert got.shape == expect.shape
    if touched is not None and touched[0] >= n_head and touched[1] >= 1:
        got[touched[0] - n_head, touched[1] - 1] = expect[touched[0] - n_head, touched[1] - 1] = 0
    np.testing.assert_array_equal(got, expect)
