"""``skelbehave watch``: behaviour events from a camera, a stream URL or a video file, as frames arrive."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import (
    check_input_file,
    check_output_file,
    library_default,
    non_negative_int,
    positive_float,
    positive_int,
    positive_length,
    threads,
)
from .extract_cmd import add_video_arguments

EPILOG = """examples:
  skelbehave watch 0 --model boxing.skb                       # camera 0, events on stdout
  skelbehave watch rtsp://cam.local/live --model m.skb --out events.jsonl --reconnect 5
  skelbehave watch ../shared/videos/person01_boxing_d2_uncomp.mp4 --model m.skb --pose-fps 10 \\
      --pose-model ../shared/models/pose_landmarker_full.task --window 2s --hop 0.5s
  skelbehave watch 0 --model m.skb --show                     # skeletons and labels in a window

One JSON line per event: {"time", "frame", "individual", "label", "score", "event",
"latency_ms": {"decode", "pose", "features_model", "total"}}; "event" is "label" (every
--hop seconds for each individual seen), "bout_start" or "bout_end" (the label changed,
the individual left, or the stream ended; with "start_time" and "duration"). The pose
model runs at most --pose-fps times a second; on a camera or stream the frames it has no
time for are dropped, never queued. A summary line goes to stderr at the end (or on
Ctrl-C, which ends the open bouts first).
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..batch.live_watch import watch
    from ..pose.live import stream

    return {
        "window": (watch, "window"),
        "hop": (watch, "hop"),
        "pose_fps": (watch, "pose_fps"),
        "pose_model": (watch, "pose_model"),
        "reconnect": (watch, "reconnect"),
        "max_frames": (watch, "max_frames"),
        "threads": (watch, "n_jobs"),
        "num_poses": (stream, "num_poses"),
        "open_timeout": (stream, "open_timeout"),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``watch`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "watch",
        help="score a camera, stream URL or video live: behaviour events as JSON lines",
        description="Pose -> sliding window -> model, as frames arrive from a camera index, a stream URL "
        "OpenCV opens, or a video file; events as JSON lines on stdout or --out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", help="camera index (0), stream URL (rtsp://..., http://...) or video file")
    p.add_argument("--model", "-m", required=True, help="model file (.skb): clip-level or frame-level")
    p.add_argument("--out", "-o", help="append events to this file (JSON lines) instead of stdout")
    add_video_arguments(p, d, model_dest="pose_model", tracking=False)  # --pose-model/--num-poses/--pose-fps
    p.add_argument(
        "--window",
        type=positive_length,
        default=d["window"],
        help="sliding window per individual: a duration (2s, 500ms) or frames (default: %(default)s)",
    )
    p.add_argument(
        "--hop",
        type=positive_length,
        default=d["hop"],
        help="time between two scorings (default: %(default)s)",
    )
    p.add_argument(
        "--reconnect",
        type=non_negative_int,
        default=d["reconnect"],
        help="open a camera or stream that stops again this many times (default: %(default)s)",
    )
    p.add_argument(
        "--open-timeout",
        type=positive_float,
        default=d["open_timeout"],
        help="seconds to wait for a camera or stream to open or deliver a frame (default: %(default)s)",
    )
    p.add_argument("--max-frames", type=positive_int, default=d["max_frames"], help="stop after N frames")
    p.add_argument(
        "--realtime",
        action="store_true",
        default=None,
        help="play a video file at its frame rate, dropping frames like a camera would",
    )
    p.add_argument("--show", action="store_true", help="draw skeletons and labels in a window")
    p.add_argument(
        "--threads", type=threads, default=d["threads"], help="threads for features and model (default: 1)"
    )
    p.set_defaults(func=run)
    return p


def _summary(w, prefix: str) -> str:
    s = w.summary()
    factor = f"{s['realtime_factor']:.2f}x real time" if s["wall_s"] > 0 else "no frames"
    return (
        f"{prefix}: {s['source']}: {s['frames_read']} frames read, {s['frames_posed']} posed, "
        f"{s['frames_dropped']} dropped; {s['events']} events; {s['source_s']:.1f} s of source in "
        f"{s['wall_s']:.1f} s ({factor}); ended: {s['ended'] or 'interrupted'}"
    )


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.batch.live_watch.watch`, its events written as they come."""
    from .._util.optional import require
    from ..batch.live_watch import event_json, watch
    from ..pose.live_sources import open_window

    check_input_file(args.model, "--model")
    require("mediapipe", "video", "skelbehave watch")  # before the pose model is looked for
    if args.out is not None:
        check_output_file(args.out, "--out")
    window = None
    if args.show:
        window, why = open_window()
        if window is None:
            print(f"skelbehave watch: --show: {why}; continuing without the window", file=sys.stderr)
    w = watch(
        args.source,
        args.model,
        window=args.window,
        hop=args.hop,
        pose_fps=args.pose_fps,
        pose_model=args.pose_model,
        reconnect=args.reconnect,
        max_frames=args.max_frames,
        num_poses=args.num_poses,
        open_timeout=args.open_timeout,
        realtime=True if args.realtime else None,
        n_jobs=args.threads,
        on_record=None if window is None else window.show,
    )
    out = sys.stdout if args.out is None else open(args.out, "a", encoding="utf-8")
    try:
        try:
            for event in w:
                out.write(event_json(event) + "\n")
                out.flush()
        except KeyboardInterrupt:
            for event in w.close():  # the open bouts end where the stream stopped
                out.write(event_json(event) + "\n")
            out.flush()
            print(_summary(w, "interrupted"), file=sys.stderr)
            return 130
        print(_summary(w, "watch"), file=sys.stderr)
        return 0
    finally:
        w.close()
        if window is not None:
            window.close()
        if out is not sys.stdout:
            out.close()
