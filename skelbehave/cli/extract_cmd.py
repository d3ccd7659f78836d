"""``skelbehave extract``: videos -> one pose CSV per video (MediaPipe), resumable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import check_output_folder, library_default, positive_float, positive_int

EPILOG = """\
examples:
  skelbehave extract clip.mp4 --out poses/ --model pose_landmarker_full.task
  skelbehave extract videos/ --out poses/ --jobs 4 --num-poses 3
  skelbehave extract videos/*.avi --out poses/ --scheduler tcp://10.0.0.5:8786

Each video becomes poses/<name>.pose.csv; poses/manifest.csv records every
video's status (done, or failed with the reason: unreadable, corrupt,
zero_frames, no_person). Running the same command again skips finished videos.
Without --model: $SKELBEHAVE_POSE_MODEL, else the user cache, else a checked
download of the official model.
Exit status: 0 when every video is done, 1 when some failed.
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..pose.batch import extract_many

    return {
        "model": (extract_many, "model"),
        "jobs": (extract_many, "jobs"),
        "num_poses": (extract_many, "num_poses"),
        "scheduler": (extract_many, "scheduler"),
        "image_landmarks": (extract_many, "image_landmarks"),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``extract`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "extract",
        help="extract poses from videos with MediaPipe (one pose CSV per video)",
        description="Extract 3-D poses (MediaPipe Pose Landmarker, 33 joints) from videos.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files or folders of videos")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder for pose CSVs and the manifest")
    p.add_argument(
        "--model", metavar="PATH", default=d["model"], help="Pose Landmarker .task file (or lite/full/heavy)"
    )
    p.add_argument(
        "--jobs", type=positive_int, default=d["jobs"], metavar="N", help="processes (default: %(default)s)"
    )
    p.add_argument(
        "--num-poses",
        type=positive_int,
        default=d["num_poses"],
        metavar="K",
        help="most people per frame (default: %(default)s)",
    )
    p.add_argument(
        "--fps", type=positive_float, default=None, help="frame rate, for videos whose container has none"
    )
    p.add_argument(
        "--scheduler", default=d["scheduler"], metavar="ADDRESS", help="run on this Dask scheduler"
    )
    p.add_argument(
        "--image-landmarks",
        action="store_true",
        default=d["image_landmarks"],
        help="also write <name>.image.pose.csv",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``extract_many`` and print a one-line summary; 1 if any video failed."""
    from ..pose.batch import extract_many

    check_output_folder(args.out, "--out")
    table = extract_many(
        args.videos,
        args.out,
        model=args.model,
        num_poses=args.num_poses,
        jobs=args.jobs,
        scheduler=args.scheduler,
        image_landmarks=args.image_landmarks,
        progress=not args.no_progress,
        **({"fps": args.fps} if args.fps is not None else {}),
    )
    failed = table[table["status"] != "done"]
    print(f"{len(table) - len(failed)} of {len(table)} videos done; manifest in {args.out}/manifest.csv")
    for _, row in failed.iterrows():
        print(f"  failed ({row['reason']}): {row['error']}", file=sys.stderr)
    return 1 if len(failed) else 0
