"""NTU RGB+D .skeleton reader: real sample files and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave.errors import PoseDataError, PoseFileNotFoundError
from skelbehave.io import detect_format, read_poses


def test_two_people_in_handshake(shared_data):
    f = shared_data / "ntu_rgbd_samples" / "S001C003P008R002A058.skeleton"
    assert detect_format(f) == "ntu_skeleton"
    a, b = read_poses(f)
    assert a.meta["body_id"] != b.meta["body_id"]
    assert (a.meta["action"], a.meta["subject"], a.meta["camera"]) == (58, 8, 3)
    assert a.layout.name == "ntu25" and a.fps == 30 and a.n_frames == b.n_frames == 70
    # first joint of the first body, frame 0, as written in the file (line 5)
    lines = f.read_text().splitlines()
    np.testing.assert_array_equal(a.position[0, 0], [float(v) for v in lines[4].split()[:3]])
    assert a.confidence[0, 0] == 1.0  # trackingState 2 = tracked
    # the two people stand apart: their spine bases differ by more than 30 cm on average
    assert np.nanmean(np.linalg.norm(a.position[:, 0] - b.position[:, 0], axis=1)) > 0.3


def test_all_samples(shared_data):
    files = sorted((shared_data / "ntu_rgbd_samples").glob("*.skeleton"))
    assert len(files) == 6
    counts = {f.stem[-4:]: len(read_poses(f)) for f in files}
    assert counts["A058"] == 2 and sum(counts.values()) == 7


def _file(tmp_path, text):
    f = tmp_path / "S001C001P001R001A001.skeleton"
    f.write_text(text)
    return f


def _one_frame(n_joints=25, fields=12):
    body = "1 0 0 0 0 0 0 0 0 2\n" + f"{n_joints}\n" + ("0.1 " * (fields - 1) + "2\n") * n_joints
    return "1\n1\n" + body


def test_bad_inputs(tmp_path):
    (s,) = read_poses(_file(tmp_path, _one_frame()))
    assert s.n_frames == 1 and s.meta["subject"] == 1
    with pytest.raises(PoseFileNotFoundError):
        read_poses(tmp_path / "none.skeleton")
    with pytest.raises(PoseDataError, match="empty file"):
        read_poses(_file(tmp_path, ""))
    with pytest.raises(PoseDataError, match=r"joint count in 25\.\.25, found 24") as e:
        read_poses(_file(tmp_path, _one_frame(n_joints=24)))
    assert e.value.line == 4
    with pytest.raises(PoseDataError, match="12 fields, found 11"):
        read_poses(_file(tmp_path, _one_frame(fields=11)))
    with pytest.raises(PoseDataError, match="truncated"):
        read_poses(_file(tmp_path, _one_frame()[:-40].rsplit("\n", 1)[0] + "\n"))
    with pytest.raises(PoseDataError, match=r"expected a number .* found 'x'") as e:
        read_poses(_file(tmp_path, _one_frame().replace("0.1 2\n", "x 2\n", 1)))
    assert e.value.line == 5
    with pytest.raises(PoseDataError, match="frame count"):
        read_poses(_file(tmp_path, "many\n"))
    with pytest.raises(PoseDataError, match="after the 1 frames"):
        read_poses(_file(tmp_path, _one_frame() + "0\n"))
