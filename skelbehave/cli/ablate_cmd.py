"""``skelbehave ablate``: run one ablation study, write its table (CSV) and figures (PNG)."""

from __future__ import annotations

import argparse

from ..datasets import dataset_names
from . import non_negative_int, positive_int

EPILOG = """examples:
  skelbehave ablate fusion --dataset msr_action3d --out results/
  skelbehave ablate feature-counts --dataset utd_mhad --seeds 0 1 2 --out results/
  skelbehave ablate encoders --dataset msr_action3d --seeds 0 1 --out results/
  skelbehave ablate pruning --dataset msr_action3d --seeds 0 --epochs 40 --out results/
  skelbehave ablate cnn-options --dataset utd_mhad --epochs 30 --out results/
  skelbehave ablate fusion --dataset msr_action3d --classes 1 2 3 4 --clusters 8 --out /tmp/quick

studies:
  feature-counts  number of displacement / position groups, overlapping or not (accuracy, F1, time)
  fusion          relative position only vs relative displacement only vs both
  encoders        bag of words vs Fisher vector vs VLAD; codebook size, PCA dimensions, pyramid levels
  pruning         pruning ratio vs parameters, MACs, latency, accuracy; with and without DO-Conv
  cnn-options     each CNN option on and off (non-local, residual profile, motion excitation, ...)

Writes DIR/<study>_<dataset>.csv (tidy: one row per configuration x seed x metric),
DIR/<study>_<dataset>_summary.csv (mean and std over seeds) and the PNG figures.
"""

STUDY_NAMES = ("feature-counts", "fusion", "encoders", "pruning", "cnn-options")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``ablate`` sub-command."""
    p = subparsers.add_parser(
        "ablate",
        help="run an ablation study on a clip-labelled data set; write CSV tables and PNG figures",
        description="Run one of the method's ablation studies with the cross-subject split and write "
        "its tidy table and figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=STUDY_NAMES, metavar="WHAT", help=f"the study: {', '.join(STUDY_NAMES)}")
    p.add_argument(
        "--dataset",
        default="msr_action3d",
        choices=dataset_names(frame_level=False),
        help="a data set with clip labels from the registry (skelbehave.datasets.DATASETS)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--root", default=None, help="data folder (default: $SKELBEHAVE_DATA or ../shared/data)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="random seeds (default: the study's)")
    p.add_argument("--classes", type=int, nargs="+", default=None, help="only these label codes (quick runs)")
    p.add_argument(
        "--clusters", type=positive_int, default=None, help="codebook size (feature-counts, fusion)"
    )
    p.add_argument(
        "--epochs", type=positive_int, default=None, help="CNN training epochs (pruning, cnn-options)"
    )
    p.add_argument(
        "--finetune-epochs", type=non_negative_int, default=None, help="CNN fine-tuning epochs after pruning"
    )
    p.add_argument(
        "--channels", type=int, nargs="+", default=None, help="CNN block widths (pruning, cnn-options)"
    )
    p.add_argument("--no-plots", action="store_true", help="write the tables only")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def _options(args: argparse.Namespace) -> dict:
    opts: dict = {"root": args.root, "progress": not args.no_progress}
    if args.seeds is not None:
        opts["seeds"] = args.seeds
    if args.classes is not None:
        opts["classes"] = args.classes
    if args.what in ("feature-counts", "fusion") and args.clusters is not None:
        opts["n_clusters"] = args.clusters
    if args.what == "encoders" and args.clusters is not None:
        opts["base_n_clusters"] = args.clusters
    if args.what in ("pruning", "cnn-options"):
        cnn = {}
        if args.epochs is not None:
            cnn["max_epochs"] = args.epochs
        if args.channels is not None:
            cnn["channels"] = tuple(args.channels)
        if cnn:
            opts["cnn_params"] = cnn
        if args.what == "pruning" and args.finetune_epochs is not None:
            opts["finetune_epochs"] = args.finetune_epochs
    return opts


def run(args: argparse.Namespace) -> int:
    """One library call (:func:`skelbehave.ablation.run_study`); prints the files written."""
    from ..ablation import run_study

    paths = run_study(args.what, args.dataset, args.out, plot=not args.no_plots, **_options(args))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
