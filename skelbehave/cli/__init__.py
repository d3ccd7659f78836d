"""The ``skelbehave`` command: a thin shell over the Python API.

Each sub-command lives in its own module ``skelbehave.cli.<name>`` that
defines ``add_parser(subparsers)``; everything a command does is one call of
the library.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys

from ..errors import SkelbehaveError

__all__ = ["main"]

# order shown in --help
COMMANDS = ("demo", "extract", "overlay", "fit", "score", "evaluate", "info", "ablate")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="skelbehave",
        description="Skeleton-based behaviour analytics: pose files or videos in, behaviour labels out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skelbehave {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        modname = f"{__name__}.{name}_cmd"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skelbehave`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SkelbehaveError as exc:
        print(f"skelbehave {args.command}: error: {exc}", file=sys.stderr)
        return 1
