"""``skelbehave demo``: frame-level behaviours on the embedded PRECOG data."""

from __future__ import annotations

import argparse
from typing import Any

from . import library_default, threads

EPILOG = """examples:
  skelbehave demo                          # train on subjects 1-8, label 9-12, write skelbehave-demo/
  skelbehave demo --out /tmp/demo --quick  # a small model, in seconds
  skelbehave demo --root ../shared/data    # the same from the original PRECOG CSVs
"""


def library_params() -> dict[str, tuple[Any, str]]:
    """CLI option (argparse dest) -> (library callable, parameter) whose default it takes."""
    from ..workflows import run_demo

    return {
        "out": (run_demo, "out_dir"),
        "root": (run_demo, "root"),
        "threads": (run_demo, "n_jobs"),
        "quick": (run_demo, "quick"),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` sub-command."""
    d = {dest: library_default(obj, name) for dest, (obj, name) in library_params().items()}
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
    p.add_argument("--out", "-o", default=d["out"], help="output folder (default: %(default)s)")
    p.add_argument(
        "--root",
        default=d["root"],
        help="folder holding precog_2016/ with the original CSVs (default: the embedded copy)",
    )
    p.add_argument(
        "--quick", action="store_true", default=d["quick"], help="small model without the context stage"
    )
    p.add_argument(
        "--threads", type=threads, default=d["threads"], help="threads (n_jobs) (default: %(default)s)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call: :func:`skelbehave.workflows.run_demo`; prints its summary."""
    from ..workflows import run_demo

    print(run_demo(args.out, root=args.root, quick=args.quick, n_jobs=args.threads))
    return 0
