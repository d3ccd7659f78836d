"""Batch scoring of real DeepLabCut rat CSVs: outputs, manifest, bad files, resume, processes, Dask."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave._util.parallel import read_manifest
from skelbehave.batch import expand_inputs, file_sha256, score_files
from skelbehave.io import read_poses
from skelbehave.pipeline.frame import FrameLevelModel, load_frame_model

REPO = Path(__file__).resolve().parents[1]
N_FRAMES = 1500  # the first frames of each recording keep the tests fast
RECORDINGS = (1, 2, 5, 9)


def _rat_csv(shared_data: Path, n: int) -> Path:
    return next((shared_data / "rat_social_dlc" / "dlc_csv").glob(f"{n}DLC_*.csv"))


def _head(src: Path, dst: Path, n_frames: int, skip: int = 0) -> Path:
    """Copy the header (4 rows) and frames skip .. skip + n_frames of a DeepLabCut CSV."""
    with open(src) as fh:
        lines = fh.readlines()
    header, body = lines[:4], lines[4 + skip : 4 + skip + n_frames]
    dst.write_text("".join(header + body))
    return dst


@pytest.fixture(scope="module")
def rat_files(shared_data, tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("rat")
    # frames 3000.. : the rats are in view and behave (the first frames are 'base')
    return [_head(_rat_csv(shared_data, n), d / f"rat{n}.csv", N_FRAMES, skip=3000) for n in RECORDINGS]


@pytest.fixture(scope="module")
def rat_model(shared_data, rat_files, tmp_path_factory) -> Path:
    """A small two-rat model trained on the real frames and S1 labels of two recordings."""
    recs, ys = [], []
    for n, f in zip(RECORDINGS[:2], rat_files[:2], strict=True):
        recs.append(read_poses(f, fps=30))
        lab = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / f"{n}_labels.csv")
        ys.append(lab["S1"].to_numpy()[3000 : 3000 + N_FRAMES])
    model = FrameLevelModel(
        window=15,
        fit_stride=3,
        classifier_params={"n_estimators": 15},
        ignore_labels=["base"],
        random_state=0,
    )
    model.fit(recs, ys)
    path = tmp_path_factory.mktemp("model") / "rat.skb"
    model.save(path)
    return path


def test_score_files_writes_predictions_and_manifest(rat_model, rat_files, tmp_path):
    out = tmp_path / "pred"
    df = score_files(rat_model, rat_files[:2], out, output_format="csv", fps=30, progress=False)
    assert df["status"].tolist() == ["done", "done"]
    model = load_frame_model(rat_model)
    for row in df.itertuples():
        assert row.input_sha256 == file_sha256(row.input)
        assert row.model_sha256 == file_sha256(rat_model)
        assert row.package_version and row.n_frames == N_FRAMES
        pred = pd.read_csv(row.output)
        assert list(pred.columns[:3]) == ["frame", "time", "label"]
        probs = pred[[f"proba_{c}" for c in model.classes_]].to_numpy()
        present = ~pred["absent"].to_numpy(bool)  # frames where the animal has no pose: no behaviour
        np.testing.assert_allclose(probs[present].sum(axis=1), 1.0, atol=1e-5)
        assert np.isnan(probs[~present]).all() and (pred["label"].isna().to_numpy() == ~present).all()
        # frame numbers are the file's own (its index starts at 3000)
        assert pred["frame"].tolist() == list(range(3000, 3000 + N_FRAMES))
        np.testing.assert_allclose(pred["time"].to_numpy(), pred["frame"].to_numpy() / 30, atol=1e-6)
        assert set(pred["label"].dropna()) <= set(model.classes_.tolist())
        # the file agrees with predicting in memory
        direct = model.predict_table(read_poses(row.input, fps=30))
        assert direct["label"].fillna("-").tolist() == pred["label"].fillna("-").tolist()
    man = read_manifest(out / "manifest.csv")
    assert set(man["status"]) == {"done"} and len(man) == 2
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_corrupt_file_is_recorded_and_others_scored(rat_model, rat_files, tmp_path):
    bad = tmp_path / "corrupt.csv"
    text = rat_files[0].read_text().splitlines()
    text[10] = text[10][: len(text[10]) // 2] + ",oops,1.0"  # broken row in the middle
    bad.write_text("\n".join(text) + "\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out = tmp_path / "pred"
    df = score_files(
        rat_model, [rat_files[0], bad, empty, rat_files[1]], out, output_format="csv", progress=False
    )
    st = df.set_index("input")
    assert st.loc[str(rat_files[0]), "status"] == "done" and st.loc[str(rat_files[1]), "status"] == "done"
    assert st.loc[str(bad), "status"] == "failed" and "line" in st.loc[str(bad), "error"]
    assert st.loc[str(empty), "status"] == "failed" and "empty" in st.loc[str(empty), "error"]
    assert not Path(st.loc[str(bad), "output"]).exists()
    man = read_manifest(out / "manifest.csv").set_index("key")
    assert man.loc[str(bad), "status"] == "failed" and man.loc[str(bad), "error"]


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_two_processes_match_one(rat_model, rat_files, tmp_path, start_method):
    import multiprocessing

    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method} start method on this platform")
    one = score_files(rat_model, rat_files, tmp_path / "one", output_format="csv", progress=False)
    two = score_files(
        rat_model, rat_files, tmp_path / "two", jobs=2, output_format="csv", progress=False,
        start_method=start_method,
    )  # fmt: skip
    assert two["status"].tolist() == ["done"] * len(rat_files)
    assert two["input"].tolist() == one["input"].tolist()  # manifest in input order
    for a, b in zip(one["output"], two["output"], strict=True):
        pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))
    with pytest.raises(ValueError, match="start_method"):
        score_files(rat_model, rat_files[:1], tmp_path / "bad", jobs=2, start_method="threads")


def test_parquet_output_and_resume_skips_done_files(rat_model, rat_files, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "pred"
    df = score_files(rat_model, rat_files[:2], out, progress=False)
    assert all(p.endswith(".parquet") for p in df["output"])
    assert len(pd.read_parquet(df["output"].iloc[0])) == N_FRAMES
    before = {p: os.stat(p).st_mtime_ns for p in df["output"]}
    df2 = score_files(rat_model, rat_files[:3], out, progress=False)
    assert df2["status"].tolist() == ["done"] * 3
    assert {p: os.stat(p).st_mtime_ns for p in df["output"]} == before  # not redone
    # a changed input is scored again
    f = rat_files[0]
    os.utime(f)  # same bytes: still skipped
    score_files(rat_model, rat_files[:1], out, progress=False)
    assert os.stat(df["output"].iloc[0]).st_mtime_ns == before[df["output"].iloc[0]]


def test_killed_run_resumes_without_redoing_finished_files(rat_model, shared_data, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k in range(8):
        _head(_rat_csv(shared_data, RECORDINGS[k % 4]), inputs / f"clip{k}.csv", 2500, skip=2000 + 100 * k)
    out = tmp_path / "pred"
    cmd = [sys.executable, "-m", "skelbehave", "score", str(rat_model), str(inputs), "--out", str(out),
           "--output-format", "csv", "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.csv"
    deadline = time.time() + 120
    n_done = 0
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists():
            n_done = int((read_manifest(manifest)["status"] == "done").sum())
            if n_done >= 2:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    man = read_manifest(manifest)
    done = man.loc[man["status"] == "done", "output"].tolist()
    assert 2 <= len(done) < 8
    stamps = {p: os.stat(p).st_mtime_ns for p in done}
    df = score_files(rat_model, inputs, out, output_format="csv", progress=False)
    assert (df["status"] == "done").all() and len(df) == 8
    assert {p: os.stat(p).st_mtime_ns for p in done} == stamps
    assert not list(out.glob(".*tmp*"))


def test_dask_local_cluster_matches_local_scoring(rat_model, rat_files, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    ref = score_files(rat_model, rat_files[2:], tmp_path / "local", output_format="csv", progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        df = score_files(
            rat_model, rat_files[2:], tmp_path / "dask", scheduler=client, output_format="csv", progress=False
        )
    assert (df["status"] == "done").all()
    for a, b in zip(ref["output"], df["output"], strict=True):
        pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b))


def test_dlc_single_animal_with_empty_cells(shared_data, rat_files, tmp_path):
    """A one-animal model scores a single-animal DLC file and each animal of a multi-animal file."""
    # single-animal DeepLabCut layout (3 header rows) from individual1's columns of a real file
    src = pd.read_csv(rat_files[0], header=[0, 1, 2, 3], index_col=0)
    one = src.xs("individual1", axis=1, level=1)
    single = tmp_path / "single.csv"
    one.to_csv(single)
    seqs = read_poses(single, fps=30)
    assert len(seqs) == 1 and np.isnan(seqs[0].position).any(), "expected empty cells in the real data"
    lab = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / f"{RECORDINGS[0]}_labels.csv")
    y = lab["S1"].to_numpy()[3000 : 3000 + N_FRAMES]
    model = FrameLevelModel(
        window=9, fit_stride=4, classifier_params={"n_estimators": 5}, ignore_labels=["base"], random_state=0
    )
    model.fit([seqs[0]], [y])
    df = score_files(
        model, [single, rat_files[1]], tmp_path / "pred", output_format="csv", progress=False, ethogram=True
    )
    assert (df["status"] == "done").all(), df["error"].tolist()
    multi = pd.read_csv(df["output"].iloc[1])
    bouts = pd.read_csv(tmp_path / "pred" / f"{rat_files[1].stem}.bouts.csv")
    assert sorted(bouts["individual"].unique()) == ["individual1", "individual2"]
    per_animal = bouts.groupby("individual")["frames"].sum()
    assert (per_animal == N_FRAMES - multi.groupby("individual")["absent"].sum()).all()  # absent: no bout
    png = tmp_path / "pred" / f"{rat_files[1].stem}.ethogram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(multi["individual"].unique()) == ["individual1", "individual2"]
    assert len(multi) == 2 * N_FRAMES
    probs = multi[[c for c in multi.columns if c.startswith("proba_")]]
    present = ~multi["absent"].to_numpy(bool)  # an animal with no pose in a frame gets no behaviour there
    assert present.any() and (~present).any(), "expected frames without the animal in the real data"
    assert np.isfinite(probs.to_numpy()[present]).all() and multi["label"][present].notna().all()
    assert np.isnan(probs.to_numpy()[~present]).all() and multi["label"][~present].isna().all()


def test_expand_inputs_and_bad_model(rat_files, tmp_path):
    from skelbehave.errors import ModelFileError, PoseDataError

    assert expand_inputs([rat_files[0].parent]) == sorted(rat_files)
    assert expand_inputs(str(rat_files[0].parent / "rat*.csv")) == sorted(rat_files)
    with pytest.raises(PoseDataError, match="no pose file"):
        expand_inputs([tmp_path / "missing.csv"])
    bad = tmp_path / "bad.skb"
    bad.write_bytes(b"PK\x03\x04 not really a model")
    with pytest.raises(ModelFileError):
        score_files(bad, rat_files[:1], tmp_path / "pred", progress=False)


def test_in_memory_model_is_saved_once_and_resume_still_works(rat_model, rat_files, tmp_path):
    model = load_frame_model(rat_model)
    out = tmp_path / "pred"
    df = score_files(model, rat_files[:1], out, output_format="csv", progress=False)
    stamp = os.stat(df["output"].iloc[0]).st_mtime_ns
    sha = df["model_sha256"].iloc[0]
    time.sleep(1.1)  # a new save would carry a new creation time
    df2 = score_files(model, rat_files[:1], out, output_format="csv", progress=False)
    assert df2["model_sha256"].iloc[0] == sha == file_sha256(out / "model.skb")
    assert os.stat(df2["output"].iloc[0]).st_mtime_ns == stamp
    assert not list(out.glob(".model.*"))


# ----------------------------------------------------------------------------- clip-level models
MSR_ACTIONS = ("bend", "forward kick", "high arm wave", "jogging", "two hand wave")


@pytest.fixture(scope="module")
def msr_clip_model(shared_data, tmp_path_factory):
    """A BehaviorModel on five MSR Action3D actions of subjects 1, 3, 5, 7; pose files of subjects 2, 4."""
    from skelbehave.datasets import load_msr_action3d
    from skelbehave.encoding import VLADEncoder
    from skelbehave.io import write_poses
    from skelbehave.pipeline import BehaviorModel

    ds = load_msr_action3d(shared_data / "msr_action3d")
    names = np.asarray(ds.label_names)
    use = np.isin(names, MSR_ACTIONS)
    tr = np.flatnonzero(use & np.isin(ds.subjects, [1, 3, 5, 7]))
    te = np.flatnonzero(use & np.isin(ds.subjects, [2, 4]))
    model = BehaviorModel(encoder=VLADEncoder(n_clusters=8), random_state=0)
    model.fit([ds.sequences[i] for i in tr], names[tr])
    d = tmp_path_factory.mktemp("msr_poses")
    files, truth = [], {}
    for i in te:
        s = ds.sequences[i]
        f = write_poses(d / f"{Path(s.meta['source']).stem}.pose.csv", [s])
        files.append(f)
        truth[str(f)] = names[i]
    path = tmp_path_factory.mktemp("msr_model") / "msr.skb"
    model.save(path)
    return path, files, truth


def test_clip_model_scores_one_row_per_file_and_individual(msr_clip_model, tmp_path):
    from skelbehave.pipeline import load

    path, files, truth = msr_clip_model
    df = score_files(path, files, tmp_path / "pred", output_format="csv", progress=False)
    assert (df["status"] == "done").all(), df["error"].tolist()
    model = load(path)
    classes = model.classes_.tolist()
    tables = [pd.read_csv(p) for p in df["output"]]
    assert all(len(t) == 1 for t in tables)  # one individual per file, one row for the whole clip
    table = pd.concat(tables, ignore_index=True)
    assert list(table.columns[:7]) == [
        "input", "individual", "start_frame", "stop_frame", "start_time", "stop_time", "label",
    ]  # fmt: skip
    assert table["input"].tolist() == [str(f) for f in files]
    # the whole clip, at the file's 15 fps
    n = [read_poses(f)[0].n_frames for f in files]
    assert table["start_frame"].eq(0).all() and table["stop_frame"].tolist() == n
    np.testing.assert_allclose(table["stop_time"], np.asarray(n) / 15.0, atol=1e-6)
    probs = table[[f"proba_{c}" for c in classes]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # the same as predicting in memory, and right on held-out subjects (measured 26 of 27)
    direct = model.predict_proba([read_poses(f)[0] for f in files])
    np.testing.assert_allclose(probs, direct, atol=1e-5)
    acc = np.mean([lab == truth[f] for f, lab in zip(table["input"], table["label"], strict=True)])
    assert acc >= 0.85
    assert (df["n_frames"] == n).all() and (df["n_rows"] == 1).all()


def test_clip_model_rescored_when_the_window_changes(msr_clip_model, tmp_path):
    path, files, _ = msr_clip_model
    out = tmp_path / "pred"
    df = score_files(path, files[:2], out, output_format="csv", progress=False)
    stamp = os.stat(df["output"].iloc[0]).st_mtime_ns
    again = score_files(path, files[:2], out, output_format="csv", progress=False)
    assert os.stat(again["output"].iloc[0]).st_mtime_ns == stamp  # same options: resumed
    seg = score_files(path, files[:2], out, output_format="csv", window=10, stride=5, progress=False)
    assert (seg["options"] == "window=10;stride=5").all()
    table = pd.read_csv(seg["output"].iloc[0])
    assert len(table) > 1 and (table["stop_frame"] - table["start_frame"]).eq(10).all()
    from skelbehave.errors import PoseDataError

    with pytest.raises(PoseDataError, match="ethogram"):  # one label per file: nothing along time
        score_files(path, files[:1], out, ethogram=True, progress=False)
    # sliding segments: the ethogram and bout table of the frames' nearest segments
    eth = score_files(
        path, files[:1], tmp_path / "eth", output_format="csv", window=10, stride=5, ethogram=True,
        progress=False,
    )  # fmt: skip
    stem = Path(eth["output"].iloc[0]).name.split(".predictions")[0]
    assert (tmp_path / "eth" / f"{stem}.ethogram.png").stat().st_size > 0
    bouts = pd.read_csv(tmp_path / "eth" / f"{stem}.bouts.csv", index_col="label")
    seg = pd.read_csv(eth["output"].iloc[0])
    assert bouts["frames"].sum() == seg["stop_frame"].max()  # every frame the segments cover, once
    top = seg["label"].value_counts().index[0]  # the label of most segments holds frames
    assert bouts.loc[str(top), "frames"] > 0
    with pytest.raises(PoseDataError, match="stride needs a window"):
        score_files(path, files[:1], out, stride=5, progress=False)


def test_clip_model_scores_sliding_segments_of_a_precog_recording(tmp_path):
    """A model trained on trimmed PRECOG actions labels 1 s segments of continuous streams."""
    from skelbehave.datasets import load_precog
    from skelbehave.io import write_poses
    from skelbehave.pipeline import BehaviorModel

    clips = load_precog(trimmed=True)
    tr = np.flatnonzero(clips.subjects <= 8)
    model = BehaviorModel(random_state=0).fit(
        [clips.sequences[i] for i in tr], np.asarray(clips.label_names)[tr]
    )
    streams = load_precog()
    test = np.flatnonzero(streams.subjects == 9)
    files, truth = [], {}
    for i in test:
        s = streams.sequences[i]
        f = write_poses(tmp_path / "poses" / f"{Path(s.meta['name']).stem}.pose.csv", [s])
        files.append(f)
        truth[f.stem.split(".")[0]] = np.asarray(streams.label_names[i])
    df = score_files(
        model, files, tmp_path / "pred", output_format="csv", window="1s", stride="500ms", progress=False
    )
    assert (df["status"] == "done").all(), df["error"].tolist()
    right = []
    for row in df.itertuples():
        seg = pd.read_csv(row.output)
        y = truth[Path(row.input).stem.split(".")[0]]
        T = len(y)
        # 30-frame segments every 15 frames from the first frame; the last one ends at the last frame
        assert (seg["stop_frame"] - seg["start_frame"]).eq(30).all()
        starts = seg["start_frame"].tolist()
        assert starts[0] == 0 and all(b - a <= 15 for a, b in itertools.pairwise(starts))
        assert seg["stop_frame"].iloc[-1] == T and row.n_frames == T
        np.testing.assert_allclose(seg["start_time"], seg["start_frame"] / 30.0, atol=1e-6)
        assert set(seg["label"]) <= set(model.classes_.tolist())
        for r in seg.itertuples():
            lab = y[r.start_frame : r.stop_frame]
            if (lab != "no action").mean() >= 0.5:  # a segment mostly inside one annotated action
                acts, counts = np.unique(lab[lab != "no action"], return_counts=True)
                right.append(acts[np.argmax(counts)] == r.label)
    # 8 actions (chance 0.125); measured 0.57 over 89 such segments of subject 9's six streams
    assert len(right) >= 30 and np.mean(right) >= 0.4, (len(right), np.mean(right))


def test_one_individual_frame_model_names_the_individual(rat_files, shared_data, tmp_path):
    """Every table of a one-individual model has the individual column, also for one-person files."""
    from skelbehave.io import write_poses

    seqs = read_poses(rat_files[0], fps=30)
    lab = pd.read_csv(shared_data / "rat_social_dlc" / "labels_per_frame" / f"{RECORDINGS[0]}_labels.csv")
    y = lab["S1"].to_numpy()[3000 : 3000 + N_FRAMES]
    model = FrameLevelModel(
        window=9, fit_stride=4, classifier_params={"n_estimators": 5}, ignore_labels=["base"], random_state=0
    ).fit([seqs[0]], [y])
    one = write_poses(tmp_path / "one.pose.csv", [seqs[1].copy(meta={**seqs[1].meta, "person": "rat2"})])
    df = score_files(model, [one], tmp_path / "pred", output_format="csv", progress=False)
    table = pd.read_csv(df["output"].iloc[0])
    assert list(table.columns[:4]) == ["individual", "frame", "time", "label"]
    assert (table["individual"] == "rat2").all() and len(table) == N_FRAMES
