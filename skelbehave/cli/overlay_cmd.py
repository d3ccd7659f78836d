"""``skelbehave overlay``: draw the extracted skeletons (and labels) on the video."""

from __future__ import annotations

import argparse
from typing import Any

from . import library_default, positive_float, positive_int

EPILOG = """\
examples:
  skelbehave extract clip.mp4 --out poses/ --image-landmarks
  skelbehave overlay clip.mp4 poses/clip.image.pose.csv --out clip.overlay.mp4
  skelbehave overlay clip.mp4 poses/clip.image.pose.csv --out frames/ \\
      --predictions scores/clip.predictions.parquet --max-frames 300

POSES is the '<name>.image.pose.csv' that 'skelbehave extract --image-landmarks'
writes (joints in normalised image coordinates). --out is a video file
(.mp4, .mov, .m4v, .mkv, .avi) or a folder that receives one PNG per frame.
--predictions is a table with 'frame' (or 'start_frame'/'stop_frame', or 'time') and
'label' columns, such as the files 'skelbehave score' writes; with an 'individual'
column each label is drawn next to that individual, and nothing where they are absent.
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..pose.overlay import render_overlay

    return {
        "max_frames": (render_overlay, "max_frames"),
        "min_confidence": (render_overlay, "min_confidence"),
        "fps": (render_overlay, "fps"),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``overlay`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "overlay",
        help="draw skeletons and behaviour labels on a video",
        description="Render a video with each person's skeleton, and behaviour labels when given.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("video", metavar="VIDEO", help="the video the poses came from")
    p.add_argument("poses", metavar="POSES", help="image-coordinate pose file (<name>.image.pose.csv)")
    p.add_argument("--out", required=True, metavar="PATH", help="output video file, or a folder for PNGs")
    p.add_argument("--predictions", metavar="FILE", default=None, help="labels per frame (.parquet or .csv)")
    p.add_argument(
        "--max-frames", type=positive_int, default=d["max_frames"], metavar="N", help="stop after N frames"
    )
    p.add_argument(
        "--min-confidence", type=float, default=d["min_confidence"], help="hide joints below this confidence"
    )
    p.add_argument(
        "--fps", type=positive_float, default=d["fps"], help="frame rate of the output (default: the input's)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def _read_predictions(path: str):
    import pandas as pd

    from ..errors import PoseDataError, PoseFileNotFoundError

    try:
        table = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    except FileNotFoundError:
        raise PoseFileNotFoundError(f"predictions file not found: {path}") from None
    except (ValueError, OSError) as exc:
        raise PoseDataError(f"cannot read the predictions: {exc}", path=path) from None
    return table  # its columns are checked by render_overlay


def run(args: argparse.Namespace) -> int:
    """Read the poses (and labels) and write the overlay."""
    from ..io import read_poses
    from ..pose.overlay import render_overlay

    sequences = read_poses(args.poses)
    predictions = _read_predictions(args.predictions) if args.predictions else None
    out = render_overlay(
        args.video,
        sequences,
        args.out,
        predictions=predictions,
        fps=args.fps,
        max_frames=args.max_frames,
        min_confidence=args.min_confidence,
        progress=not args.no_progress,
    )
    print(f"overlay of {len(sequences)} person(s) written to {out}")
    return 0
