"""Pose formats of other tools: real files written by the real libraries from the shared rat data.

A slice of the rat DeepLabCut CSV (two rats, 300 frames with gaps) is saved through
movement's savers (DeepLabCut .h5 and .csv, SLEAP analysis .h5, NWB, LightningPose) and
sleap-io (.slp), then read back through ``skelbehave.io.read_poses`` and compared
exactly. COCO-style JSON needs no extra; the other formats are skipped, with the reason,
when the ``formats`` extra is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from skelbehave import PoseSequence
from skelbehave.errors import MissingDependencyError, PoseDataError
from skelbehave.io import FORMATS, detect_format, read_coco, read_poses, write_coco, write_poses

FIRST, N = 6500, 300  # frames 6500-6799 of recording 1: both rats, 20-30 % of keypoints missing
FPS = 30.0
NAMES = ("top", "body", "tail", "tail-m", "tail-e")


def _rat_csv(shared_data):
    (f,) = sorted((shared_data / "rat_social_dlc" / "dlc_csv").glob("1DLC*.csv"))
    return f


@pytest.fixture(scope="module")
def rat_slice(shared_data, tmp_path_factory):
    """The slice as a DeepLabCut CSV of its own (frames renumbered from 0) and as PoseSequences."""
    src = _rat_csv(shared_data)
    lines = src.read_text().splitlines(keepends=True)
    body = lines[4 + FIRST : 4 + FIRST + N]
    renumbered = [f"{i}," + ln.split(",", 1)[1] for i, ln in enumerate(body)]
    out = tmp_path_factory.mktemp("rat") / "rat_slice.csv"
    out.write_text("".join(lines[:4] + renumbered))
    seqs = read_poses(out, fps=FPS)
    assert [s.meta["person"] for s in seqs] == ["individual1", "individual2"]
    assert seqs[0].layout.joints == NAMES and seqs[0].n_frames == N
    frac = [float(s.missing.mean()) for s in seqs]
    assert all(0.1 < f < 0.5 for f in frac), frac  # real gaps, and real data
    return out, seqs


@pytest.fixture(scope="module")
def formats_extra():
    for mod in ("movement", "sleap_io", "tables", "pynwb", "h5py"):
        pytest.importorskip(mod, reason=f"the 'formats' extra is not installed (no {mod})")


def _assert_same(orig, back, *, float32=False, names=NAMES):
    assert [s.layout.joints for s in back] == [names] * len(orig)
    for a, b in zip(orig, back, strict=True):
        pos, conf = a.position, a.confidence
        if float32:  # SLEAP's files and movement's SLEAP loader hold float32
            pos, conf = pos.astype(np.float32).astype(float), conf.astype(np.float32).astype(float)
        assert b.position.shape == pos.shape
        np.testing.assert_array_equal(b.position, pos)  # NaN where NaN, bit-equal elsewhere
        np.testing.assert_array_equal(b.confidence, conf)
        assert b.fps == FPS


# (format, file name, format detect_format reports, float32, the file records fps)
CASES = [
    ("dlc", "rat.h5", "dlc", False, False),
    ("dlc", "rat_movement.csv", "dlc", False, False),
    ("sleap", "rat.analysis.h5", "sleap", True, False),
    ("sleap", "rat.slp", "sleap", True, False),
    ("nwb", "rat.nwb", "nwb", False, True),
    ("lightning_pose", "rat_lp.csv", "dlc", False, False),
    ("movement", "rat.nc", "movement", False, True),
]


@pytest.mark.parametrize(("fmt", "name", "detected", "float32", "has_fps"), CASES, ids=[c[1] for c in CASES])
def test_library_written_files_read_back_exactly(
    formats_extra, rat_slice, tmp_path, fmt, name, detected, float32, has_fps
):
    _, seqs = rat_slice
    written = write_poses(tmp_path / name, seqs, format=fmt)
    files = written if isinstance(written, list) else [written]
    one_per_file = fmt in ("nwb", "lightning_pose")
    assert len(files) == (2 if one_per_file else 1)
    if one_per_file:  # movement's convention: <stem>_<individual><suffix>
        stem, suffix = name.rsplit(".", 1)
        assert [f.name for f in files] == [f"{stem}_individual{k}.{suffix}" for k in (1, 2)]
    back = []
    for f in files:
        assert detect_format(f) == detected
        back += read_poses(f) if has_fps else read_poses(f, fps=FPS)
    _assert_same(seqs, back, float32=float32)
    if not one_per_file:
        assert [s.meta["person"] for s in back] == ["individual1", "individual2"]
    elif fmt == "nwb":  # the NWB file's identifier / subject names the individual
        assert [s.meta["person"] for s in back] == ["individual1", "individual2"]


def test_files_are_what_the_tools_read(formats_extra, rat_slice, tmp_path):
    """The files hold what DeepLabCut, SLEAP and NWB readers look for (read with the tools' own libraries)."""
    import h5py
    import pandas as pd
    import pynwb
    import sleap_io

    _, seqs = rat_slice
    h5 = write_poses(tmp_path / "rat.h5", seqs, format="dlc")
    df = pd.read_hdf(h5, key="df_with_missing")
    assert df.columns.names == ["scorer", "individuals", "bodyparts", "coords"] and df.shape == (N, 2 * 5 * 3)
    np.testing.assert_array_equal(
        df[("movement", "individual2", "tail", "x")].to_numpy(), seqs[1].position[:, 2, 0]
    )

    ana = write_poses(tmp_path / "rat.analysis.h5", seqs, format="sleap")
    with h5py.File(ana) as f:
        assert f["tracks"].shape == (2, 2, 5, N)  # individuals, space, keypoints, frames
        assert [n.decode() for n in f["node_names"][:]] == list(NAMES)

    slp = write_poses(tmp_path / "rat.slp", seqs, format="sleap")
    labels = sleap_io.load_slp(str(slp))
    assert [t.name for t in labels.tracks] == ["individual1", "individual2"]
    assert labels.skeletons[0].node_names == list(NAMES)
    present = ~np.isnan(seqs[0].position).all(axis=(1, 2))
    assert len(labels.labeled_frames) == int((present | ~np.isnan(seqs[1].position).all(axis=(1, 2))).sum())

    (nwb1, _) = write_poses(tmp_path / "rat.nwb", seqs, format="nwb")
    with pynwb.NWBHDF5IO(str(nwb1), mode="r") as io:
        pose = io.read().processing["behavior"]["PoseEstimation"]
        assert sorted(pose.pose_estimation_series) == sorted(NAMES)
        series = pose.pose_estimation_series["body"]
        np.testing.assert_array_equal(np.asarray(series.data), seqs[0].position[:, 1])


def test_movement_dataset_both_ways(formats_extra, rat_slice, tmp_path):
    from movement.io import load_poses

    from skelbehave.io import from_movement, to_movement

    csv, seqs = rat_slice
    ds = load_poses.from_dlc_file(csv, fps=FPS)  # movement's own reader of the DeepLabCut CSV
    from_lib = from_movement(ds)
    _assert_same(seqs, from_lib)  # movement and skelbehave's DLC reader agree bit for bit
    assert [s.meta["person"] for s in from_lib] == ["individual1", "individual2"]
    ds2 = to_movement(seqs)
    assert dict(ds2.sizes) == {"time": N, "space": 2, "keypoints": 5, "individuals": 2}
    assert ds2.attrs["fps"] == FPS
    np.testing.assert_array_equal(ds2["position"].values, ds["position"].values)
    np.testing.assert_array_equal(ds2["confidence"].values, ds["confidence"].values)
    # movement's own way of saving a dataset (netCDF) keeps the first frame too
    later = [s.copy(meta=dict(s.meta, start_frame=FIRST)) for s in seqs]
    nc = write_poses(tmp_path / "rat.nc", later, format="movement")
    back = read_poses(nc)
    assert [s.meta["start_frame"] for s in back] == [FIRST, FIRST]
    _assert_same(seqs, back)
    # a gap in the time coordinate becomes missing frames, not a shorter recording
    gap = from_movement(ds.isel(time=[*range(10), *range(20, N)]))
    assert gap[0].n_frames == N and np.isnan(gap[0].position[10:20]).all()
    np.testing.assert_array_equal(gap[0].position[20:], seqs[0].position[20:])


def test_anipose_csv(formats_extra, rat_slice, tmp_path):
    """An Anipose triangulation CSV (its column layout, written with pandas) read through movement."""
    import pandas as pd

    _, seqs = rat_slice
    s = seqs[0]
    cols = {}
    for j, kp in enumerate(NAMES):
        cols |= {f"{kp}_x": s.position[:, j, 0], f"{kp}_y": s.position[:, j, 1], f"{kp}_z": np.full(N, 5.0)}
        cols |= {f"{kp}_error": np.zeros(N), f"{kp}_ncams": np.full(N, 2), f"{kp}_score": s.confidence[:, j]}
    cols |= {f"center_{i}": np.zeros(N) for i in range(3)}
    cols |= {f"M_{a}{b}": np.eye(3)[a, b] * np.ones(N) for a in range(3) for b in range(3)}
    cols["fnum"] = np.arange(N)
    f = tmp_path / "rat_3d.csv"
    pd.DataFrame(cols).to_csv(f, index=False)
    assert detect_format(f) == "anipose"
    (back,) = read_poses(f, fps=FPS)
    assert back.n_dims == 3 and back.fps == FPS
    order = [NAMES.index(k) for k in back.layout.joints]  # movement sorts Anipose keypoints by name
    assert sorted(back.layout.joints) == sorted(NAMES)
    np.testing.assert_array_equal(back.position[..., :2], s.position[:, order])
    np.testing.assert_array_equal(back.confidence, s.confidence[:, order])


# ----------------------------------------------------------------------------- COCO JSON


def test_coco_round_trip_rat(rat_slice, tmp_path):
    _, seqs = rat_slice
    for style in ("annotations", "detections"):
        f = write_coco(tmp_path / f"rat_{style}.json", seqs, style=style)
        assert detect_format(f) == "coco"
        kw = {} if style == "annotations" else {"fps": FPS, "layout": seqs[0].layout}
        back = read_poses(f, **kw)
        assert [s.meta["person"] for s in back] == ["individual1", "individual2"]
        for a, b in zip(seqs, back, strict=True):
            assert b.layout.joints == NAMES and b.fps == FPS and b.n_frames == N
            np.testing.assert_array_equal(b.position, a.position)
            present = ~a.missing  # COCO keeps no confidence for a missing keypoint
            np.testing.assert_array_equal(b.confidence[present], a.confidence[present])
            assert np.isnan(b.confidence[~present]).all()


def _det(frame, track, x0, n=17, v=0.9):
    return {
        "image_id": f"frames/{frame:06d}.jpg",
        "category_id": 1,
        "track_id": track,
        "score": 0.8,
        "keypoints": [c for j in range(n) for c in (x0 + j, 100.0 + 2 * j, v)],
    }


def test_coco_detections_two_tracks(tmp_path):
    """Per-frame detections as pose estimators write them: image file names, tracks, a gap, a lost joint."""
    dets = [_det(t, k, 10.0 * k + t) for t in range(5, 10) for k in (3, 1) if not (k == 3 and t == 7)]
    dets[0]["keypoints"][3 * 4 : 3 * 5] = [0, 0, 0]  # frame 5, track 3: right ear not found
    f = tmp_path / "tracks.json"
    f.write_text(json.dumps(dets))
    assert detect_format(f) == "coco"
    seqs = read_poses(f, fps=25)
    assert [s.meta["person"] for s in seqs] == [1, 3]
    assert all(s.layout.name == "coco17" and s.n_frames == 5 and s.meta["start_frame"] == 5 for s in seqs)
    one, three = seqs
    assert one.position[2, 0, 0] == 17.0 and one.position[2, 16, 1] == 132.0
    assert np.isnan(three.position[2]).all() and not np.isnan(one.position[2]).any()  # track 3 absent at 7
    assert np.isnan(three.position[0, 4]).all() and np.isnan(three.confidence[0, 4])
    assert three.position[0, 5, 0] == 40.0 and three.confidence[0, 5] == 0.9
    # written back as detections and read again: the same numbers
    again = read_coco(write_coco(tmp_path / "again.json", seqs, style="detections"), fps=25)
    for a, b in zip(seqs, again, strict=True):
        np.testing.assert_array_equal(b.position, a.position)
        np.testing.assert_array_equal(b.confidence, a.confidence)


def test_coco_detection_ids_are_not_tracks(tmp_path):
    """A results list whose 'id' numbers every detection is one untracked person, not 4 tracks."""
    dets = [_det(t, 0, float(t)) for t in range(4)]
    for k, d in enumerate(dets):
        del d["track_id"]
        d["id"] = 100 + k
    f = tmp_path / "ids.json"
    f.write_text(json.dumps(dets))
    (seq,) = read_poses(f)
    assert seq.n_frames == 4 and seq.position[3, 0, 0] == 3.0
    for d in dets:  # the same 'id' in every frame: a track id after all
        d["id"] = 7
    f.write_text(json.dumps(dets))
    assert [s.meta["person"] for s in read_poses(f)] == [7]


def test_coco_annotation_file_and_no_track_ids(tmp_path):
    kp = _det(0, 0, 1.0)["keypoints"]
    doc = {
        "images": [
            {"id": 11, "file_name": "a.jpg", "frame": 0},
            {"id": 12, "file_name": "b.jpg", "frame": 1},
        ],
        "annotations": [{"id": 1, "image_id": 12, "category_id": 1, "keypoints": kp}],
        "categories": [{"id": 1, "name": "person", "keypoints": [f"k{j}" for j in range(17)]}],
    }
    f = tmp_path / "gt.json"
    f.write_text(json.dumps(doc))
    (seq,) = read_poses(f)
    assert seq.fps is None and seq.n_frames == 2 and seq.layout.joints[0] == "k0"
    assert np.isnan(seq.position[0]).all() and seq.position[1, 0, 0] == 1.0
    doc["annotations"].append(dict(doc["annotations"][0], id=2))  # two untracked people in one frame
    f.write_text(json.dumps(doc))
    with pytest.raises(PoseDataError, match=r"gt\.json.*two detections .*without track ids.*frame 1"):
        read_poses(f)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ([_det(0, 1, 0.0, n=16) | {"keypoints": [1.0] * 50}], r"'keypoints' has 50 numbers.*multiple of 3"),
        ([_det(0, 1, 0.0), _det(1, 1, 0.0, n=16)], r"detection 1: 'keypoints' has 48 numbers, expected 51"),
        ([_det(0, 1, 0.0, n=5)], r"5 keypoints per detection and no keypoint names: pass layout="),
        ([_det(0, 1, 0.0) | {"keypoints": [1.0, "a", 2.0] * 17}], r"keypoints must be numbers, found 'a'"),
        ([_det(0, 1, 0.0), _det(0, 1, 1.0)], r"two detections of track 1 in frame 0"),
        ([_det(0, 1, 0.0) | {"image_id": -3}], r"image_id.*expected an integer >= 0"),
        ({"images": []}, r"expected a list of detections or an object with 'annotations'"),
    ],
    ids=[
        "not-triples",
        "length-changes",
        "unnamed-5",
        "text",
        "duplicate",
        "negative-frame",
        "no-annotations",
    ],
)
def test_bad_coco_names_file_and_field(tmp_path, content, match):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(content))
    with pytest.raises(PoseDataError, match=match) as info:
        read_poses(f, format="coco")
    assert info.value.path == str(f)


def test_bad_json_is_not_a_pose_file(tmp_path):
    card = tmp_path / "model_card.json"
    card.write_text(json.dumps({"layout": "coco17", "classes": ["a", "b"], "fps": 30}))
    with pytest.raises(PoseDataError, match="unknown pose file format") as info:
        detect_format(card)
    assert info.value.path == str(card)
    broken = tmp_path / "cut.json"
    broken.write_text(json.dumps([_det(0, 1, 0.0)])[:-40])
    with pytest.raises(PoseDataError, match=r"cut\.json, line 1: not valid JSON"):
        read_poses(broken)


def test_truncated_hdf5_files(formats_extra, rat_slice, tmp_path):
    _, seqs = rat_slice
    for name, fmt in (("rat.h5", "dlc"), ("rat.analysis.h5", "sleap"), ("rat.slp", "sleap")):
        f = write_poses(tmp_path / name, seqs, format=fmt)
        raw = f.read_bytes()
        cut = tmp_path / f"cut_{name}"
        cut.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(PoseDataError) as info:
            read_poses(cut)
        assert info.value.path == str(cut)
        with pytest.raises(PoseDataError, match=r"cannot read as a .* file|damaged or truncated") as info:
            read_poses(cut, format=fmt)
        assert info.value.path == str(cut)


def test_nwb_without_pose_and_other_hdf5(formats_extra, rat_slice, tmp_path):
    from datetime import UTC, datetime

    import h5py
    import pynwb

    empty = tmp_path / "session.nwb"
    nwbfile = pynwb.NWBFile("a session without pose", "s1", datetime(2024, 1, 1, tzinfo=UTC))
    with pynwb.NWBHDF5IO(str(empty), mode="w") as io:
        io.write(nwbfile)
    assert detect_format(empty) == "nwb"
    with pytest.raises(PoseDataError, match=r"session\.nwb: cannot read as a NWB file: no pose estimation"):
        read_poses(empty)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["images"] = np.zeros((2, 2))
    with pytest.raises(PoseDataError, match=r"other\.h5: an HDF5 file that is no pose file.*\['images'\]"):
        read_poses(other)
    _, seqs = rat_slice
    no_fps = [s.copy(fps=None) for s in seqs]
    with pytest.raises(PoseDataError, match="NWB stores time in seconds"):
        write_poses(tmp_path / "x.nwb", no_fps, format="nwb")
    (nwb1, _) = write_poses(tmp_path / "rat.nwb", seqs, format="nwb")
    with pytest.raises(PoseDataError, match="fps=25 was given but the file records 30"):
        read_poses(nwb1, fps=25)


def test_missing_extra_names_it(rat_slice, tmp_path, monkeypatch):
    """Without movement, reading a DeepLabCut .h5 says which extra to install."""
    import skelbehave._util.optional as optional

    h5 = tmp_path / "rat.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    real = optional.importlib.import_module

    def fake(name, *a):
        if name.split(".")[0] in ("movement", "h5py", "sleap_io", "tables", "pynwb", "xarray"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *a)

    monkeypatch.setattr(optional.importlib, "import_module", fake)
    with pytest.raises(MissingDependencyError, match=r'pip install "skelbehave\[formats\]"'):
        read_poses(h5)
    with pytest.raises(MissingDependencyError, match=r"formats"):
        read_poses(h5, format="dlc")
    _, seqs = rat_slice
    with pytest.raises(MissingDependencyError, match=r"formats"):
        write_poses(tmp_path / "x.analysis.h5", seqs, format="sleap")
    write_coco(tmp_path / "still.json", seqs)  # COCO JSON needs no extra


def test_import_is_light_and_formats_listed():
    code = (
        "import sys, skelbehave.io as io; "
        "heavy = ('movement', 'sleap_io', 'xarray', 'h5py', 'pynwb', 'tables', 'netCDF4'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    for fmt in ("dlc", "sleap", "nwb", "lightning_pose", "anipose", "movement", "coco"):
        assert fmt in FORMATS


def test_write_poses_refuses_unknown_format(rat_slice, tmp_path):
    _, seqs = rat_slice
    with pytest.raises(PoseDataError, match="cannot write format 'anipose'"):
        write_poses(tmp_path / "x.csv", seqs, format="anipose")
    seq3 = PoseSequence(np.zeros((2, 17, 3)), "coco17")
    with pytest.raises(PoseDataError, match="COCO keypoints are 2-D"):
        write_poses(tmp_path / "x.json", seq3, format="coco")
