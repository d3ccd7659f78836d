"""``skelbehave demo``: the main job on the embedded PRECOG data."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  skelbehave demo                       # summary of the embedded PRECOG demo data
  skelbehave demo --root ../shared/data # the same from the original PRECOG CSVs
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the main job on the embedded PRECOG demo data",
        description="Load the PRECOG aggressive-actions data shipped inside the package and report on it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--root",
        default=None,
        help="folder holding precog_2016/ with the original CSVs (default: the embedded copy)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """One library call; prints its report."""
    from ..datasets import demo_summary

    print(demo_summary(args.root))
    return 0
