"""Video to behaviour labels: ``watch`` per clip and stage, ``score`` on videos, extraction 1 vs 2 processes.

Run from the repository root (alone: it measures wall time on a shared machine)::

    python benchmarks/video.py [--clips kth+intel|all] [--pose-fps 10 15 0] [--skip-realtime]
        [--skip-score] [--skip-extract]

A clip model is trained first (a few seconds) on UTD-MHAD sequences of the
classes the KTH clips show plus distractors, on the common skeleton, so it
takes MediaPipe poses; every section uses it.

Section "watch" (pinned to ONE core with ``os.sched_setaffinity``, and
``n_jobs=1``; MediaPipe's own threads share that core): for each clip and each
``--pose-fps`` (0 = every frame), the whole clip goes through
``skelbehave.batch.watch`` as fast as the core allows (a file, so no frame is
dropped; the pose model runs at most pose_fps times per source second). Per
stage: decode frames/s (every frame read), pose frames/s (frames posed),
features+model scorings/s (one scoring = every individual's window through the
model); the real-time factor = source seconds / wall seconds (>= 1: keeps up
with a live source at that rate); end-to-end latency from reading a frame to
its label event (median, p95), and the labels given (share of label events).
Targets (issue 13): real-time factor >= 1 at ``--pose-fps 10`` on one core on
the KTH clips and the Intel clip; latency < 1 s.

Section "watch, played in real time": the boxing clip delivered at its frame
rate (``realtime=True``, as a camera would) at ``--pose-fps 10`` and every
frame: frames the pose model had no time for are dropped (never queued), and
the latency stays that of one frame.

Section "score on videos": ``skelbehave.batch.score_files`` on the three KTH
videos (extraction into the output folder, then scoring), one process, every
frame and ``pose_fps=10``: wall time and real-time factor.

Section "extraction 1 vs 2 processes": ``skelbehave.pose.extract_many`` on four
KTH videos (the three clips and a second copy of boxing) on pre-warmed pools of
1 and 2 processes (``measure_extraction`` of benchmarks/extract.py; both cores;
run first, before the process pins itself; the machine is shared, which lowers
the ratio most).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package of this checkout
SHARED = (HERE.parent / ".." / "shared").resolve()
VIDEOS = SHARED / "videos"
POSE_MODEL = SHARED / "models" / "pose_landmarker_full.task"
KTH = [
    "person01_boxing_d2_uncomp.mp4",
    "person01_handclapping_d1_uncomp.avi",
    "person01_jogging_d1_uncomp.avi",
]
INTEL = "intel_one-by-one-person-detection.mp4"
OTHERS = ["sports2d_demo.mp4", "realtime_action_recognition_exercise.avi"]
UTD = {13: "boxing", 4: "handclapping", 22: "jogging", 3: "wave", 6: "arm cross", 24: "sit to stand"}


def train_clip_model(path: Path) -> Path:
    """A BehaviorModel on UTD-MHAD training subjects (1, 3, 5, 7), classes :data:`UTD`, common skeleton.

    The configuration of tests/test_cross_layout.py: package defaults plus facing rotation.
    """
    from skelbehave.features import JointFeatures
    from skelbehave.io.utd import read_utd_skeleton
    from skelbehave.pipeline import BehaviorModel
    from skelbehave.pipeline.clip import DEFAULT_FEATURES

    seqs, labels = [], []
    for f in sorted((SHARED / "data" / "utd_mhad").glob("a*_s*_t*_skeleton.mat")):
        a, s = (int(p[1:]) for p in f.name.split("_")[:2])
        if a in UTD and s in (1, 3, 5, 7):
            seq = read_utd_skeleton(f)
            seqs.append(seq.copy(fps=seq.fps or 30.0).to_layout("common15"))
            labels.append(UTD[a])
    features = JointFeatures(**{**DEFAULT_FEATURES, "rotate": True})  # as benchmarks/cross_layout.py
    BehaviorModel(features=features, layout="common15", random_state=0).fit(seqs, labels).save(path)
    return path


def pin_to_one_core() -> set[int]:
    """Pin this process (and the threads it starts from now on) to one core; return the old set."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    return before


# ----------------------------------------------------------------------------- watch
def watch_clip(clip: str, model: Path, pose_fps: float | None) -> dict:
    from skelbehave.batch.live_watch import watch

    t0 = time.perf_counter()
    w = watch(VIDEOS / clip, model, pose_model=POSE_MODEL, pose_fps=pose_fps, n_jobs=1)
    events = list(w)
    wall = time.perf_counter() - t0  # includes opening the clip and building the landmarker
    st, sc = w.stream.stats, w.scorer
    labels = [e for e in events if e["event"] == "label"]
    lat = np.array([e["latency_ms"]["total"] for e in labels])
    names, counts = np.unique([e["label"] for e in labels], return_counts=True)
    order = np.argsort(-counts)
    source_s = st["frames_read"] / w.stream.info["fps"]
    return {
        "clip": clip,
        "size": f"{w.stream.info['width']}x{w.stream.info['height']}",
        "fps": w.stream.info["fps"],
        "pose_fps": pose_fps,
        "frames": st["frames_read"],
        "posed": st["frames_posed"],
        "decode_fps": st["frames_read"] / st["decode_s"] if st["decode_s"] else float("nan"),
        "pose_fps_measured": st["frames_posed"] / st["pose_s"] if st["pose_s"] else float("nan"),
        "scorings": sc.n_scorings,
        "model_per_s": sc.n_scorings / sc.model_s if sc.model_s else float("nan"),
        "model_ms": 1000 * sc.model_s / sc.n_scorings if sc.n_scorings else float("nan"),
        "wall": wall,
        "rtf": source_s / wall,
        "lat_median": float(np.median(lat)) if len(lat) else float("nan"),
        "lat_p95": float(np.percentile(lat, 95)) if len(lat) else float("nan"),
        "labels": ", ".join(f"{names[i]} {counts[i] / counts.sum():.0%}" for i in order[:3]) or "-",
    }


def section_watch(clips: list[str], model: Path, rates: list[float]) -> None:
    print("\n== watch: one core, whole clips, as fast as the core goes (no frame dropped)")
    head = (
        f"{'clip':<38} {'size':>9} {'pose-fps':>8} {'frames':>6} {'posed':>5} {'decode f/s':>10} "
        f"{'pose f/s':>8} {'model /s':>8} {'ms/scoring':>10} {'wall s':>7} {'RT factor':>9} "
        f"{'lat med ms':>10} {'lat p95 ms':>10}  labels (share of label events)"
    )
    from skelbehave.batch.live_watch import watch

    list(watch(VIDEOS / clips[0], model, pose_model=POSE_MODEL, max_frames=30))  # warm-up: numba, file cache
    print(head)
    worst10 = []
    for clip in clips:
        done: dict = {}
        for rate in rates:
            pf = rate or None
            with_fps = _clip_fps(clip)
            key = None if pf is None or pf >= with_fps else pf  # at or above the clip's rate = every frame
            if key in done:
                r = dict(done[key], pose_fps=pf)
                note = (
                    f"  (same run as {'every frame' if key is None else key}: the clip is {with_fps:g} fps)"
                )
            else:
                r = watch_clip(clip, model, pf)
                done[key] = r
                note = ""
            if pf == 10:
                worst10.append(r)
            print(
                f"{clip:<38} {r['size']:>9} {('every' if pf is None else f'{pf:g}'):>8} {r['frames']:>6} "
                f"{r['posed']:>5} {r['decode_fps']:>10.0f} {r['pose_fps_measured']:>8.1f} "
                f"{r['model_per_s']:>8.1f} {r['model_ms']:>10.1f} {r['wall']:>7.1f} {r['rtf']:>8.2f}x "
                f"{r['lat_median']:>10.1f} {r['lat_p95']:>10.1f}  {r['labels']}{note}",
                flush=True,
            )
    if worst10:
        low = min(worst10, key=lambda r: r["rtf"])
        slow = max(worst10, key=lambda r: r["lat_p95"])
        print(
            f"targets at --pose-fps 10: lowest real-time factor {low['rtf']:.2f}x ({low['clip']}; "
            "target >= 1), "
            f"highest p95 latency {slow['lat_p95']:.0f} ms ({slow['clip']}; target < 1000 ms)"
        )


def section_watch_realtime(clip: str, model: Path, rates: list[float]) -> None:
    """The clip delivered at its frame rate, as a camera would: what is dropped, and the latency."""
    from skelbehave.batch.live_watch import watch

    print(f"\n== watch, {clip} played in real time (as a camera delivers it), one core")
    print(
        f"{'pose-fps':>8} {'frames':>6} {'posed':>5} {'dropped':>7} {'wall s':>7} "
        f"{'lat med ms':>10} {'lat p95 ms':>10}"
    )
    for rate in rates:
        pf = rate or None
        w = watch(VIDEOS / clip, model, pose_model=POSE_MODEL, pose_fps=pf, n_jobs=1, realtime=True)
        t0 = time.perf_counter()
        events = list(w)
        wall = time.perf_counter() - t0
        st = w.stream.stats
        lat = np.array([e["latency_ms"]["total"] for e in events if e["event"] == "label"])
        print(
            f"{('every' if pf is None else f'{pf:g}'):>8} {st['frames_read']:>6} {st['frames_posed']:>5} "
            f"{st['frames_dropped']:>7} {wall:>7.1f} {np.median(lat):>10.1f} {np.percentile(lat, 95):>10.1f}",
            flush=True,
        )


def _clip_fps(clip: str) -> float:
    import cv2

    cap = cv2.VideoCapture(str(VIDEOS / clip))
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    cap.release()
    return fps


def _frames(clip: str) -> int:
    import cv2

    cap = cv2.VideoCapture(str(VIDEOS / clip))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return n


# ----------------------------------------------------------------------------- score on videos
def section_score_on_videos(model: Path, tmp: Path) -> None:
    """``score_files`` on the three KTH videos: extraction then scoring, one process."""
    print("\n== score on videos: skelbehave.batch.score_files on the 3 KTH videos, jobs=1, one core")
    from skelbehave.batch import score_files

    source_s = sum(_frames(c) / _clip_fps(c) for c in KTH)
    print(f"{'pose_fps':>8} {'files done':>10} {'wall s':>7} {'RT factor':>9}  labels")
    for pf in (None, 10):
        out = tmp / f"score_{pf}"
        t0 = time.perf_counter()
        df = score_files(
            model,
            [VIDEOS / c for c in KTH],
            out,
            jobs=1,
            pose_model=POSE_MODEL,
            pose_fps=pf,
            progress=False,
            n_jobs=1,
        )
        wall = time.perf_counter() - t0
        done = int((df["status"] == "done").sum())
        labels = []
        import pandas as pd

        for row in df.itertuples():
            table = getattr(row, "output", None)
            if isinstance(table, str) and Path(table).is_file():
                t = pd.read_parquet(table) if table.endswith(".parquet") else pd.read_csv(table)
                labels.append(f"{Path(row.key).name.split('_')[1]} -> {t['label'].iloc[0]}")
        print(
            f"{('every' if pf is None else pf):>8} {done:>6} of {len(df)} {wall:>7.1f} "
            f"{source_s / wall:>8.2f}x  {'; '.join(labels)}",
            flush=True,
        )


# ----------------------------------------------------------------------------- extraction 1 vs 2 processes
def section_extract_processes(tmp: Path, cores: set[int]) -> None:
    """``extract_many`` on 4 KTH videos with 1 and 2 worker processes (all cores allowed again).

    Uses ``measure_extraction`` of benchmarks/extract.py (pre-warmed pools, pool start-up timed
    apart, worker CPU and cores kept busy), so both benchmarks measure the same way.
    """
    from extract import kth_videos, measure_extraction  # benchmarks/extract.py, next to this file

    print(f"\n== extraction 1 vs 2 processes: extract_many on 4 KTH videos, cores allowed: {sorted(cores)}")
    vids = tmp / "vids"
    vids.mkdir()
    rows = measure_extraction(kth_videos(vids), (1, 2), model=POSE_MODEL, repeats=1)
    print(
        f"{'jobs':>4} {'pool start s':>12} {'extract s':>9} {'frames/s':>8} {'cores busy':>10} "
        f"{'load before':>11}"
    )
    for r in rows:
        print(
            f"{r['jobs']:>4} {r['start_s']:>12.1f} {r['seconds']:>9.1f} {r['fps']:>8.1f} "
            f"{r['cores_busy']:>10.2f} {r['load_before']:>11.1f}"
        )
    one = next(r for r in rows if r["jobs"] == 1)
    two = next(r for r in rows if r["jobs"] == 2)
    print(
        f"  speed-up with 2 processes: {one['seconds'] / two['seconds']:.2f}x "
        f"(target >= 1.7x; load average now: {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", choices=["kth+intel", "kth", "all"], default="kth+intel")
    ap.add_argument("--pose-fps", type=float, nargs="+", default=[10, 15, 0], help="0 = every frame")
    ap.add_argument("--skip-realtime", action="store_true")
    ap.add_argument("--skip-score", action="store_true")
    ap.add_argument("--skip-extract", action="store_true")
    args = ap.parse_args()
    clips = KTH + ([] if args.clips == "kth" else [INTEL]) + (OTHERS if args.clips == "all" else [])
    cores = os.sched_getaffinity(0)
    print(f"benchmarks/video.py  python {sys.version.split()[0]}  cores: {sorted(cores)}")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # first, before this process is pinned: worker processes must be free to use every core
        if args.skip_extract:
            print("\n== extraction 1 vs 2 processes: skipped (--skip-extract)")
        else:
            section_extract_processes(tmp, cores)
        pin_to_one_core()
        from skelbehave._util.threads import limit_threads

        print(f"\n(from here on pinned to core {min(cores)}, n_jobs=1)")
        with limit_threads(1):
            t0 = time.perf_counter()
            model = train_clip_model(tmp / "clip.skb")
            print(
                f"clip model (UTD-MHAD, {len(UTD)} classes, common skeleton) trained in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            section_watch(clips, model, args.pose_fps)
            if not args.skip_realtime:
                section_watch_realtime(KTH[0], model, [10, 0])
            if args.skip_score:
                print("\n== score on videos: skipped (--skip-score)")
            else:
                section_score_on_videos(model, tmp)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
