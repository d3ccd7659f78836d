"""The ``skelbehave`` command: a thin shell over the Python API.

Each sub-command lives in its own module ``skelbehave.cli.<name>`` that
defines ``add_parser(subparsers)``; everything a command does is one call of
the library. An option that sets a library parameter takes its default from
the library's signature (``library_params()`` in the command's module names
them), so the command line and Python give the same results. Flags follow
the glossary of names: ``--threads`` (``n_jobs``, threads in one process),
``--jobs`` (worker processes), ``--window`` / ``--stride`` (frames or
``"2s"`` / ``"500ms"``), ``--ignore-labels``, ``--classifier``,
``--random-state``, ``--no-progress``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import logging
import sys
from typing import Any

from ..errors import ParameterTypeError, SkelbehaveError

__all__ = ["library_default", "length", "main"]

# order shown in --help
COMMANDS = ("demo", "extract", "overlay", "fit", "score", "evaluate", "info", "ablate")


def library_default(obj: Any, name: str) -> Any:
    """The default of parameter ``name`` in the signature of ``obj`` (a function or a class).

    Examples
    --------
    >>> from skelbehave.pipeline import FrameLevelModel
    >>> library_default(FrameLevelModel, "window")
    31
    """
    param = inspect.signature(obj).parameters[name]
    if param.default is inspect.Parameter.empty:
        raise ParameterTypeError(f"{getattr(obj, '__name__', obj)}() has no default for {name!r}")
    return param.default


def length(text: str) -> int | str:
    """A window, stride or filter length from the command line: frames (``31``) or a duration.

    Durations (``"2s"``, ``"500ms"``) are checked here and converted by the
    library once the frame rate is known (:func:`skelbehave.temporal.to_frames`).

    Examples
    --------
    >>> length("31"), length("0"), length("500ms")
    (31, 0, '500ms')
    """
    from ..temporal import to_frames

    v = text.strip()
    if v.isdigit():
        return int(v)
    try:
        to_frames(v, fps=1000.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a length: give frames (31) or a duration (2s, 500ms)"
        ) from None
    return v


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
