"""``skelbehave demo``: frame-level behaviours on the embedded PRECOG data."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  skelbehave demo                          # train on subjects 1-8, label 9-12, write skelbehave-demo/
  skelbehave demo --out /tmp/demo --quick  # a small model, in seconds
  skelbehave demo --root ../shared/data    # the same from the original PRECOG CSVs
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the main job on the embedded PRECOG demo data",
        description=(
            "Train a frame-level model on the PRECOG aggressive-actions streams shipped inside the package "
            "(subjects 1-8), label every frame of subjects 9-12, evaluate (frame and segment F1 over the 8 "
            "actions) and write the model, a report, a bout table and an ethogram."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", "-o", default="skelbehave-demo", help="output folder (default: skelbehave-demo)")
    p.add_argument(
        "--root",
        default=None,
        help="folder holding precog_2016/ with the original CSVs (default: the embedded copy)",
    )
    p.add_argument("--quick", action="store_true", help="small model without the context stage")
    p.add_argument("--n-jobs", type=int, default=1, help="threads")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.demo.run_demo`; prints its summary."""
    from ..demo import run_demo

    print(run_demo(args.out, root=args.root, quick=args.quick, n_jobs=args.n_jobs))
    return 0
