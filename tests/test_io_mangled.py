"""Readers of foreign formats fed mangled real files: only PoseDataError, never another exception.

The package's own pose CSV and DeepLabCut CSV have stronger checks (data equal where untouched) in
test_io_pose_csv.py and test_io_dlc.py. MSR and PRECOG text files carry no frame count, so a file
cut exactly at a frame boundary reads as a shorter clip; that limit of the formats is why these
tests check the exception type only (plus NTU, whose header counts make truncation detectable).
"""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skelbehave import datasets as D
from skelbehave.errors import PoseDataError
from skelbehave.io import read_poses

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_junk = st.text(alphabet="0123456789.;,-e \n\tx#", min_size=0, max_size=6)


def _mangle(text: str, how: str, data) -> str:
    if how == "truncate":
        return text[: data.draw(st.integers(0, len(text) - 1))]
    lines = text.split("\n")
    li = data.draw(st.integers(0, len(lines) - 1))
    cells = lines[li].split(" ")
    ci = data.draw(st.integers(0, len(cells) - 1))
    if how == "junk":
        cells[ci] = data.draw(_junk)
    else:
        del cells[ci]
    lines[li] = " ".join(cells)
    return "\n".join(lines)


HOW = st.sampled_from(["truncate", "junk", "drop"])


@SETTINGS
@given(how=HOW, data=st.data())
def test_ntu_mangled(tmp_path, shared_data, how, data):
    src = (shared_data / "ntu_rgbd_samples" / "S001C001P001R001A011.skeleton").read_text()
    f = tmp_path / "S001C001P001R001A011.skeleton"
    f.write_text(_mangle(src, how, data))
    try:
        seqs = read_poses(f)
    except PoseDataError:
        return
    if how == "truncate":
        (s,) = seqs
        assert s.n_frames == 82  # a truncated file never reads as a shorter clip
    else:
        # a junk cell that still parses (e.g. another integer body id) may start a new body,
        # but every body keeps 25 joints inside the clip's 82 frames
        for s in seqs:
            assert s.n_joints == 25 and s.meta["start_frame"] + s.n_frames <= 82


@SETTINGS
@given(how=HOW, data=st.data())
def test_precog_mangled(tmp_path, shared_data, how, data):
    src = (shared_data / "precog_2016" / "Seq1_1.csv").read_text()
    d = tmp_path / "precog_2016"
    d.mkdir(exist_ok=True)
    (d / "Seq1_1.csv").write_text(_mangle(src, how, data))
    try:
        D.load_precog(tmp_path)
    except PoseDataError:
        pass


@SETTINGS
@given(how=HOW, data=st.data())
def test_msr_mangled(tmp_path, shared_data, how, data):
    src = (shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt").read_text()
    f = tmp_path / "a01_s01_e01_skeleton3D.txt"
    f.write_text(_mangle(src, how, data))
    try:
        D.read_msr_skeleton(f)
    except PoseDataError:
        pass


def test_utd_mangled_bytes(tmp_path, shared_data):
    src = shared_data / "utd_mhad" / "a1_s1_t1_skeleton.mat"
    raw = src.read_bytes()
    for cut in (0, 10, 128, len(raw) // 2, len(raw) - 1):
        f = tmp_path / "a1_s1_t1_skeleton.mat"
        f.write_bytes(raw[:cut])
        try:
            D.read_utd_skeleton(f)
        except PoseDataError:
            continue
    shutil.copy(src, tmp_path / "a1_s1_t1_skeleton.mat")
    assert D.read_utd_skeleton(tmp_path / "a1_s1_t1_skeleton.mat").n_frames > 0
