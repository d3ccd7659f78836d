"""Pose extraction on the real clips in ../shared/videos (MediaPipe, full model, CPU).

Cost: the KTH clips (160x120) run in full; the Sports2D clip (1768x994, two
people) runs on its first 170 frames, the stretch where both people are in
view and apart (the rest is the jumper landing, alone).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skelbehave.errors import PoseDataError
from skelbehave.io import read_poses
from skelbehave.pose import PoseTracker, VideoReadError, extract, extract_many, render_overlay
from skelbehave.poses import PoseSequence

pytestmark = pytest.mark.video  # skipped without the video extra (tests/conftest.py)

BOXING = "person01_boxing_d2_uncomp.mp4"
CLAPPING = "person01_handclapping_d1_uncomp.avi"
JOGGING = "person01_jogging_d1_uncomp.avi"
SPORTS2D = "sports2d_demo.mp4"


@pytest.fixture(scope="module")
def videos(shared_dir) -> Path:
    d = shared_dir / "videos"
    assert (d / BOXING).is_file(), f"videos missing in {d}"
    return d


@pytest.fixture(scope="module")
def model(shared_dir) -> Path:
    return shared_dir / "models" / "pose_landmarker_full.task"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, videos, model):
    """One batch run, 2 processes: two KTH clips, a truncated copy, and a text file named .mp4."""
    d = tmp_path_factory.mktemp("batch")
    bad = d / "bad"
    bad.mkdir()
    (bad / "truncated.avi").write_bytes((videos / CLAPPING).read_bytes()[:60_000])
    (bad / "notes.mp4").write_text("this is not a video\n")
    out = d / "poses"
    table = extract_many(
        [videos / BOXING, videos / CLAPPING, bad],
        out,
        model=model,
        jobs=2,
        progress=False,
        image_landmarks=True,
    )
    return {"table": table, "out": out, "bad": bad, "inputs": [videos / BOXING, videos / CLAPPING, bad]}


# --------------------------------------------------------------------------- batch + KTH coverage
# One test (not several sharing a fixture) so that pytest-xdist never runs the batch twice.
def test_batch_kth_coverage_bad_files_and_resume(batch, model):
    _check_kth_coverage(batch, BOXING, 390)
    _check_kth_coverage(batch, CLAPPING, 378)
    _check_bad_videos_recorded(batch)
    _check_rerun_skips_finished(batch, model)
    _check_overlay_command(batch, BOXING)


def _check_kth_coverage(batch, clip, n_frames):
    """A pose in >= 95 % of the frames; the pose CSV holds world landmarks in metres."""
    row = batch["table"].set_index("key").loc[str((batch["inputs"][0].parent / clip).resolve())]
    assert row["status"] == "done", row["error"]
    assert row["frames"] == n_frames and row["persons"] == 1
    assert row["frames_with_person"] / n_frames >= 0.95
    (seq,) = read_poses(row["output"])  # the pose CSV written for the clip
    assert seq.layout.name == "mediapipe33" and seq.n_frames == n_frames and seq.fps == 25.0
    seen = ~seq.missing.all(axis=1)
    assert seen.mean() >= 0.95
    # world landmarks: metres, origin between the hips, a person-sized body
    p = seq.position[seen]
    hips = (p[:, seq.layout.index("left_hip")] + p[:, seq.layout.index("right_hip")]) / 2
    assert np.abs(hips).max() < 0.05
    height = np.nanmax(p[:, :, 1], axis=1) - np.nanmin(p[:, :, 1], axis=1)
    assert 1.0 < np.median(height) < 2.2
    assert seq.confidence is not None and 0 < np.nanmean(seq.confidence[seen]) <= 1
    # image landmarks written alongside, normalised to the frame
    (img,) = read_poses(
        Path(row["output"]).with_name(Path(row["output"]).name.replace(".pose.", ".image.pose."))
    )
    assert img.meta["units"] == "normalized"
    assert np.nanmedian(img.position[:, :, :2]) == pytest.approx(0.5, abs=0.3)


def _check_overlay_command(batch, clip):
    """``skelbehave overlay`` draws the written image landmarks and a predictions file's labels."""
    import cv2

    from skelbehave.cli import main

    video = batch["inputs"][0].parent / clip
    poses = batch["out"] / clip.replace(".mp4", ".image.pose.csv")
    out = batch["out"].parent / "overlay"
    preds = batch["out"].parent / "clip.predictions.csv"
    pd.DataFrame({"frame": range(390), "label": "boxing"}).to_csv(preds, index=False)
    args = ["overlay", str(video), str(poses), "--out", str(out), "--predictions", str(preds)]
    assert main([*args, "--max-frames", "6", "--no-progress"]) == 0
    frames = sorted(out.glob("frame_*.png"))
    assert len(frames) == 6
    cap = cv2.VideoCapture(str(video))
    raw = cap.read()[1]
    cap.release()
    drawn = cv2.imread(str(frames[0]))
    assert np.abs(drawn.astype(int) - raw.astype(int)).sum(axis=2).astype(bool).mean() > 0.01
    # world-coordinate poses and a label-less table are refused with the reason
    world = batch["out"] / clip.replace(".mp4", ".pose.csv")
    assert main(["overlay", str(video), str(world), "--out", str(out / "w"), "--no-progress"]) == 1
    pd.DataFrame({"frame": [0]}).to_csv(preds, index=False)
    args = ["overlay", str(video), str(poses), "--out", str(out / "p"), "--predictions", str(preds)]
    assert main(args) == 1


def _check_bad_videos_recorded(batch):
    """A truncated copy and a text file named .mp4 fail with a clear reason; the others finish."""
    t = batch["table"].set_index("key")
    bad = batch["bad"]
    trunc = t.loc[str((bad / "truncated.avi").resolve())]
    notes = t.loc[str((bad / "notes.mp4").resolve())]
    assert trunc["status"] == "failed" and trunc["reason"] == "corrupt"
    assert "378 frames" in trunc["error"] and "truncated" in trunc["error"]
    assert notes["status"] == "failed" and notes["reason"] == "unreadable"
    assert "cannot be opened as a video" in notes["error"]
    assert not Path(trunc["output"]).exists() and not Path(notes["output"]).exists()
    assert (t["status"] == "done").sum() == 2
    manifest = pd.read_csv(batch["out"] / "manifest.csv")
    assert sorted(manifest["reason"].fillna("")) == ["", "", "corrupt", "unreadable"]


def _check_rerun_skips_finished(batch, model):
    """The CLI on the same videos and folder resumes: finished videos are not run again."""
    from skelbehave.cli import main

    before = pd.read_csv(batch["out"] / "manifest.csv").set_index("key")
    mtimes = {p: p.stat().st_mtime_ns for p in batch["out"].glob("*.pose.csv")}
    args = ["extract", *map(str, batch["inputs"]), "--out", str(batch["out"]), "--model", str(model)]
    code = main([*args, "--no-progress", "--image-landmarks"])
    assert code == 1  # the two bad files fail again
    after = pd.read_csv(batch["out"] / "manifest.csv").set_index("key")
    done = before.index[before["status"] == "done"]
    assert len(done) == 2
    assert (after.loc[done, "seconds"] == before.loc[done, "seconds"]).all()  # not run again
    assert {p: p.stat().st_mtime_ns for p in batch["out"].glob("*.pose.csv")} == mtimes


# --------------------------------------------------------------------------- single clips
def test_jogging_clip_has_nan_frames_where_nobody_is_in_view(videos, model):
    (seq,) = extract(videos / JOGGING, model=model)
    assert isinstance(seq, PoseSequence) and seq.n_frames == 415 and seq.fps == 25.0
    empty = seq.missing.all(axis=1)
    assert empty.sum() >= 150  # the runner leaves the view; those frames are kept as NaN
    assert (~empty).sum() >= 100
    # frames are aligned with the video: one empty run at the start or the end of the clip
    assert empty[:10].all() or empty[-10:].all()
    assert (seq.confidence[empty] == 0).all()
    img = seq.meta["image_landmarks"]
    assert img.shape == (415, 33, 3) and np.isnan(img[empty]).all() and not np.isnan(img[~empty]).any()
    assert seq.meta["width"] == 160 and seq.meta["height"] == 120 and seq.meta["person"] == 0


def test_sports2d_two_people_keep_their_identities(videos, model):
    seqs = extract(videos / SPORTS2D, model=model, num_poses=2, max_frames=170)
    seen = [~s.missing.all(axis=1) for s in seqs]
    order = np.argsort([-s.sum() for s in seen])
    a, b = (seqs[i] for i in order[:2])
    sa, sb = (seen[i] for i in order[:2])
    assert sa.sum() >= 140 and sb.sum() >= 90
    both = sa & sb
    assert both.sum() >= 90  # two distinct people, in view together

    def centre(s):  # bounding-box centre of the image landmarks, in image heights (NaN: not seen)
        img = s.meta["image_landmarks"][:, :, :2] * [s.meta["width"] / s.meta["height"], 1.0]
        seen = ~np.isnan(img).all(axis=(1, 2))
        c = np.full((len(img), 2), np.nan)
        c[seen] = (np.nanmin(img[seen], axis=1) + np.nanmax(img[seen], axis=1)) / 2
        return c

    ca, cb = centre(a), centre(b)
    apart = both & (np.linalg.norm(ca - cb, axis=1) > 0.3)
    assert apart.sum() >= 80
    # no identity swap: between consecutive frames where both are in view and apart, each
    # track moves far less than the distance between the two people
    idx = np.flatnonzero(apart[:-1] & apart[1:])
    assert len(idx) >= 60
    step_a = np.linalg.norm(ca[idx + 1] - ca[idx], axis=1)
    step_b = np.linalg.norm(cb[idx + 1] - cb[idx], axis=1)
    gap = np.linalg.norm(ca[idx] - cb[idx], axis=1)
    assert (step_a < 0.5 * gap).all() and (step_b < 0.5 * gap).all()
    # the walker crosses the view from right to left; the other stays on the roof (upper half)
    walker, roof = (a, b) if np.nanmean(ca[:, 1]) > np.nanmean(cb[:, 1]) else (b, a)
    cw = centre(walker)
    xs = cw[~np.isnan(cw[:, 0]), 0]
    assert xs[0] - xs[-1] > 0.5
    assert np.nanmedian(centre(roof)[:, 1]) < 0.5 < np.nanmedian(cw[:, 1])
    assert {a.meta["person"], b.meta["person"]} <= set(range(len(seqs)))


def test_video_folder_and_frames_give_the_same_poses(videos, model, tmp_path):
    import cv2

    n = 12
    from_video = extract(videos / BOXING, model=model, max_frames=n)
    cap = cv2.VideoCapture(str(videos / BOXING))
    frames = [cap.read()[1] for _ in range(n)]
    cap.release()
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"img{i:03d}.png"), f)
    from_folder = extract(folder, model=model, fps=25)
    from_arrays = extract(iter(frames), model=model, bgr=True, fps=25)  # a generator of BGR frames
    for other in (from_folder, from_arrays):
        assert len(other) == len(from_video) == 1
        np.testing.assert_array_equal(other[0].position, from_video[0].position)
    assert from_folder[0].fps == 25.0
    # without fps= an image source gets fps None (never guessed)
    rgb = [f[:, :, ::-1] for f in frames]
    assert extract(rgb, model=model)[0].fps is None
    # a fresh landmarker per source: results do not depend on what ran before
    again = extract(videos / BOXING, model=model, max_frames=n)
    np.testing.assert_array_equal(again[0].position, from_video[0].position)


def test_unreadable_sources_raise_clear_errors(videos, model, tmp_path):
    with pytest.raises(VideoReadError, match="no such file") as info:
        extract(tmp_path / "missing.mp4", model=model)
    assert info.value.kind == "unreadable"
    (tmp_path / "notes.mp4").write_text("hello")
    with pytest.raises(VideoReadError, match="cannot be opened as a video"):
        extract(tmp_path / "notes.mp4", model=model)
    trunc = tmp_path / "cut.avi"
    trunc.write_bytes((videos / CLAPPING).read_bytes()[:60_000])
    with pytest.raises(VideoReadError, match="declares 378 frames but only") as info:
        extract(trunc, model=model)
    assert info.value.kind == "corrupt"
    (seq,) = extract(trunc, model=model, allow_truncated=True)
    assert 0 < seq.n_frames < 378
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoReadError) as info:
        extract(tmp_path / "empty", model=model)
    assert info.value.kind == "zero_frames"
    with pytest.raises(VideoReadError) as info:
        extract([], model=model)
    assert info.value.kind == "zero_frames"
    with pytest.raises(PoseDataError, match="fps must be a positive number"):
        extract(videos / BOXING, model=model, fps=0)
    with pytest.raises(PoseDataError, match=r"frame 0: expected an image"):
        extract([np.zeros((4, 4, 7), np.uint8)], model=model)


def test_no_person_gives_no_sequences(model):
    blank = [np.full((120, 160, 3), 127, np.uint8)] * 5
    assert extract(blank, model=model, fps=10) == []


# --------------------------------------------------------------------------- overlay
def test_overlay_png_and_mp4_with_labels(videos, model, tmp_path):
    import cv2

    seqs = extract(videos / BOXING, model=model, max_frames=8)
    pngs = render_overlay(videos / BOXING, seqs, tmp_path / "png", predictions=["boxing"] * 8, max_frames=8)
    files = sorted(pngs.glob("frame_*.png"))
    assert len(files) == 8
    t = int(np.flatnonzero(~seqs[0].missing.all(axis=1))[0])  # first frame with the boxer found
    cap = cv2.VideoCapture(str(videos / BOXING))
    raw = [cap.read()[1] for _ in range(t + 1)][t]
    cap.release()
    drawn = cv2.imread(str(files[t]))
    assert drawn.shape == raw.shape
    changed = np.abs(drawn.astype(int) - raw.astype(int)).sum(axis=2) > 60
    # pixels change along the skeleton, and the label box is in the top-left corner
    xy = (seqs[0].meta["image_landmarks"][t, :, :2] * [160, 120]).astype(int)
    assert changed[xy[:, 1].clip(0, 119), xy[:, 0].clip(0, 159)].mean() > 0.8
    assert changed[:8, :30].mean() > 0.5
    assert changed.mean() < 0.5

    labels = pd.DataFrame({"frame": range(8), "person": 0, "label": "punch"})
    mp4 = render_overlay(videos / BOXING, seqs, tmp_path / "out.mp4", predictions=labels, max_frames=8)
    cap = cv2.VideoCapture(str(mp4))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 8 and cap.get(cv2.CAP_PROP_FPS) == 25.0
    cap.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "png"]  # no temp file left

    plain = seqs[0].copy(meta={"source": "x.csv"})
    with pytest.raises(PoseDataError, match="no image landmarks"):
        render_overlay(videos / BOXING, [plain], tmp_path / "x.mp4")


# --------------------------------------------------------------------------- tracker (generated data)
def _box_pose(x0, y0, w, h):
    """A 4-joint 'pose' whose bounding box is (x0, y0, x0+w, y0+h)."""
    return np.array([[x0, y0], [x0 + w, y0], [x0, y0 + h], [x0 + w, y0 + h]], dtype=float)


def test_tracker_keeps_identities_when_the_detector_reorders():
    tr = PoseTracker()
    a, b = _box_pose(0.1, 0.1, 0.2, 0.5), _box_pose(1.0, 0.1, 0.2, 0.5)
    assert tr.update(0, np.stack([a, b])) == [0, 1]
    ids = []
    for t in range(1, 20):
        a, b = a + np.array([0.02, 0]), b - np.array([0.02, 0])
        dets = np.stack([b, a]) if t % 2 else np.stack([a, b])
        got = tr.update(t, dets)
        ids.append(got if t % 2 == 0 else got[::-1])
    assert all(i == [0, 1] for i in ids)


def test_tracker_drops_duplicates_and_ends_lost_tracks():
    tr = PoseTracker(max_gap=5)
    a = _box_pose(0.1, 0.1, 0.2, 0.5)
    # the same person twice (nearly identical box), and a partial pose inside the first: one identity
    assert tr.update(
        0, np.stack([a, a + 0.005, _box_pose(0.12, 0.4, 0.15, 0.2)]), scores=np.array([0.9, 0.8, 0.5])
    ) == [
        0,
        None,
        None,
    ]
    assert tr.update(3, a[None] + 0.01) == [0]  # a short gap keeps the identity
    assert tr.update(20, a[None]) == [1]  # past max_gap: a new identity
    far = _box_pose(2.0, 0.1, 0.2, 0.5)
    assert tr.update(21, np.stack([a, far])) == [1, 2]


def test_tracker_recent_track_wins_over_an_old_one():
    tr = PoseTracker(max_distance=0.5, max_gap=30)
    a = _box_pose(0.0, 0.0, 0.2, 0.5)
    dx = np.array([1.0, 0.0])
    tr.update(0, np.stack([a, a + 0.3 * dx]))  # ids 0 and 1
    for t in range(1, 6):  # only id 0's person stays in view, drifting towards where 1 was
        tr.update(t, (a + 0.05 * t * dx)[None])
    assert tr.update(6, (a + 0.3 * dx)[None]) == [0]


def test_extract_many_on_a_dask_cluster(videos, model, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    (tmp_path / "notes.mp4").write_text("not a video")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as c,
        distributed.Client(c) as client,
    ):
        table = extract_many(
            [videos / BOXING, tmp_path / "notes.mp4"], tmp_path / "out", model=model, scheduler=client,
            max_frames=15, progress=False,
        )  # fmt: skip
    t = table.set_index("key")
    ok = t.loc[str((videos / BOXING).resolve())]
    assert ok["status"] == "done" and ok["frames"] == 15
    assert t.loc[str((tmp_path / "notes.mp4").resolve()), "reason"] == "unreadable"
    (seq,) = read_poses(ok["output"])
    assert seq.n_frames == 15


def test_video_without_frame_rate_needs_fps(videos, model, monkeypatch):
    """A container that reports no frame rate: an error asking for fps=, never a guess."""
    import types

    import cv2

    from skelbehave.pose import video as frame_sources  # the frame sources left landmarker.py

    class NoRate:  # wraps a real capture; reports fps 0 like some containers do
        def __init__(self, path):
            self._cap = cv2.VideoCapture(path)

        def get(self, prop):
            return 0.0 if prop == cv2.CAP_PROP_FPS else self._cap.get(prop)

        def __getattr__(self, name):
            return getattr(self._cap, name)

    fake = types.SimpleNamespace(**{k: getattr(cv2, k) for k in dir(cv2) if not k.startswith("__")})
    fake.VideoCapture = NoRate
    monkeypatch.setattr(frame_sources, "_cv2", lambda: fake)
    with pytest.raises(PoseDataError, match=r"no usable frame rate .* pass fps="):
        extract(videos / BOXING, model=model, max_frames=3)
    (seq,) = extract(videos / BOXING, model=model, max_frames=10, fps=12.5)
    assert seq.fps == 12.5
