"""Opening input files: only regular files, never blocking (built on :mod:`skelbehave._util.fs`).

Every reader in :mod:`skelbehave.io` goes through :func:`check_path` (or
:func:`open_regular` / :func:`read_regular_bytes`), so a FIFO, a device or a
directory given as a pose file is refused at once with a
:class:`~skelbehave.errors.PoseDataError` instead of blocking the process.
"""

from __future__ import annotations

from .._util.fs import check_regular as check_path
from .._util.fs import open_regular

__all__ = ["check_path", "open_regular", "read_regular_bytes"]


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
