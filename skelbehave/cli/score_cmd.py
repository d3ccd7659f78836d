"""``skelbehave score``: per-frame predictions for many pose files."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  skelbehave score rat.skb ../shared/data/rat_social_dlc/dlc_csv --out predictions --fps 30
  skelbehave score rat.skb 'poses/*.csv' --out predictions --jobs 2
  skelbehave score rat.skb poses/ --out predictions --scheduler tcp://10.0.0.5:8786
  skelbehave score precog.skb a.csv b.csv --out predictions --output-format csv --no-resume
  skelbehave score rat.skb poses/ --out predictions --fps 30 --ethogram   # + ethogram PNG, bout table

Each input gets <name>.predictions.parquet (or .csv): frame, time, label, proba_<class>;
predictions/manifest.csv records every input with its SHA-256, the model checksum, the
package version, status and error. Running the same command again resumes: finished files
are skipped; a bad file is recorded as failed and the others are still scored.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``score`` sub-command."""
    p = subparsers.add_parser(
        "score",
        help="score pose files frame by frame with a saved model",
        description="Score pose CSVs (package format, DeepLabCut single/multi-animal) frame by frame.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="frame-level model file (.skb)")
    p.add_argument("inputs", nargs="+", help="pose files, folders or glob patterns")
    p.add_argument("--out", "-o", required=True, help="output folder")
    p.add_argument("--jobs", "-j", type=int, default=1, help="local worker processes")
    p.add_argument("--scheduler", help="Dask scheduler address (runs on that cluster)")
    p.add_argument("--format", default="auto", help="pose file format (default: detect per file)")
    p.add_argument(
        "--output-format", default="auto", choices=["auto", "csv", "parquet"], help="predictions file type"
    )
    p.add_argument("--fps", type=float, help="frame rate of files that do not state one (time column)")
    p.add_argument("--ethogram", action="store_true", help="also write an ethogram PNG and a bout table")
    p.add_argument("--no-resume", action="store_true", help="score every file again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.batch.score_files`; exit 1 if a file failed."""
    from ..batch import score_files

    df = score_files(
        args.model,
        args.inputs,
        args.out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        format=args.format,
        output_format=args.output_format,
        fps=args.fps,
        resume=not args.no_resume,
        ethogram=args.ethogram,
        progress=not args.no_progress,
    )
    done = int((df["status"] == "done").sum())
    print(f"{done} of {len(df)} files scored; manifest: {args.out}/manifest.csv")
    for r in df[df["status"] != "done"].itertuples():
        print(f"  failed: {r.key}: {r.error}")
    return 0 if done == len(df) else 1
