"""Live scoring: ``skelbehave.pose.stream``, ``skelbehave.batch.watch`` and ``skelbehave watch``.

On the real KTH boxing clip (160x120, 25 fps) with the shared MediaPipe model,
and models trained here in seconds on a few UTD-MHAD sequences of the classes
the KTH clips show (a clip model and a frame-level model, both on the common
skeleton, so they take MediaPipe poses). Frames are capped (``max_frames``) to
keep the file well under a minute.
"""

from __future__ import annotations

import inspect
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from skelbehave.batch.live import EVENT_FIELDS, LATENCY_FIELDS, LiveScorer
from skelbehave.batch.live_watch import watch
from skelbehave.cli import main
from skelbehave.errors import ParameterError, VideoReadError
from skelbehave.pose import live as live_module
from skelbehave.pose import stream

pytestmark = pytest.mark.video  # skipped without the video extra (tests/conftest.py)

CLIP = "person01_boxing_d2_uncomp.mp4"
#: UTD-MHAD action -> label: the KTH actions plus a distractor
UTD = {13: "boxing", 4: "handclapping", 22: "jogging", 3: "wave"}


@pytest.fixture(scope="module")
def video(shared_dir) -> Path:
    return shared_dir / "videos" / CLIP


@pytest.fixture(scope="module")
def pose_model(shared_dir) -> Path:
    return shared_dir / "models" / "pose_landmarker_full.task"


@pytest.fixture(scope="module")
def utd_train(shared_data):
    """Two trials of subjects 1 and 3 for each class of :data:`UTD` (common skeleton)."""
    from skelbehave.io.utd import read_utd_skeleton

    seqs, labels = [], []
    for action, label in UTD.items():
        for subject in (1, 3, 5):
            for trial in (1, 2):
                s = read_utd_skeleton(
                    shared_data / "utd_mhad" / f"a{action}_s{subject}_t{trial}_skeleton.mat"
                )
                seqs.append(s.copy(fps=s.fps or 30.0).to_layout("common15"))
                labels.append(label)
    return seqs, labels


@pytest.fixture(scope="module")
def clip_model_file(utd_train, tmp_path_factory) -> Path:
    from skelbehave.pipeline import BehaviorModel

    seqs, labels = utd_train
    model = BehaviorModel(layout="common15", random_state=0).fit(seqs, labels)
    path = tmp_path_factory.mktemp("watch") / "clip.skb"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def frame_model(utd_train):
    """A frame-level model on recordings made of three UTD clips of different classes each."""
    from skelbehave.pipeline import FrameLevelModel
    from skelbehave.poses import PoseSequence

    seqs, labels = utd_train
    by = {}
    for s, lab in zip(seqs, labels, strict=True):
        by.setdefault(lab, []).append(s)
    recs, ys = [], []
    for k in range(6):
        names = ("boxing", "handclapping", "jogging")
        parts = [by[lab][k] for lab in names]
        recs.append(PoseSequence(np.concatenate([p.position for p in parts]), "common15", fps=30.0))
        ys.append(np.concatenate([[lab] * p.n_frames for p, lab in zip(parts, names, strict=True)]))
    return FrameLevelModel(window="1s", classifier_params={"n_estimators": 20}, random_state=0).fit(recs, ys)


def check_events(events: list[dict], classes) -> None:
    """Every event has the fields, a known label and latencies; bouts open and close in pairs."""
    open_bouts: dict = {}
    for e in events:
        assert set(EVENT_FIELDS) <= set(e), e
        assert e["event"] in ("label", "bout_start", "bout_end")
        assert e["label"] in classes
        assert 0.0 <= e["score"] <= 1.0
        lat = e["latency_ms"]
        assert set(lat) == set(LATENCY_FIELDS)
        if e["event"] != "bout_end":
            assert lat["pose"] > 0 and lat["total"] >= lat["pose"] + lat["features_model"] - 1e-6
        ind = e["individual"]
        if e["event"] == "bout_start":
            assert ind not in open_bouts, "a bout started before the previous one ended"
            open_bouts[ind] = e["label"]
        elif e["event"] == "label":
            assert open_bouts.get(ind) == e["label"], "a label outside its bout"
        else:
            assert open_bouts.pop(ind) == e["label"]
            assert e["duration"] >= 0
    assert not open_bouts, "bouts left open at the end"


# ----------------------------------------------------------------------------- the stream
def test_stream_runs_the_pose_model_at_pose_fps(video, pose_model):
    n = 40  # 1.6 s of the 25 fps clip
    with stream(video, model=pose_model, max_frames=n) as s:
        every = list(s)
    with stream(video, model=pose_model, max_frames=n, pose_fps=10) as s10:
        sampled = list(s10)
    assert [r.frame for r in every] == list(range(n))
    assert len(sampled) == 16  # 10 a second of source time
    assert s10.stats["frames_read"] == n and s10.stats["frames_skipped"] == n - 16
    assert sum(r.skipped for r in sampled) == sampled[-1].frame + 1 - 16
    gaps = np.diff([r.time for r in sampled])
    assert gaps.min() >= 0.08 - 1e-9 and gaps.max() <= 0.12 + 1e-9
    assert np.allclose([r.time for r in sampled], [r.frame / 25 for r in sampled])
    seen = [r for r in sampled if r.individuals]
    assert len(seen) >= 13  # the boxer is found in nearly every frame
    for r in seen:
        assert r.individuals == (0,) and r.world.shape == (1, 33, 3) and np.isfinite(r.world).all()
        assert r.confidence.shape == (1, 33) and r.image.shape == (1, 33, 3)
        assert r.latency["pose"] > 0 and r.latency["decode"] >= 0
    # the same frames give the same poses whether the others were skipped or not
    by_frame = {r.frame: r for r in every}
    both = [r for r in seen if by_frame[r.frame].individuals]
    # (MediaPipe's VIDEO mode smooths over time, so sparser frames shift joints by a few cm)
    diff = [np.linalg.norm(r.world - by_frame[r.frame].world, axis=-1).mean() for r in both]
    assert np.median(diff) < 0.05


def test_live_source_drops_frames_it_has_no_time_for(video, pose_model):
    """Played at its frame rate (as a camera delivers it), a slow consumer makes the reader drop frames."""
    with stream(video, model=pose_model, max_frames=40, realtime=True) as s:
        records = []
        for r in s:
            records.append(r)
            time.sleep(0.12)  # slower than the 25 fps source
    assert s.stats["frames_dropped"] > 10
    assert len(records) < 25
    assert s.stats["frames_read"] >= 38
    # every frame read is either posed, skipped or dropped
    assert len(records) + sum(r.skipped for r in records) <= s.stats["frames_read"]
    frames = [r.frame for r in records]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)


@pytest.fixture
def http_videos(shared_dir):
    """The shared videos served over HTTP on localhost (a stream URL OpenCV opens)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(shared_dir / "videos"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_plays_in_real_time_by_its_own_timestamps(http_videos, pose_model):
    """A file served over HTTP arrives faster than real time: held back to its timestamps, not dropped."""
    t0 = time.monotonic()
    with stream(f"{http_videos}/{CLIP}", model=pose_model, pose_fps=10, max_frames=50) as s:
        records = list(s)
    wall = time.monotonic() - t0
    assert s.info["kind"] == "url" and s.info["realtime"]
    assert wall >= 1.8  # 2 s of source time, played at its rate
    assert 12 <= len(records) <= 21  # 10 a second (fewer only if the pose model fell behind)
    times = np.array([r.time for r in records])
    assert np.abs(times - np.array([r.frame for r in records]) / 25).max() < 0.05
    assert sum(bool(r.individuals) for r in records) >= 10


class _Breaks:
    """A capture of the real clip that fails after ``n`` frames (a stream that drops)."""

    def __init__(self, path: Path, n: int) -> None:
        import cv2

        self.cap = cv2.VideoCapture(str(path))
        self.left = n

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return self.cap.read()

    def __getattr__(self, name):
        return getattr(self.cap, name)


@pytest.mark.parametrize("reconnect", [0, 2])
def test_a_stream_that_drops_ends_cleanly_or_reconnects(video, pose_model, monkeypatch, reconnect):
    opened = []

    def fake_open(kind, target, name, open_timeout):
        assert kind == "url"
        opened.append(name)
        return _Breaks(video, 12)

    monkeypatch.setattr(live_module, "open_capture", fake_open)
    with stream("rtsp://camera.invalid/live", model=pose_model, reconnect=reconnect, reconnect_delay=0) as s:
        records = list(s)
    assert len(opened) == 1 + reconnect
    assert s.stats["reconnects"] == reconnect and s.stats["ended"] == "dropped"
    assert s.stats["frames_read"] == 12 * (1 + reconnect)
    assert records and all(b.frame > a.frame for a, b in itertools.pairwise(records))


def test_bad_sources_raise_one_clear_error(tmp_path, pose_model):
    fake = tmp_path / "x.mp4"
    fake.write_text("not a video\n")
    cases = {
        99: "camera 99",
        "rtsp://127.0.0.1:1/x": "rtsp://127.0.0.1:1/x",
        str(fake): "x.mp4",
        str(tmp_path / "none.mp4"): "no such file",
        str(tmp_path): "directory",
    }
    for source, text in cases.items():
        t0 = time.monotonic()
        with pytest.raises(VideoReadError, match=text.replace(".", r"\.")):
            stream(source, model=pose_model, open_timeout=5)
        assert time.monotonic() - t0 < 20, f"{source} took too long to fail"
    with pytest.raises(ParameterError, match="pose_fps"):
        stream(0, model=pose_model, pose_fps=0)


# ----------------------------------------------------------------------------- scoring
def test_watch_labels_the_video_with_a_clip_model(video, pose_model, clip_model_file):
    w = watch(
        video, clip_model_file, pose_model=pose_model, pose_fps=10, max_frames=150, window="2s", hop="0.5s"
    )
    events = list(w)
    classes = set(UTD.values())
    check_events(events, classes)
    labels = [e for e in events if e["event"] == "label"]
    # 6 s of video, 2 s window, one scoring every 0.5 s once the window is half full
    assert 6 <= len(labels) <= 11
    assert [e["time"] for e in labels] == sorted(e["time"] for e in labels)
    assert all(e["individual"] == 0 for e in events)
    assert max(w.scorer.buffered().values(), default=0) <= 2 * 10 + 2  # bounded by the window
    s = w.summary()
    assert s["frames_read"] == 150 and s["frames_posed"] == 60 and s["events"] == len(events)
    assert s["ended"] == "max_frames"
    # the same labels as the model gives the window directly
    from skelbehave import load

    model = load(clip_model_file)
    assert set(model.classes_) == classes


def test_watch_with_a_frame_level_model(video, pose_model, frame_model):
    events = list(watch(video, frame_model, pose_model=pose_model, pose_fps=10, max_frames=100, hop="1s"))
    check_events(events, set(frame_model.classes_))
    assert sum(e["event"] == "label" for e in events) >= 2
    with pytest.raises(ParameterError, match="shorter than the frame-level model's own window"):
        LiveScorer(frame_model, window="500ms")


def test_scorer_ends_the_bout_of_an_individual_who_leaves(clip_model_file):
    from skelbehave.pose.live import PoseRecord

    rng = np.random.default_rng(0)
    scorer = LiveScorer(clip_model_file, window="1s", hop="0.5s", fps=10, leave_after="0.5s")
    base = rng.normal(scale=0.2, size=(33, 3))
    events = []
    for k in range(40):
        present = k < 20  # individual 0 leaves after 2 s
        rec = PoseRecord(
            k,
            k / 10,
            (0,) if present else (),
            (base + rng.normal(scale=0.02, size=(33, 3)))[None][:present],
            np.ones((1, 33))[:present],
            np.zeros((1, 33, 3))[:present],
            {"decode": 1e-3, "pose": 1e-2},
            time.perf_counter(),
            0,
            160,
            120,
        )
        events += scorer.update(rec)
    ends = [e for e in events if e["event"] == "bout_end"]
    assert len(ends) == 1 and ends[0]["time"] == pytest.approx(1.9)
    assert not [e for e in events if e["time"] > 2.0 and e["event"] == "label"]
    assert scorer.finish() == []  # nothing left open
    assert scorer.buffered() == {}


# ----------------------------------------------------------------------------- the command
def test_cli_watch_writes_json_lines(video, pose_model, clip_model_file, tmp_path, capfd):
    out = tmp_path / "events.jsonl"
    argv = [
        "watch",
        str(video),
        "--model",
        str(clip_model_file),
        "--pose-model",
        str(pose_model),
        "--pose-fps",
        "10",
        "--max-frames",
        "75",
        "--out",
        str(out),
        "--show",
    ]
    assert main(argv) == 0
    err = capfd.readouterr().err
    assert "--show: no display" in err  # no display here: one notice, then on without the window
    assert "75 frames read, 30 posed" in err
    lines = out.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert events and all(list(e)[:7] == list(EVENT_FIELDS) for e in events)
    check_events(events, set(UTD.values()))
    # --out appends
    assert main(argv) == 0
    assert len(out.read_text().splitlines()) == 2 * len(lines)


@pytest.mark.parametrize(
    "source, text",
    [
        ("99", "camera 99: cannot be opened: no such camera"),
        ("rtsp://127.0.0.1:1/x", "rtsp://127.0.0.1:1/x: cannot be opened"),
        ("{d}/x.mp4", "x.mp4: cannot be opened as a video (not a video file"),
    ],
)
def test_cli_watch_bad_source(source, text, clip_model_file, pose_model, tmp_path, capfd):
    (tmp_path / "x.mp4").write_text("not a video\n")
    source = source.format(d=tmp_path)
    t0 = time.monotonic()
    rc = main(["watch", source, "--model", str(clip_model_file), "--pose-model", str(pose_model)])
    out, err = capfd.readouterr()
    assert rc == 1 and out == ""
    assert time.monotonic() - t0 < 20  # refused at once, never hangs
    # one line from skelbehave (FFmpeg may add its own only if OpenCV opened a video earlier in this process)
    ours = [line for line in err.splitlines() if line.startswith("skelbehave")]
    assert len(ours) == 1 and ours[0].startswith("skelbehave watch: error: ")
    assert text in ours[0] and "Traceback" not in err


def test_cli_watch_defaults_are_the_library_defaults():
    import argparse

    from skelbehave.cli import build_parser, watch_cmd

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["watch"]
    actions = {a.dest: a for a in sub._actions}
    for dest, (obj, name) in watch_cmd.library_params().items():
        assert actions[dest].default == inspect.signature(obj).parameters[name].default, dest
    with pytest.raises(SystemExit) as exc:
        main(["watch", "0", "--model", "none.skb", "--window", "0"])
    assert exc.value.code == 2
    assert main(["watch", "0", "--model", "none.skb"]) == 1  # the model file is checked first


def test_cli_watch_ctrl_c_ends_bouts_and_prints_a_summary(video, pose_model, clip_model_file, tmp_path):
    """SIGINT while a file plays in real time: the open bout ends, one summary line, exit 130."""
    import signal

    out = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skelbehave",
            "watch",
            str(video),
            "--model",
            str(clip_model_file),
            "--pose-model",
            str(pose_model),
            "--pose-fps",
            "10",
            "--realtime",
            "--window",
            "1s",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # wait for the first events
        if out.is_file() and out.read_text().strip():  # the first event: the clip still has seconds to play
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and "frames read" in lines[0]
    events = [json.loads(line) for line in out.read_text().splitlines()]
    check_events(events, set(UTD.values()))  # every bout that started has ended
    assert events[-1]["event"] == "bout_end"
