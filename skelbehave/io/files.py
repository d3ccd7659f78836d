"""Opening input files: only regular files, never blocking.

Every reader in :mod:`skelbehave.io` goes through :func:`check_path` (or
:func:`open_regular` / :func:`read_regular_bytes`), so a FIFO, a device or a
directory given as a pose file is refused at once with a
:class:`~skelbehave.errors.PoseDataError` instead of blocking the process.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import PoseDataError, PoseFileNotFoundError

__all__ = ["check_path", "open_regular", "read_regular_bytes"]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_path(path) -> Path:
    """A path that names an existing regular file, checked without opening it.

    ``os.stat`` never blocks, so a FIFO is refused before anything opens it.

    Raises
    ------
    PoseFileNotFoundError
        The path does not exist.
    PoseDataError
        The path is a directory, FIFO, device or socket.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> try:
    ...     check_path(d)
    ... except PoseDataError as e:
    ...     print(str(e).split(": ", 1)[1])
    expected a regular file, found a directory
    """
    p = Path(os.fspath(path))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise PoseFileNotFoundError("no such file", path=p) from None
    except OSError as exc:
        raise PoseDataError(f"cannot read: {exc.strerror or exc}", path=p) from None
    if not stat.S_ISREG(st.st_mode):
        raise PoseDataError(f"expected a regular file, found {_kind(st.st_mode)}", path=p)
    return p


def open_regular(path) -> BinaryIO:
    """Open a regular file for binary reading; never blocks on a FIFO.

    The file is opened with ``O_NONBLOCK`` and checked with ``fstat`` on the
    open descriptor, so a path swapped for a FIFO between a check and the
    open is still refused at once.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(f, "w").write("abc")
    >>> with open_regular(f) as fh:
    ...     fh.read()
    b'abc'
    """
    p = check_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise PoseDataError(f"cannot open: {exc.strerror or exc}", path=p) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise PoseDataError(f"expected a regular file, found {_kind(mode)}", path=p)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path) -> bytes:
    """The whole content of a regular file (see :func:`open_regular`).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(f, "w").write("abc")
    >>> read_regular_bytes(f)
    b'abc'
    """
    with open_regular(path) as fh:
        return fh.read()
