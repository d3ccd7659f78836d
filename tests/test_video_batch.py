"""``score`` on videos (issue 13 item 3) and faster, quieter extraction (item 5), on a real KTH clip.

Cost: the KTH boxing clip (160x120, 390 frames) is extracted once at
``--pose-fps 12.5`` (195 frames through MediaPipe) and reused by the resume
and clip-model runs (its poses are cached in ``out/poses``); the other
MediaPipe runs are 40 frames, and one 78-frame CLI run per log check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave._util.parallel import read_manifest
from skelbehave.batch import score_files
from skelbehave.io import write_poses
from skelbehave.pipeline import BehaviorModel, FrameLevelModel
from skelbehave.poses import PoseSequence

pytestmark = pytest.mark.video  # skipped without the video extra (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]
CLIP = "person01_boxing_d2_uncomp.mp4"
FPS = 25.0


def video_options(pose_model: Path) -> dict:
    return {"pose_model": pose_model, "pose_fps": 12.5}


@pytest.fixture(scope="module")
def pose_model(shared_dir) -> Path:
    return shared_dir / "models" / "pose_landmarker_full.task"


def _moving(rng, n: int, amplitude: float) -> PoseSequence:
    """A mediapipe33 skeleton (metres) whose joints sway with ``amplitude``."""
    base = rng.normal(0, 0.3, (33, 3))
    t = np.arange(n)[:, None, None] / FPS
    pos = base + amplitude * np.sin(2 * np.pi * 1.5 * t + rng.uniform(0, 6, (1, 33, 1)))
    pos = pos + rng.normal(0, 0.005, pos.shape)
    return PoseSequence(pos, "mediapipe33", fps=FPS)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A frame-level and a clip-level model trained on generated mediapipe33 poses ('still' / 'moving')."""
    rng = np.random.default_rng(0)
    d = tmp_path_factory.mktemp("models")
    recs, ys = [], []
    for _ in range(4):
        a, b = _moving(rng, 60, 0.0), _moving(rng, 60, 0.2)
        recs.append(a.copy(position=np.concatenate([a.position, b.position])))
        ys.append(np.array(["still"] * 60 + ["moving"] * 60))
    frame = FrameLevelModel(window=9, fit_stride=3, classifier_params={"n_estimators": 10}, random_state=0)
    frame.fit(recs, ys)
    frame.save(d / "frame.skb")
    clips = [_moving(rng, 50, amp) for amp in (0.0, 0.2) * 5]
    clip = BehaviorModel(random_state=0).fit(clips, ["still", "moving"] * 5)
    clip.save(d / "clip.skb")
    return {"frame": d / "frame.skb", "clip": d / "clip.skb"}


@pytest.fixture(scope="module")
def inputs(shared_dir, tmp_path_factory) -> Path:
    """A folder as a user has it: a KTH video, a pose CSV, and things that are not inputs."""
    d = tmp_path_factory.mktemp("inputs")
    shutil.copy(shared_dir / "videos" / CLIP, d / CLIP)
    seq = _moving(np.random.default_rng(1), 80, 0.2)
    write_poses(d / "recorded.pose.csv", seq)
    write_poses(d / "recorded.image.pose.csv", seq)  # image landmarks of an extraction: not an input
    pd.DataFrame({"key": ["x"], "output": ["y"], "status": ["done"]}).to_csv(d / "manifest.csv", index=False)
    (d / "labels.csv").write_text("frame,label\n0,still\n")  # a stray table
    (d / "notes.txt").write_text("remember the tripod\n")
    (d / "broken.mp4").write_text("this is not a video\n")
    return d


@pytest.fixture(scope="module")
def first_run(models, inputs, pose_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("preds")
    df = score_files(
        models["frame"], inputs, out, output_format="csv", progress=False, **video_options(pose_model)
    )
    return out, df


def test_score_folder_of_videos_and_pose_files(first_run, inputs):
    out, df = first_run
    rows = {Path(k).name: r for k, r in zip(df["key"], df.to_dict("records"), strict=True)}
    # only the pose file and the videos: no manifest, image-landmark file, stray table or notes
    assert sorted(rows) == sorted([CLIP, "recorded.pose.csv", "broken.mp4"])
    assert rows["recorded.pose.csv"]["status"] == "done"
    video = rows[CLIP]
    assert video["status"] == "done", video
    pose_file = Path(video["pose_file"])
    assert pose_file.parent == out / "poses" and pose_file.is_file()
    pred = pd.read_csv(video["output"])
    present = ~pred["absent"].to_numpy(bool)
    assert pred["frame"].nunique() == 390 and set(pred["label"][present]) <= {"still", "moving"}
    assert present.sum() > 300  # the boxer is in view (the frames --pose-fps skips are interpolated)
    # the bad video: recorded with the extraction's reason, the run went on
    bad = rows["broken.mp4"]
    assert bad["status"] == "failed" and bad["reason"] == "unreadable"
    assert "broken.mp4" in bad["error"]
    poses = read_manifest(out / "poses" / "manifest.csv").set_index("key")
    assert poses.loc[str(inputs / CLIP), "frames_processed"] == 195  # --pose-fps 12.5 of 25 fps
    assert poses.loc[str(inputs / "broken.mp4"), "status"] == "failed"


def test_second_run_does_nothing_new(first_run, models, inputs, pose_model):
    out, df = first_run
    files = [p for p in out.rglob("*") if p.is_file() and p.name not in ("manifest.csv", ".skelbehave.lock")]
    before = {p: p.stat().st_mtime_ns for p in files}
    poses_before = read_manifest(out / "poses" / "manifest.csv")
    again = score_files(
        models["frame"], inputs, out, output_format="csv", progress=False, **video_options(pose_model)
    )
    assert again["status"].tolist() == df["status"].tolist()
    assert again["seconds"].tolist() == df["seconds"].tolist()  # the rows of the first run, not new ones
    assert [p.name for p in files if p.stat().st_mtime_ns != before[p]] == []  # no output rewritten
    pd.testing.assert_frame_equal(read_manifest(out / "poses" / "manifest.csv"), poses_before)


def test_clip_model_on_the_same_videos_reuses_the_poses(first_run, models, inputs, pose_model):
    out, _ = first_run
    poses_manifest = (out / "poses" / "manifest.csv").read_bytes()
    df = score_files(
        models["clip"], inputs, out, output_format="csv", progress=False, **video_options(pose_model)
    )
    assert (out / "poses" / "manifest.csv").read_bytes() == poses_manifest  # nothing extracted again
    row = df[df["key"] == str(inputs / CLIP)].iloc[0]
    assert row["status"] == "done"
    table = pd.read_csv(row["output"])
    assert len(table) == 1 and table["label"].iloc[0] in ("still", "moving")
    assert df.set_index("key").loc[str(inputs / "broken.mp4"), "reason"] == "unreadable"


def test_video_without_a_person_is_recorded(models, pose_model, tmp_path):
    import cv2

    video = tmp_path / "empty_room.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (96, 64))
    for i in range(12):
        w.write(np.full((64, 96, 3), 40 + 10 * i, np.uint8))
    w.release()
    df = score_files(models["frame"], [video], tmp_path / "out", progress=False, pose_model=pose_model)
    assert df["status"].tolist() == ["failed"] and df["reason"].tolist() == ["no_person"]


def test_pose_fps_halves_the_processed_frames(shared_dir, pose_model):
    from skelbehave.pose import extract

    video = shared_dir / "videos" / CLIP
    every = extract(video, model=pose_model, max_frames=40)[0]
    half = extract(video, model=pose_model, max_frames=40, pose_fps=12.5)[0]
    gaps = extract(video, model=pose_model, max_frames=40, pose_fps=12.5, fill_skipped="absent")[0]
    assert every.meta["frames_processed"] == 40 and half.meta["frames_processed"] == 20
    assert half.n_frames == every.n_frames == 40
    seen = ~np.isnan(half.position).any(axis=(1, 2))
    assert half.meta["frames_interpolated"] > 0 and seen.sum() == half.meta["frames_seen"] + half.meta[
        "frames_interpolated"
    ]
    # interpolated frames lie close to what the model finds on them (a few centimetres)
    both = seen & ~np.isnan(every.position).any(axis=(1, 2))
    assert np.nanmedian(np.abs(half.position[both] - every.position[both])) < 0.05
    assert np.isnan(gaps.position[1::2]).all() and gaps.meta["frames_interpolated"] == 0


def _run_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SKELBEHAVE_NATIVE_LOGS"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "skelbehave", *args], capture_output=True, text=True, env=env, timeout=300,
        cwd=tmp_path,
    )  # fmt: skip


def test_extract_writes_only_our_lines_to_stderr(shared_dir, pose_model, tmp_path):
    from skelbehave.pose.quiet import NATIVE_LINE

    video = str(shared_dir / "videos" / CLIP)
    args = ["extract", video, "--pose-model", str(pose_model), "--pose-fps", "5", "--no-progress"]
    quiet = _run_cli(*args, "--out", str(tmp_path / "q"), tmp_path=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "1 of 1 videos done" in quiet.stdout
    assert quiet.stderr.strip() == "", quiet.stderr
    # the lines are there to hide: with -v MediaPipe's own lines come through
    loud = _run_cli("-v", *args, "--out", str(tmp_path / "v"), tmp_path=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert any(NATIVE_LINE.match(line.encode()) for line in loud.stderr.splitlines()), loud.stderr


def test_cli_score_videos_flags_and_bad_pose_model(models, pose_model, shared_dir, tmp_path):
    from skelbehave.cli import main

    with pytest.raises(SystemExit) as bad:  # argparse: exit 2, naming the flag
        main(["score", str(models["frame"]), str(tmp_path), "--out", str(tmp_path / "o"),
              "--pose-model", "hevy"])  # fmt: skip
    assert bad.value.code == 2
    video = tmp_path / "clip.mp4"
    shutil.copy(shared_dir / "videos" / CLIP, video)
    rc = main(["score", str(models["frame"]), str(video), "--out", str(tmp_path / "p"), "--no-progress",
               "--output-format", "csv", "--pose-model", str(pose_model), "--pose-fps", "5",
               "--num-poses", "2", "--min-track-frames", "3", "--stitch-gap", "2s"])  # fmt: skip
    assert rc == 0
    poses = read_manifest(tmp_path / "p" / "poses" / "manifest.csv")
    assert poses["options"].iloc[0] == "min_track_frames=3;num_poses=2;pose_fps=5.0;stitch_gap=2s"
    assert poses["frames_processed"].iloc[0] == 78


def test_image_sequence_folder_is_scored_like_a_video(models, pose_model, shared_dir, tmp_path):
    import cv2

    frames = tmp_path / "frames"
    frames.mkdir()
    cap = cv2.VideoCapture(str(shared_dir / "videos" / CLIP))
    for i in range(16):
        ok, bgr = cap.read()
        assert ok
        cv2.imwrite(str(frames / f"{i:04d}.png"), bgr)
    cap.release()
    df = score_files(
        models["frame"], [frames], tmp_path / "out", output_format="csv", fps=FPS, progress=False,
        pose_model=pose_model,
    )  # fmt: skip
    row = df.iloc[0]
    assert (row["key"], row["status"]) == (str(frames), "done"), row.to_dict()
    assert len(pd.read_csv(row["output"])) == 16
