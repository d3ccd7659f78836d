"""Pose extraction speed: skelbehave.pose.extract vs a bare MediaPipe loop, and 2 processes vs 1.

Run from the repository root:

    python benchmarks/extract.py [--repeats 3] [--model ../shared/models/pose_landmarker_full.task]
    python benchmarks/extract.py --part pool --repeats 2     # part 2 alone

Part 1 (same clip, same run, runs interleaved, best of ``--repeats``): frames/s of

- a bare PoseLandmarker loop (cv2 read -> RGB -> mp.Image -> detect_for_video),
  building its landmarker inside the timed region, as one would for one clip;
- the same bare loop with the landmarker built beforehand (not timed);
- ``skelbehave.pose.extract`` (builds a fresh landmarker per call, converts
  landmarks to arrays, tracks, returns PoseSequences);
- ``extract(..., reuse_landmarker=True)`` (landmarker kept from an earlier call).

Targets: extract's overhead over the bare loop <= 10 %.

Part 2: ``extract_many`` on 4 KTH videos (the 3 clips + a second copy of
boxing under another name) on a pre-warmed pool of 1 and of 2 worker
processes (``skelbehave.pose.batch.extraction_pool``: the workers are started,
import MediaPipe/OpenCV, set OpenCV's threads to cores / processes and build
and run a landmarker once before the clock starts; the pool start-up is
printed apart), runs alternated 1, 2, 1, 2: wall time, frames/s, the CPU
seconds the workers used (/proc) and the cores they kept busy. Target: >= 1.7x
with 2 processes. ``measure_extraction(videos, jobs=(1, 2))`` returns the
rows (``benchmarks/video.py`` imports it). The machine is shared: other work
running at the same time lowers both, and the ratio most (the load average
before each run and the cores other processes kept busy during it, from
/proc/stat, are printed). One MediaPipe landmarker runs its graph on two
threads besides the Python thread, but they work one frame at a time (each
``detect_for_video`` call waits for its result), so one process keeps about
one core busy; MediaPipe's Tasks API has no setting for its graph or
XNNPACK threads, so "processes x threads = cores" is met by one process per
core and OpenCV's threads set to cores / processes.

Part 3 (tracking): every clip in ../shared/videos extracted with up to 3
poses a frame; tracks before (the frame-to-frame tracker's fragments, and
how many of them the old rule, fragments of 5+ detections, kept) and after
stitching and the minimum length (default one second of frames), with the
frames each track is seen in, and the seconds spent in tracking and
stitching vs the whole extraction. Targets: one identity per single-person
KTH clip, two in Sports2D, no Intel track shorter than the minimum.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package of this checkout
SHARED = (HERE.parent / ".." / "shared").resolve()
VIDEOS = SHARED / "videos"
CLIPS = [
    "person01_boxing_d2_uncomp.mp4",
    "person01_handclapping_d1_uncomp.avi",
    "person01_jogging_d1_uncomp.avi",
]


def bare_loop(video: Path, model: Path, landmarker=None) -> tuple[int, float, float]:
    """The plain MediaPipe Tasks loop; returns (frames, wall seconds, CPU seconds)."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    t0, c0 = time.perf_counter(), time.process_time()
    own = landmarker is None
    if own:
        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
        )
        landmarker = vision.PoseLandmarker.create_from_options(opts)
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    n = 0
    results = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        results.append(
            landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), bare_loop.ts + round(n * 1000 / fps)
            )
        )
        n += 1
    bare_loop.ts += round(n * 1000 / fps) + 10_000
    cap.release()
    if own:
        landmarker.close()
    return n, time.perf_counter() - t0, time.process_time() - c0


bare_loop.ts = 0


def timed_extract(video: Path, model: Path, **kw) -> tuple[int, float, float]:
    from skelbehave.pose import extract

    t0, c0 = time.perf_counter(), time.process_time()
    seqs = extract(video, model=model, **kw)
    return seqs[0].n_frames, time.perf_counter() - t0, time.process_time() - c0


def part1(model: Path, repeats: int, clip: str) -> None:
    from mediapipe.tasks.python import BaseOptions, vision

    from skelbehave.pose import extract

    video = VIDEOS / clip
    # warm-up: imports, file cache, XNNPACK init
    extract(video, model=model, max_frames=20)
    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
    )
    prebuilt = vision.PoseLandmarker.create_from_options(opts)
    keys = ("bare", "bare_prebuilt", "extract", "extract_reuse")
    wall: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    frames = 0
    runs = {
        "bare": lambda: bare_loop(video, model),
        "bare_prebuilt": lambda: bare_loop(video, model, landmarker=prebuilt),
        "extract": lambda: timed_extract(video, model),
        "extract_reuse": lambda: timed_extract(video, model, reuse_landmarker=True),
    }
    for _ in range(repeats):  # interleaved, so load changes hit every variant alike
        for k in keys:
            frames, w, c = runs[k]()
            wall[k].append(w)
            cpu[k].append(c)
    prebuilt.close()
    bw = {k: min(v) for k, v in wall.items()}
    bc = {k: min(v) for k, v in cpu.items()}
    print(f"\n== Part 1: one clip, {clip} ({frames} frames), best of {repeats} interleaved runs")
    print(f"{'variant':<44} {'frames/s':>9} {'CPU f/s':>8}  {'wall runs (s)':<26} CPU runs (s)")
    labels = {
        "bare": "bare loop (landmarker built in the loop)",
        "bare_prebuilt": "bare loop (landmarker built beforehand)",
        "extract": "skelbehave.pose.extract (fresh landmarker)",
        "extract_reuse": "extract(reuse_landmarker=True)",
    }
    for k, lab in labels.items():
        wr = " ".join(f"{t:.2f}" for t in wall[k])
        cr = " ".join(f"{t:.2f}" for t in cpu[k])
        print(f"{lab:<44} {frames / bw[k]:9.1f} {frames / bc[k]:8.1f}  {wr:<26} {cr}")
    for name, a_, b_ in (
        ("extract vs bare loop (both build a landmarker)", "extract", "bare"),
        ("extract vs bare loop, prebuilt landmarker", "extract", "bare_prebuilt"),
        ("extract(reuse) vs bare loop, prebuilt landmarker", "extract_reuse", "bare_prebuilt"),
    ):
        print(
            f"overhead {name:<50} wall {100 * (bw[a_] / bw[b_] - 1):+6.1f} %   "
            f"CPU {100 * (bc[a_] / bc[b_] - 1):+6.1f} %   (target <= +10 %)"
        )


def _cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these (live) processes, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used so far (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure_extraction(
    videos, jobs=(1, 2), *, model: Path | None = None, repeats: int = 1, pose_fps: float | None = None
) -> list[dict]:
    """``extract_many`` on ``videos`` with pre-warmed pools of each size in ``jobs``, runs alternated.

    For every run: a pool of ``n`` worker processes is started and warmed
    (:func:`skelbehave.pose.batch.extraction_pool`: imports, a landmarker
    built and run once), timed apart as ``start_s``; then ``extract_many``
    into a fresh folder on that pool is timed (``seconds``), with the CPU
    seconds its workers used (``cpu_s``, from /proc) and the cores they kept
    busy (``cpu_s / seconds``). Returns one dict per run: ``jobs``,
    ``repeat``, ``start_s``, ``seconds``, ``frames``, ``frames_processed``,
    ``fps`` (frames / seconds), ``cpu_s``, ``cores_busy``, ``load_before``
    (1-minute load average) and ``others_cores`` (the cores other processes
    on the machine kept busy meanwhile, from /proc/stat).
    """
    from skelbehave.pose.batch import extract_many, extraction_pool

    model = Path(model) if model is not None else SHARED / "models" / "pose_landmarker_full.task"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            for n in jobs:  # alternated, so load changes hit every size alike
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                with extraction_pool(n, model=model) as pool:
                    start = time.perf_counter() - t0
                    pids = list(pool._processes)
                    c0, m0, s0 = _cpu_seconds(pids), _machine_busy_seconds(), time.process_time()
                    out = Path(tmp) / f"out{n}-{rep}"
                    t1 = time.perf_counter()
                    table = extract_many(
                        videos, out, model=model, pool=pool, progress=False, pose_fps=pose_fps
                    )
                    dt = time.perf_counter() - t1
                    cpu = _cpu_seconds(pids) - c0
                    others = (_machine_busy_seconds() - m0) - cpu - (time.process_time() - s0)
                assert (table["status"] == "done").all(), table[["key", "status", "error"]]
                frames = int(table["frames"].sum())
                rows.append({
                    "jobs": n, "repeat": rep, "start_s": start, "seconds": dt, "frames": frames,
                    "frames_processed": int(table["frames_processed"].sum()), "fps": frames / dt,
                    "cpu_s": cpu, "cores_busy": cpu / dt, "load_before": load,
                    "others_cores": max(0.0, others) / dt,
                })  # fmt: skip
    return rows


def kth_videos(folder: Path) -> list[Path]:
    """The 4 KTH videos of part 2 (the 3 clips + boxing again under another name) in ``folder``.

    The clips are symbolic links; the second boxing is a copy (a link would resolve to the same
    file, which a batch takes once).
    """
    out = []
    for clip in [*CLIPS, CLIPS[0]]:
        if (folder / clip).exists():
            shutil.copyfile(VIDEOS / clip, folder / ("copy_" + clip))
            out.append(folder / ("copy_" + clip))
        else:
            os.symlink(VIDEOS / clip, folder / clip)
            out.append(folder / clip)
    return out


def part2(model: Path, repeats: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        videos = kth_videos(Path(tmp))
        rows = measure_extraction(videos, (1, 2), model=model, repeats=repeats)
    print(f"\n== Part 2: extract_many on 4 KTH videos ({rows[0]['frames']} frames), pre-warmed pools, "
          f"runs alternated 1,2 x {repeats}")  # fmt: skip
    print(f"{'processes':<10} {'best s':>7} {'frames/s':>9} {'runs (s)':>18} {'pool start (s)':>16} "
          f"{'worker CPU (s)':>16} {'cores busy':>11} {'others busy':>12} {'load before':>12}")  # fmt: skip
    best = {}
    for n in (1, 2):
        mine = [r for r in rows if r["jobs"] == n]
        b = min(mine, key=lambda r: r["seconds"])
        best[n] = b
        def runs(key: str, fmt: str = ".2f", rows=mine) -> str:
            return " ".join(format(r[key], fmt) for r in rows)

        print(
            f"{n:<10} {b['seconds']:7.2f} {b['fps']:9.1f} {runs('seconds'):>18} {runs('start_s'):>16} "
            f"{runs('cpu_s'):>16} {runs('cores_busy'):>11} {runs('others_cores'):>12} "
            f"{runs('load_before', '.1f'):>12}"
        )
    ratio = best[1]["seconds"] / best[2]["seconds"]
    cpu_ratio = best[2]["cpu_s"] / best[1]["cpu_s"]
    print(f"speed-up 2 processes vs 1 (wall, best runs, warm pools): {ratio:.2f}x  (target >= 1.7x)")
    print(
        f"CPU work, 2 processes vs 1: {cpu_ratio:.2f}x; cores busy: 1 process {best[1]['cores_busy']:.2f}, "
        f"2 processes {best[2]['cores_busy']:.2f} of {len(os.sched_getaffinity(0))} "
        "(the machine's other load takes the rest)"
    )
    free = len(os.sched_getaffinity(0)) - best[2]["others_cores"]
    print(
        f"cores left by other processes during the best 2-process run: {free:.2f}; "
        f"frames per worker CPU second: 1 process {best[1]['frames'] / best[1]['cpu_s']:.1f}, "
        f"2 processes {best[2]['frames'] / best[2]['cpu_s']:.1f}"
    )


ALL_CLIPS = [
    *CLIPS,
    "sports2d_demo.mp4",
    "intel_one-by-one-person-detection.mp4",
    "realtime_action_recognition_exercise.avi",
]


def part3(model: Path) -> None:
    from unittest import mock

    from skelbehave.pose import extract, identities, landmarker

    print(
        "\n== Part 3: identities (up to 3 poses a frame; defaults: gap 1 s, stitch gap 10 s, min track 1 s)"
    )
    print(f"{'clip':<42} {'frames':>6} {'fragments':>9} {'old (5+)':>8} {'after':>5} {'stitched':>8} "
          f"{'dropped':>7} {'min':>4} {'track s':>7} {'total s':>7}  frames seen per identity")  # fmt: skip
    for clip in ALL_CLIPS:
        spent = [0.0]
        inner = identities.track_poses

        def timed(*a, _inner=inner, _spent=spent, **k):
            t = time.perf_counter()
            try:
                return _inner(*a, **k)
            finally:
                _spent[0] += time.perf_counter() - t

        t0 = time.perf_counter()
        with mock.patch.object(landmarker, "track_poses", timed):
            seqs = extract(VIDEOS / clip, model=model, num_poses=3)
        total = time.perf_counter() - t0
        if not seqs:
            print(f"{clip:<42} no person found")
            continue
        rep = seqs[0].meta["tracking"]
        frag = list(rep["fragment_lengths"].values())
        old = sum(n >= 5 for n in frag)
        seen = [s.meta["frames_seen"] for s in seqs]
        print(
            f"{clip:<42} {seqs[0].n_frames:6d} {rep['fragments']:9d} {old:8d} {len(seqs):5d} "
            f"{len(rep['stitched']):8d} {len(rep['dropped']):7d} {rep['min_track_frames']:4d} "
            f"{spent[0]:7.2f} {total:7.1f}  {seen}"
        )
        print(
            f"{'':<42} fragment lengths {sorted(frag, reverse=True)}; "
            f"dropped {sorted(rep['dropped'].values())}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=SHARED / "models" / "pose_landmarker_full.task")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clip", default=CLIPS[0])
    ap.add_argument("--skip-part2", action="store_true")
    ap.add_argument("--part", choices=["all", "speed", "pool", "tracking"], default="all")
    args = ap.parse_args()
    import cv2
    import mediapipe

    print(
        f"mediapipe {mediapipe.__version__}, OpenCV {cv2.__version__}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if args.part in ("all", "speed"):
        part1(args.model, args.repeats, args.clip)
    if args.part == "pool" or (args.part in ("all", "speed") and not args.skip_part2):
        part2(args.model, args.repeats)
    if args.part in ("all", "tracking"):
        part3(args.model)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
