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

No user mistake ends in a traceback: argument values are checked by the
types below (``positive_int``, ``threads``, ``positive_float``, ``length``,
``positive_length``) and by :func:`check_output_folder` / :func:`check_output_file`
/ :func:`check_input_file` with messages that name the flag; :func:`main`
turns any :class:`~skelbehave.errors.SkelbehaveError` or ``OSError`` into one
line on stderr (exit 1), Ctrl-C into ``interrupted: N of M done; run the same
command again to resume`` (exit 130), and anything unexpected into one line
that asks for ``-v`` (which shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import logging
import math
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from .._util.interrupt import interrupt_behind
from ..errors import ParameterError, ParameterTypeError, SkelbehaveError

__all__ = [
    "check_input_file",
    "check_output_file",
    "check_output_folder",
    "library_default",
    "length",
    "main",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "positive_length",
    "threads",
]

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

# order shown in --help
COMMANDS = ("demo", "extract", "overlay", "watch", "fit", "score", "evaluate", "export", "info", "ablate")


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
            f"{text!r} is not a length: give frames (31, not negative) or a duration (2s, 500ms)"
        ) from None
    return v


def positive_length(text: str) -> int | str:
    """Like :func:`length`, but at least one frame (a window or a stride).

    Examples
    --------
    >>> positive_length("31"), positive_length("2s")
    (31, '2s')
    >>> positive_length("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '0' is not a length: give at least 1 frame (31) or a duration (2s, 500ms)
    """
    v = length(text)
    if v == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a length: give at least 1 frame (31) or a duration (2s, 500ms)"
        )
    return v


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number >= 1 (``--jobs``, ``--num-poses``, ``--max-frames``...).

    Examples
    --------
    >>> positive_int("2")
    2
    >>> positive_int("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '0': must be a whole number >= 1
    """
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number >= 1")
    return v


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (``--context-folds``: 0 = off).

    Examples
    --------
    >>> non_negative_int("0")
    0
    >>> non_negative_int("-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '-1': must be a whole number >= 0
    """
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number >= 0")
    return v


def threads(text: str) -> int:
    """Threads in one process (``--threads``): a whole number >= 1, or -1 for all cores.

    Examples
    --------
    >>> threads("4"), threads("-1")
    (4, -1)
    """
    v = _int(text)
    if v == 0 or v < -1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number >= 1, or -1 for all cores")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0 (``--fps``).

    Examples
    --------
    >>> positive_float("29.97")
    29.97
    >>> positive_float("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 'nan': must be a number > 0
    """
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number > 0")
    return v


def probability(text: str) -> float:
    """A number in [0, 1] (``--min-confidence``).

    Examples
    --------
    >>> probability("0.8")
    0.8
    >>> probability("80")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '80': must be a number in [0, 1]
    """
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0.0 <= v <= 1.0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number in [0, 1]")
    return v


def check_output_folder(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Create the output folder ``path`` or say, naming ``flag``, why it cannot be written.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_output_folder(os.path.join(d, "new")).is_dir()
    True
    >>> f = os.path.join(d, "file"); _ = open(f, "w").write("x")
    >>> try:
    ...     check_output_folder(f)
    ... except ParameterError as e:
    ...     print(str(e).split(": ", 1)[1])
    a file is in the way: expected a folder
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{flag} {p}: a file is in the way: expected a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"{flag} {p}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise ParameterError(f"{flag} {p}: the folder is not writable")
    return p


def check_output_file(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Say, naming ``flag``, why the file ``path`` cannot be written (its folder is created).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_output_file(os.path.join(d, "m.skb")).name
    'm.skb'
    >>> try:
    ...     check_output_file(d)
    ... except ParameterError as e:
    ...     print(str(e).split(": ", 1)[1])
    is a folder: expected a file name
    """
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{flag} {p}: is a folder: expected a file name")
    check_output_folder(p.parent if str(p.parent) else Path("."), flag=f"{flag} {p}: folder")
    return p


def check_input_file(path: str | os.PathLike, flag: str) -> Path:
    """An existing regular file for ``flag``, or a message naming the flag.

    Examples
    --------
    >>> try:
    ...     check_input_file("/nonexistent/labels.csv", "--labels")
    ... except ParameterError as e:
    ...     print(e)
    --labels /nonexistent/labels.csv: no such file
    """
    from .._util.fs import regular_file_problem

    problem = regular_file_problem(path)
    if problem is not None:
        raise ParameterError(f"{flag} {path}: {problem}")
    return Path(path)


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
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return _guarded(args)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:2000]


def _interrupted(exc: KeyboardInterrupt) -> int:
    progress = getattr(exc, "batch_progress", None)
    if progress is not None:
        n, m = progress
        print(f"interrupted: {n} of {m} done; run the same command again to resume", file=sys.stderr)
    else:
        print("interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _guarded(args: argparse.Namespace) -> int:
    """Run a sub-command; every way it can fail ends in one line on stderr, never a traceback."""
    where = f"skelbehave {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except SkelbehaveError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or folder the system refuses: the user's to fix
        if args.verbose:
            traceback.print_exc()
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"{where}: error: {name}{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{where}: error: out of memory", file=sys.stderr)
        return 1
    except Exception as exc:
        if (ki := interrupt_behind(exc)) is not None:  # Ctrl-C inside numba code
            return _interrupted(ki)
        if args.verbose:
            traceback.print_exc()
            print(f"{where}: unexpected error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        else:
            print(
                f"{where}: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
                "(run with -v for the traceback)",
                file=sys.stderr,
            )
        return 1
