"""``skelbehave score``: predictions for many pose files with any saved model."""

from __future__ import annotations

import argparse
from typing import Any

from . import (
    check_output_folder,
    library_default,
    positive_float,
    positive_int,
    positive_length,
    probability,
    threads,
)
from .extract_cmd import add_video_arguments

EPILOG = """examples:
  skelbehave score rat.skb ../shared/data/rat_social_dlc/dlc_csv --out predictions --fps 30
  skelbehave score rat.skb 'poses/*.csv' --out predictions --jobs 2 --threads 1
  skelbehave score rat.skb poses/ --out predictions --scheduler tcp://10.0.0.5:8786
  skelbehave score precog.skb a.csv b.csv --out predictions --output-format csv --no-resume
  skelbehave score rat.skb poses/ --out predictions --fps 30 --ethogram   # + ethogram PNG, bout table
  skelbehave score rat.skb poses/ --out predictions --fps 30 --summary --events boris  # + summary, BORIS
  skelbehave score msr.skb poses/ --out labels                            # clip model: one row per file
  skelbehave score msr.skb poses/ --out segments --window 2s --stride 1s  # clip model: sliding segments
  skelbehave score kth.skb ../shared/videos --out preds --pose-fps 10      # videos: poses first

Each input gets <name>.predictions.parquet (or .csv). A frame-level model writes one row
per frame: frame, time, label, proba_<class>. A clip-level model writes one row per
individual (input, individual, start_frame, stop_frame, start_time, stop_time, label,
proba_<class>), or with --window one row per sliding segment. predictions/manifest.csv
records every input with its SHA-256, the model checksum, the options, the package version,
status and error. Running the same command again resumes: finished files are skipped; a bad
file is recorded as failed and the others are still scored. Videos (.mp4 .avi .mov .mkv ...)
and image-sequence folders are extracted first (MediaPipe; --pose-model, --pose-fps,
--num-poses, --min-track-frames, --stitch-gap as for `skelbehave extract`) into
<out>/poses/ with its own manifest, then scored per individual; a bad video (not a video,
no person) is recorded as failed with the reason. From a folder only pose files and videos
are taken, never manifests, .image.pose.csv files or predictions.
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..batch import score_files

    return {
        "jobs": (score_files, "jobs"),
        "threads": (score_files, "n_jobs"),
        "format": (score_files, "format"),
        "output_format": (score_files, "output_format"),
        "window": (score_files, "window"),
        "stride": (score_files, "stride"),
        "ethogram": (score_files, "ethogram"),
        "individual": (score_files, "individual"),
        "min_confidence": (score_files, "min_confidence"),
        # videos (pose extraction; extract_cmd.add_video_arguments)
        "pose_model": (score_files, "pose_model"),
        "num_poses": (score_files, "num_poses"),
        "pose_fps": (score_files, "pose_fps"),
        "min_track_frames": (score_files, "min_track_frames"),
        "stitch_gap": (score_files, "stitch_gap"),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``score`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "score",
        help="score pose files with a saved model (frame by frame, per file, or per segment)",
        description="Score pose files (package CSV, DeepLabCut single/multi-animal, ...) with any saved "
        "model: frame-level models label every frame, clip-level models each file and individual, "
        "or each sliding segment (--window).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.skb): frame-level or clip-level")
    p.add_argument("inputs", nargs="+", help="pose files, videos, folders or glob patterns")
    p.add_argument("--out", "-o", required=True, help="output folder")
    p.add_argument(
        "--jobs", "-j", type=positive_int, default=d["jobs"], help="processes (default: %(default)s)"
    )
    p.add_argument(
        "--threads", type=threads, default=d["threads"], help="threads in each process (default: %(default)s)"
    )
    p.add_argument("--scheduler", help="Dask scheduler address (runs on that cluster)")
    p.add_argument("--format", default=d["format"], help="pose file format (default: %(default)s: detect)")
    p.add_argument(
        "--output-format",
        default=d["output_format"],
        choices=["auto", "csv", "parquet"],
        help="predictions file type (default: %(default)s: parquet when pyarrow is installed)",
    )
    p.add_argument(
        "--window",
        type=positive_length,
        default=d["window"],
        help="clip-level models: score segments this long, frames or a duration (2s, 500ms)",
    )
    p.add_argument(
        "--stride",
        type=positive_length,
        default=d["stride"],
        help="clip-level models: step between segments (default: the window)",
    )
    p.add_argument(
        "--fps", type=positive_float, help="frame rate of files that do not state one (times, durations)"
    )
    p.add_argument(
        "--individual",
        default=d["individual"],
        help="score only these individuals (tracks) of each file, e.g. 0 or 0,2 (default: all, each alone)",
    )
    p.add_argument(
        "--min-confidence",
        type=probability,
        default=d["min_confidence"],
        help="label rows whose top (calibrated) probability is below this 'unknown' (default: never)",
    )
    p.add_argument(
        "--ethogram",
        action="store_true",
        default=d["ethogram"],
        help="also write an ethogram PNG and a bout table",
    )
    add_video_arguments(p, d, model_dest="pose_model")  # videos among the inputs
    # reports block: aggregated bout / time-budget table and annotation-tool events (plots.reports)
    p.add_argument(
        "--summary",
        action="store_true",
        help="also write summary.csv (bouts, time budget per file, individual, label; a clip model's "
        "segments count each frame with the nearest segment's label: use --window/--stride)",
    )
    p.add_argument(
        "--events",
        choices=["boris"],
        help="also write <name>.boris.csv, BORIS aggregated events (one row per bout)",
    )
    p.add_argument("--no-resume", action="store_true", help="score every file again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.batch.score_files`; exit 1 if a file failed."""
    from ..batch import score_files

    check_output_folder(args.out, "--out")
    df = score_files(
        args.model,
        args.inputs,
        args.out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        format=args.format,
        output_format=args.output_format,
        fps=args.fps,
        window=args.window,
        stride=args.stride,
        individual=args.individual,
        min_confidence=args.min_confidence,
        n_jobs=args.threads,
        resume=not args.no_resume,
        ethogram=args.ethogram,
        progress=not args.no_progress,
        pose_model=args.pose_model,
        num_poses=args.num_poses,
        pose_fps=args.pose_fps,
        min_track_frames=args.min_track_frames,
        stitch_gap=args.stitch_gap,
    )
    if args.summary or args.events:  # reports block (plots.reports)
        from ..plots.reports import write_prediction_reports

        write_prediction_reports(df, args.out, summary=args.summary, events=args.events, fps=args.fps)
    done = int((df["status"] == "done").sum())
    print(f"{done} of {len(df)} files scored; manifest: {args.out}/manifest.csv")
    for r in df[df["status"] != "done"].itertuples():
        print(f"  failed: {r.key}: {r.error}")
    return 0 if done == len(df) else 1
