"""``skelbehave evaluate``: score a saved model on a data set split or labelled pose files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import check_output_file, check_output_folder, library_default, positive_float

EPILOG = """examples:
  skelbehave evaluate precog.skb precog --subjects 9-12 --out precog_report   # + figures and tables
  skelbehave evaluate rat.skb rat_social --root ../shared/data          # test recordings 9-12
  skelbehave evaluate mine.skb poses/*.csv --labels labels/*.csv --label-column S1 --fps 30
  skelbehave evaluate mine.skb poses/*.csv --labels annot/*_annot.txt --label-column S1 --fps 30
  skelbehave evaluate mine.skb poses/*.csv --labels boris/*.tsv --fps 30 --out report/
  skelbehave evaluate msr.skb msr_action3d --root ../shared/data        # clip-level model
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..workflows import evaluate_model

    return {"split": (evaluate_model, "split"), "ignore_labels": (evaluate_model, "ignore_labels")}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``evaluate`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate a saved model on held-out data",
        description=(
            "Frame-level models: frame accuracy, per-behaviour frame F1 and segment F1 (IoU matching), "
            "macro over the behaviours. Clip-level models: accuracy and per-class F1."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.skb)")
    p.add_argument("source", nargs="+", help="a data set name, or pose files")
    p.add_argument(
        "--labels",
        nargs="+",
        help="label files, one per pose file: per-frame label CSVs, Caltech Behavior Annotator .txt or BORIS "
        "events exports (CSV/TSV)",
    )
    p.add_argument("--label-column", help="label column, stream (S1) or BORIS subject of the label files")
    p.add_argument("--root", help="data folder (default $SKELBEHAVE_DATA or ../shared/data)")
    p.add_argument(
        "--split",
        default=d["split"],
        choices=["test", "train", "all"],
        help="data set part (default: %(default)s)",
    )
    p.add_argument("--subjects", help="evaluate on these subjects / recordings, e.g. 9-12")
    p.add_argument("--fps", type=positive_float, help="frame rate of pose files that do not state one")
    p.add_argument(
        "--ignore-labels",
        nargs="+",
        default=d["ignore_labels"],
        metavar="LABEL",
        help="labels left out of scoring (default: the model's, else the data set's)",
    )
    p.add_argument(
        "--out",
        help="report folder: confusion_matrix.png, ethogram_<recording>.png per recording, per_class.csv, "
        "bouts.csv (bouts and time budgets), metrics.csv; a name ending in .csv writes only the table",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.workflows.evaluate_model`."""
    from ..workflows import evaluate_model, is_dataset
    from .fit_cmd import _check_labels

    if args.labels:
        _check_labels(args.source, args.labels, args.label_column)
    table_only = args.out is not None and args.out.lower().endswith(".csv")
    if args.out is not None:
        (check_output_file if table_only else check_output_folder)(args.out, "--out")

    one = args.source[0] if len(args.source) == 1 and not args.labels else None
    # a single name that is no file is a data set (an unknown name says which names are known)
    src = one if one is not None and (is_dataset(one) or not Path(one).exists()) else args.source
    table = evaluate_model(
        args.model,
        src,
        labels=args.labels,
        label_column=args.label_column,
        split=args.split,
        subjects=args.subjects,
        root=args.root,
        fps=args.fps,
        ignore_labels=args.ignore_labels,
        out=args.out if table_only else None,
        report_dir=None if table_only else args.out,
    )
    print(table.round(4).to_string())
    print(", ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in table.attrs.items()))
    if args.out is not None and not table_only:
        print(f"report written to {args.out}/")
    return 0
