"""``skelbehave extract``: videos -> one pose CSV per video (MediaPipe), resumable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import check_output_folder, length, library_default, positive_float, positive_int

EPILOG = """\
examples:
  skelbehave extract clip.mp4 --out poses/ --model pose_landmarker_full.task
  skelbehave extract videos/ --out poses/ --jobs 4 --num-poses 3
  skelbehave extract videos/*.avi --out poses/ --scheduler tcp://10.0.0.5:8786
  skelbehave extract videos/ --out poses/ --pose-fps 10 --pose-model lite   # faster
  skelbehave extract crowd.mp4 --out poses/ --num-poses 4 --min-track-frames 2s --stitch-gap 5s

Each video becomes poses/<name>.pose.csv; poses/manifest.csv records every
video's status (done, or failed with the reason: unreadable, corrupt,
zero_frames, no_person). Running the same command again skips finished videos.
Without --pose-model: $SKELBEHAVE_POSE_MODEL, else the user cache, else a checked
download of the official model. --pose-fps runs the pose model at that rate (frames
evenly picked); a person's skipped frames between two sampled detections are
interpolated (--fill-skipped absent leaves them absent). MediaPipe's own log
lines are hidden unless -v.
Exit status: 0 when every video is done, 1 when some failed.
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..pose.batch import extract_many
    from ..pose.landmarker import extract

    return {
        "model": (extract_many, "model"),
        "jobs": (extract_many, "jobs"),
        "num_poses": (extract_many, "num_poses"),
        "scheduler": (extract_many, "scheduler"),
        "image_landmarks": (extract_many, "image_landmarks"),
        "pose_fps": (extract_many, "pose_fps"),
        "fill_skipped": (extract, "fill_skipped"),
        "min_track_frames": (extract, "min_track_frames"),
        "stitch_gap": (extract, "stitch_gap"),
    }


def pose_model_arg(text: str) -> str:
    """``--pose-model``: lite, full, heavy or an existing ``.task`` file (else exit 2 naming the flag)."""
    from ..pose.models import PoseModelNotFoundError, pose_model_choice

    try:
        return pose_model_choice(text)
    except PoseModelNotFoundError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_video_arguments(
    p: argparse.ArgumentParser, d: dict, model_dest: str = "model", tracking: bool = True
) -> None:
    """The pose-extraction options of ``extract``, ``score`` and ``watch`` (defaults ``d`` from the library).

    ``extract`` also takes ``--model`` for ``--pose-model`` (``score``'s MODEL is the behaviour model).
    ``tracking=False`` (``watch``) leaves out ``--min-track-frames`` / ``--stitch-gap``, which act on
    whole recordings.
    """
    p.add_argument(
        "--pose-model",
        *(["--model"] if model_dest == "model" else []),
        dest=model_dest,
        type=pose_model_arg,
        default=d[model_dest],
        metavar="lite|full|heavy|PATH",
        help="MediaPipe Pose Landmarker: an official variant (cached or downloaded) or a .task file",
    )
    p.add_argument(
        "--num-poses",
        type=positive_int,
        default=d["num_poses"],
        metavar="K",
        help="most people per frame (default: %(default)s)",
    )
    p.add_argument(
        "--pose-fps",
        type=positive_float,
        default=d["pose_fps"],
        metavar="FPS",
        help="run the pose model at this rate (default: every frame)",
    )
    if not tracking:
        return
    p.add_argument(
        "--min-track-frames",
        type=length,
        default=d["min_track_frames"],
        metavar="N|DURATION",
        help="drop identities seen in fewer frames (frames or 1s; default: 1 s with --num-poses > 1)",
    )
    p.add_argument(
        "--stitch-gap",
        type=length,
        default=d["stitch_gap"],
        metavar="N|DURATION",
        help="longest loss across which a person's track is joined (default: 10 s)",
    )


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
    add_video_arguments(p, d)
    p.add_argument(
        "--fill-skipped",
        choices=["interpolate", "absent"],
        default=d["fill_skipped"],
        help="frames --pose-fps skips (default: %(default)s)",
    )
    p.add_argument(
        "--jobs", type=positive_int, default=d["jobs"], metavar="N", help="processes (default: %(default)s)"
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


def _given(**options: Any) -> dict:
    """The options given on the command line (the library's defaults for the others)."""
    return {k: v for k, v in options.items() if v is not None}


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
        pose_fps=args.pose_fps,
        fill_skipped=args.fill_skipped,
        **_given(fps=args.fps, min_track_frames=args.min_track_frames, stitch_gap=args.stitch_gap),
    )
    failed = table[table["status"] != "done"]
    print(f"{len(table) - len(failed)} of {len(table)} videos done; manifest in {args.out}/manifest.csv")
    for _, row in failed.iterrows():
        print(f"  failed ({row['reason']}): {row['error']}", file=sys.stderr)
    return 1 if len(failed) else 0
