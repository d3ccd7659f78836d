"""Data set loaders on the real shared data: counts, splits, embedded PRECOG, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from skelbehave import datasets as D
from skelbehave.errors import PoseDataError, PoseFileNotFoundError


@pytest.fixture(scope="module")
def msr(shared_data):
    return D.load_msr_action3d(shared_data)


@pytest.fixture(scope="module")
def precog_csv(shared_data):
    return D.load_precog(shared_data)


# ----------------------------------------------------------------------------- MSR Action3D
def test_msr_557_sequences_20_actions(msr, shared_data):
    assert len(msr) == 557
    assert sorted(set(msr.labels.tolist())) == list(range(1, 21))
    assert sorted(set(msr.subjects.tolist())) == list(range(1, 11))
    names = (shared_data / "msr_action3d" / "files_used_in_cvpr12_paper.txt").read_text().split()
    assert [s.meta["source"].split("/")[-1][:11] for s in msr.sequences] == names
    assert msr.sequences[0].layout.name == "msr20" and msr.sequences[0].fps == 15
    assert msr.class_names[20] == "pick up and throw"
    assert msr.label_names[0] == "high arm wave"


def test_msr_split(msr):
    tr, te = msr.train_test_split()
    assert set(msr.subjects[tr].tolist()) == {1, 3, 5, 7, 9}
    assert set(msr.subjects[te].tolist()) == {2, 4, 6, 8, 10}
    assert len(tr) + len(te) == 557 and not set(tr) & set(te)
    train = msr.subset(tr)
    assert len(train) == len(tr) and train.labels.tolist() == msr.labels[tr].tolist()


def test_msr_zero_frames_are_missing(shared_data):
    raw_zero = {}
    for f in sorted((shared_data / "msr_action3d").glob("*_skeleton3D.txt")):
        a = np.fromfile(f, sep=" ").reshape(-1, 20, 4)[:, :, :3]
        z = np.all(a == 0, axis=(1, 2))
        if z.any():
            raw_zero[f.name] = z
    assert len(raw_zero) >= 19  # README: 19 files with some all-zero frames, plus the bad a13_s09 ones
    full = D.load_msr_action3d(shared_data, subset="all")
    assert len(full) == 567
    by_name = {s.meta["source"].split("/")[-1]: s for s in full.sequences}
    for name, z in raw_zero.items():
        s = by_name[name]
        assert np.isnan(s.position[z]).all() and not np.isnan(s.position[~z]).any()
    assert np.isnan(by_name["a13_s09_e02_skeleton3D.txt"].position).all()  # the all-zero file


# ----------------------------------------------------------------------------- UTD-MHAD
def test_utd_861_sequences_27_actions_reordered(shared_data):
    from scipy.io import loadmat

    ds = D.load_utd_mhad(shared_data)
    assert len(ds) == 861
    assert sorted(set(ds.labels.tolist())) == list(range(1, 28))
    assert sorted(set(ds.subjects.tolist())) == list(range(1, 9))
    tr, _ = ds.train_test_split()
    assert set(ds.subjects[tr].tolist()) == {1, 3, 5, 7}
    s = ds.sequences[0]
    raw = loadmat(s.meta["source"])["d_skel"]
    lay = s.layout
    assert lay.name == "kinect_v1" and s.fps == 30
    # UTD joint 1 is the head, 4 the hip centre, 20 the right foot
    np.testing.assert_array_equal(s.position[:, lay.index("head")], raw[0].T)
    np.testing.assert_array_equal(s.position[:, lay.index("hip_center")], raw[3].T)
    np.testing.assert_array_equal(s.position[:, lay.index("foot_right")], raw[19].T)
    assert 41 <= min(q.n_frames for q in ds.sequences) and max(q.n_frames for q in ds.sequences) <= 125
    # head above the hip centre (y up) in almost every frame of a standing action
    assert np.mean(s.position[:, lay.index("head"), 1] > s.position[:, lay.index("hip_center"), 1]) > 0.9


# ----------------------------------------------------------------------------- PRECOG
def test_precog_72_streams_19219_frames(precog_csv):
    ds = precog_csv
    assert len(ds) == 72 and ds.n_frames == 19_219 and ds.frame_level
    lengths = [s.n_frames for s in ds.sequences]
    assert min(lengths) == 142 and max(lengths) == 504
    assert sorted(set(ds.subjects.tolist())) == list(range(1, 13))
    assert ds.sequences[0].layout.name == "kinect_v1" and ds.sequences[0].fps == 30
    used = {int(k) for y in ds.labels for k in np.unique(y)}
    assert used == set(range(9))
    # label 8 (elbow strike) occurs only in script 6
    scripts8 = {s.meta["script"] for s, y in zip(ds.sequences, ds.labels, strict=True) if (y == 8).any()}
    assert scripts8 == {6}


def test_precog_embedded_equals_csv(precog_csv):
    emb = D.load_precog()
    assert emb.info["read_from"].startswith("embedded")
    assert len(emb) == len(precog_csv)
    for a, b, ya, yb in zip(precog_csv.sequences, emb.sequences, precog_csv.labels, emb.labels, strict=True):
        assert a.meta["name"] == b.meta["name"] and a.meta["subject"] == b.meta["subject"]
        np.testing.assert_array_equal(a.position.astype(np.float32), b.position)  # exact at float32
        np.testing.assert_array_equal(ya, yb)
    from importlib import resources

    folder = resources.files("skelbehave._data").joinpath("precog")
    assert "MIT License" in folder.joinpath("LICENCE.txt").read_text()
    assert "Jardim" in folder.joinpath("CITATION.txt").read_text()


def test_precog_trimmed_segments(precog_csv):
    seg = D.load_precog(trimmed=True)
    assert len(seg) == 360 and not seg.frame_level
    assert set(seg.labels.tolist()) == set(range(1, 9)) and 0 not in seg.class_names
    lengths = [s.n_frames for s in seg.sequences]
    assert min(lengths) >= 2 and max(lengths) <= 89
    # each segment is the stream's frames [start, stop) and carries its label there
    by_name = {s.meta["name"]: (s, y) for s, y in zip(precog_csv.sequences, precog_csv.labels, strict=True)}
    for s, lab in zip(seg.sequences[:40], seg.labels[:40], strict=True):
        stream, y = by_name[s.meta["name"]]
        a, b = s.meta["start_frame"], s.meta["stop_frame"]
        np.testing.assert_array_equal(stream.position[a:b].astype(np.float32), s.position)
        assert np.mean(y[a:b] == lab) > 0.9
    tr, _ = seg.train_test_split()
    assert set(seg.subjects[tr].tolist()) == {1, 3, 5, 7, 9, 11}


def test_precog_segments_flicker_rules():
    y = [0, 1, 1, 1, 2, 0, 6, 6, 0, 6, 6, 6, 0, 0, 6, 6, 3]
    # "2" is a one-frame flicker (dropped); the single 0 inside the 6s is bridged; 0 0 is not
    assert D.precog_segments(y) == [(1, 4, 1), (6, 12, 6), (14, 16, 6)]
    assert D.precog_segments(y, bridge=0, min_frames=1) == [
        (1, 4, 1), (4, 5, 2), (6, 8, 6), (9, 12, 6), (14, 16, 6), (16, 17, 3)
    ]  # fmt: skip
    assert D.precog_segments([]) == [] and D.precog_segments([0, 0]) == []


def test_precog_raw_runs_count(precog_csv):
    raw = sum(len(D.precog_segments(y, bridge=0, min_frames=1)) for y in precog_csv.labels)
    assert raw == 363  # README: "about 360 labelled segments"; 363 before flicker clean-up


def test_demo_summary():
    text = D.demo_summary()
    assert "72 continuous streams, 19219 frames" in text
    assert "360 labelled segments" in text and "elbow strike" in text and "MIT" in text


# ----------------------------------------------------------------------------- NTU
def test_ntu_two_people(shared_data):
    ds = D.load_ntu_skeleton(shared_data / "ntu_rgbd_samples")
    assert len(ds) == 7
    hand = [s for s in ds.sequences if "S001C003P008R002A058" in s.meta["source"]]
    assert len(hand) == 2 and len({s.meta["body_id"] for s in hand}) == 2
    one = D.load_ntu_skeleton(shared_data / "ntu_rgbd_samples" / "S001C003P008R002A058.skeleton")
    assert len(one) == 2 and one.labels.tolist() == [58, 58] and one.subjects.tolist() == [8, 8]
    tr, _ = ds.train_test_split()
    assert set(ds.subjects[tr].tolist()) <= set(D.NTU_TRAIN_SUBJECTS)


# ----------------------------------------------------------------------------- animals
def test_rat_social_12_recordings(shared_data):
    ds = D.load_rat_social(shared_data)
    assert len(ds) == 12 and ds.frame_level
    assert ds.subjects.tolist() == list(range(1, 13))
    s = ds.sequences[0]
    assert s.layout.n_joints == 10 and s.n_dims == 2 and s.fps == 30
    assert s.layout.partition(2) == [list(s.layout.joints[:5]), list(s.layout.joints[5:])]
    for seq, y in zip(ds.sequences, ds.labels, strict=True):
        n = seq.meta["recording"]
        lab_lines = (shared_data / "rat_social_dlc" / "labels_per_frame" / f"{n}_labels.csv").read_text()
        assert len(y) == seq.n_frames == len(lab_lines.strip().splitlines()) - 1
    assert [s.meta.get("dropped_unlabelled_frames", 0) for s in ds.sequences].count(1) == 3
    counts = ds.class_counts()
    assert set(counts) == {"base", "social", "nonsocial", "aggression"}
    assert sum(counts.values()) == ds.n_frames
    # label values agree with the label file
    import pandas as pd

    ref = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / "2_labels.csv")
    assert [D.RAT_STREAMS["S1"][k] for k in ds.labels[1][:2000]] == ref["S1"].tolist()[:2000]
    s2 = D.load_rat_social(shared_data, stream="S2")
    assert s2.info["skipped_recordings"] == [4, 9] and len(s2) == 10
    tr, te = ds.train_test_split()
    assert ds.subjects[tr].tolist() == list(range(1, 9))
    assert ds.subjects[te].tolist() == [9, 10, 11, 12]


def test_calms21_counts(shared_data):
    ds = D.load_calms21(shared_data)
    assert len(ds) == 1 and ds.n_frames == 4881
    assert ds.class_counts() == {"other": 3112, "investigation": 1172, "mount": 597}
    s = ds.sequences[0]
    assert s.layout.n_joints == 14 and s.layout.joints[0] == "resident_nose"
    assert s.layout.joints[7] == "intruder_nose"
    with pytest.raises(PoseDataError, match="no cross-subject split"):
        ds.train_test_split()


# ----------------------------------------------------------------------------- roots and bad files
def test_missing_root(tmp_path):
    with pytest.raises(PoseFileNotFoundError, match="data set folder not found"):
        D.load_msr_action3d(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        D.load_precog(tmp_path / "nowhere")


def test_env_var_root(shared_data, monkeypatch, tmp_path):
    monkeypatch.setenv("SKELBEHAVE_DATA", str(shared_data))
    assert len(D.load_calms21()) == 1
    monkeypatch.setenv("SKELBEHAVE_DATA", str(tmp_path))
    with pytest.raises(PoseFileNotFoundError):
        D.load_calms21()


def test_root_may_be_the_dataset_folder(shared_data):
    assert len(D.load_ntu_skeleton(shared_data / "ntu_rgbd_samples")) == 7
    assert D.load_calms21(shared_data / "calms21_mouse083").n_frames == 4881


def _precog_dir(tmp_path, shared_data, body=None, header=None):
    src = (shared_data / "precog_2016" / "Seq1_1.csv").read_text().splitlines()
    d = tmp_path / "precog_2016"
    d.mkdir(exist_ok=True)
    lines = [header or src[0], *(body if body is not None else src[1:])]
    (d / "Seq1_1.csv").write_text("\n".join(lines) + "\n")
    return tmp_path, src


def test_precog_bad_files(tmp_path, shared_data):
    root, src = _precog_dir(tmp_path, shared_data)
    assert D.load_precog(root).n_frames == len(src) - 1
    root, _ = _precog_dir(tmp_path, shared_data, header="Hip; Spine")
    with pytest.raises(PoseDataError, match="expected the header HipCenter") as e:
        D.load_precog(root)
    assert e.value.line == 1
    ragged = [*src[1:4], src[4].rsplit(";", 1)[0]]
    with pytest.raises(PoseDataError, match=r"expected 21 ';'-separated fields .*, found 20") as e:
        D.load_precog(_precog_dir(tmp_path, shared_data, body=ragged)[0])
    assert e.value.line == 5
    junk = [src[1].replace(src[1].split(";")[2].split()[0], "abc", 1)]
    with pytest.raises(PoseDataError, match="expected a number, found 'abc'") as e:
        D.load_precog(_precog_dir(tmp_path, shared_data, body=junk)[0])
    assert e.value.line == 2 and e.value.column == 3
    two = [src[1].replace(src[1].split(";")[5], " 1 2", 1)]
    with pytest.raises(PoseDataError, match="expected 3 numbers 'x y z', found 2"):
        D.load_precog(_precog_dir(tmp_path, shared_data, body=two)[0])
    lab = [src[1].rsplit(";", 1)[0] + ";9"]
    with pytest.raises(PoseDataError, match=r"label must be an integer 0\.\.8, found 9"):
        D.load_precog(_precog_dir(tmp_path, shared_data, body=lab)[0])
    with pytest.raises(PoseDataError, match="no frames"):
        D.load_precog(_precog_dir(tmp_path, shared_data, body=[])[0])
    (tmp_path / "precog_2016" / "Seq1_1.csv").write_text("")
    with pytest.raises(PoseDataError, match="empty file"):
        D.load_precog(tmp_path)


def test_msr_bad_files(tmp_path, shared_data):
    src = (shared_data / "msr_action3d" / "a01_s01_e01_skeleton3D.txt").read_text().splitlines()
    f = tmp_path / "a01_s01_e01_skeleton3D.txt"
    f.write_text("\n".join(src[:-1]) + "\n")  # one joint line short: truncated
    with pytest.raises(PoseDataError, match=r"20 joint lines per frame .* 19 extra lines"):
        D.read_msr_skeleton(f)
    f.write_text("\n".join([*src[:5], "1 2 3", *src[6:]]) + "\n")
    with pytest.raises(PoseDataError, match="expected 4 numbers 'x y z c', found 3") as e:
        D.read_msr_skeleton(f)
    assert e.value.line == 6
    f.write_text("\n".join([*src[:2], "1 2 z 1", *src[3:]]) + "\n")
    with pytest.raises(PoseDataError, match="expected a number, found 'z'") as e:
        D.read_msr_skeleton(f)
    assert (e.value.line, e.value.column) == (3, 3)
    f.write_text("")
    with pytest.raises(PoseDataError, match="empty file"):
        D.read_msr_skeleton(f)
    with pytest.raises(PoseFileNotFoundError):
        D.read_msr_skeleton(tmp_path / "a01_s01_e09_skeleton3D.txt")


def test_utd_bad_files(tmp_path):
    from scipy.io import savemat

    f = tmp_path / "a1_s1_t1_skeleton.mat"
    savemat(f, {"skel": np.zeros((20, 3, 5))})
    with pytest.raises(PoseDataError, match=r"expected a variable 'd_skel', found \['skel'\]"):
        D.read_utd_skeleton(f)
    savemat(f, {"d_skel": np.zeros((25, 3, 5))})
    with pytest.raises(PoseDataError, match=r"shape \(20, 3, frames\), found \(25, 3, 5\)"):
        D.read_utd_skeleton(f)
    f.write_bytes(b"not a mat file")
    with pytest.raises(PoseDataError, match="not a readable MATLAB file"):
        D.read_utd_skeleton(f)


def test_dataset_validates_lengths(msr):
    with pytest.raises(PoseDataError, match="3 sequences, 2 labels"):
        D.Dataset("x", msr.sequences[:3], [1, 2], [1, 1, 1], {}, None)
    with pytest.raises(PoseDataError, match="frame labels"):
        D.Dataset("x", msr.sequences[:1], [np.zeros(3)], [1], {}, None, frame_level=True)


# ----------------------------------------------------------------------------- registry
def test_registry_specs_match_what_the_loaders_return(shared_data, msr):
    from skelbehave.errors import UnknownDatasetError

    known = {"msr_action3d", "utd_mhad", "precog", "precog_trimmed", "rat_social", "calms21"}
    assert set(D.DATASETS) >= known
    spec = D.get_dataset_spec("msr-action3d")
    assert spec is D.DATASETS["msr_action3d"] and not spec.frame_level
    assert tuple(msr.train_subjects) == spec.train_subjects
    for name in ("precog", "precog_trimmed", "rat_social", "calms21", "utd_mhad"):
        spec = D.get_dataset_spec(name)
        ds = spec.load(shared_data)
        assert ds.frame_level == spec.frame_level, name
        assert ds.train_subjects == spec.train_subjects, name
        names = set(ds.class_names.values())
        assert set(spec.ignore_labels) <= names and set(spec.background_labels) <= names, name
    # the embedded copy needs no folder; the loader options of an entry are applied
    assert len(D.load_dataset("precog_trimmed")) == 360
    s2 = D.load_dataset("rat_social_s2", shared_data)
    assert s2.info["stream"] == "S2" and s2.info["skipped_recordings"] == [4, 9]
    assert D.get_dataset_spec("precog_2016").name == "precog"  # Dataset.name works too
    assert set(D.dataset_names(frame_level=True)) | set(D.dataset_names(frame_level=False)) == set(D.DATASETS)
    with pytest.raises(UnknownDatasetError, match="unknown data set 'msr'; known: msr_action3d"):
        D.get_dataset_spec("msr")


def test_embedded_precog_reader_refuses_a_damaged_copy():
    import io

    from skelbehave.io.precog import read_precog_npz

    with pytest.raises(PoseDataError, match=r"not a readable \.npz"):
        read_precog_npz(b"garbage", source="x.npz")
    buf = io.BytesIO()
    np.savez(buf, format_version=np.array(1))
    with pytest.raises(PoseDataError, match=r"missing arrays \['labels'"):
        read_precog_npz(buf.getvalue(), source="x.npz")
