"""``skelbehave fit``: train a model on a data set or on labelled pose files, and save it."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  skelbehave fit precog --subjects 1-8 --out precog.skb            # frame-level, embedded PRECOG
  skelbehave fit precog --subjects 1-8 --context-folds 4 --out precog.skb
  skelbehave fit rat_social --root ../shared/data --out rat.skb     # train recordings 1-8, S1
  skelbehave fit poses/*.csv --labels labels/*.csv --label-column S1 --fps 30 --out mine.skb
  skelbehave fit msr_action3d --root ../shared/data --out msr.skb  # clip-level BehaviorModel
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``fit`` sub-command."""
    p = subparsers.add_parser(
        "fit",
        help="train a behaviour model and save it",
        description=(
            "Train a frame-level model (sliding windows over long recordings) on a data set with frame "
            "labels (precog, rat_social) or on pose files with per-frame label CSVs; or a clip-level model "
            "on a clip data set (msr_action3d, utd_mhad, precog_trimmed). The model is saved as a .skb file "
            "(JSON + arrays, checksummed, no pickle)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", nargs="+", help="a data set name, or pose files")
    p.add_argument("--out", "-o", required=True, help="model file to write (.skb)")
    p.add_argument("--labels", nargs="+", help="per-frame label CSVs (frame,label), one per pose file")
    p.add_argument("--label-column", help="label column of the label CSVs (default: 'label' or the only one)")
    p.add_argument("--root", help="data folder (default $SKELBEHAVE_DATA or ../shared/data)")
    p.add_argument("--split", default="train", choices=["train", "all"], help="data set part to train on")
    p.add_argument("--subjects", help="train on these subjects / recordings, e.g. 1-8")
    p.add_argument("--fps", type=float, help="frame rate of pose files that do not state one")
    p.add_argument("--ignore-label", action="append", help="label that is not a behaviour (repeatable)")
    p.add_argument("--window", default="31", help="window length: frames (31) or seconds (1s)")
    p.add_argument("--stride", default="1", help="step between window centres when predicting")
    p.add_argument("--fit-stride", default="2", help="step between training windows")
    p.add_argument(
        "--context-folds", type=int, default=0, help="second (context) stage with k folds; 0 = off"
    )
    p.add_argument("--n-estimators", type=int, default=200, help="trees of the window classifier")
    p.add_argument("--classifier", default="extra_trees", choices=["extra_trees", "hgb"])
    p.add_argument("--median", default="0", help="median filter over frame probabilities (frames or s)")
    p.add_argument("--min-bout", default="0", help="minimum bout length (frames or s)")
    p.add_argument("--n-jobs", type=int, default=1, help="threads")
    p.add_argument("--random-state", type=int, default=0)
    p.set_defaults(func=run)
    return p


def _num(v: str):
    return int(v) if v.isdigit() else v


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.workflows.fit_model`."""
    from ..workflows import DATASETS, fit_model

    src = args.source[0] if len(args.source) == 1 and args.source[0] in DATASETS else args.source
    frame_params = {}
    if not (isinstance(src, str) and not DATASETS[src][2]):
        frame_params = {
            "window": _num(args.window),
            "stride": _num(args.stride),
            "fit_stride": _num(args.fit_stride),
            "context_folds": args.context_folds,
            "n_estimators": args.n_estimators,
            "classifier": args.classifier,
            "median": _num(args.median),
            "min_bout": _num(args.min_bout),
            "n_jobs": args.n_jobs,
            "random_state": args.random_state,
            "ignore_labels": args.ignore_label,
        }
    else:
        frame_params = {"random_state": args.random_state}
    model = fit_model(
        src,
        args.out,
        labels=args.labels,
        label_column=args.label_column,
        split=args.split,
        subjects=args.subjects,
        root=args.root,
        fps=args.fps,
        **frame_params,
    )
    print(f"saved {type(model).__name__} with classes {model.classes_.tolist()} to {args.out}")
    return 0
