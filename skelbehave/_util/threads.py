"""Threads: the one mapping of ``n_jobs`` to numba, BLAS / OpenMP and torch threads.

``n_jobs`` (DESIGN.md glossary) is the number of threads inside one process:
``None`` or ``1`` = one thread, ``-1`` = every core, ``-2`` = every core but
one (the joblib / scikit-learn convention). :func:`limit_threads` applies it
to every numeric library at once, so that no library starts more threads than
it was given (worker processes of a batch, a busy shared machine).

Examples
--------
>>> from skelbehave._util.threads import limit_threads, resolve_n_jobs
>>> resolve_n_jobs(None), resolve_n_jobs(1)
(1, 1)
>>> with limit_threads(1) as n:
...     n
1
"""

from __future__ import annotations

import operator
import os
import sys
import threading
from typing import Any

from ..errors import ParameterError, ParameterTypeError

__all__ = ["limit_threads", "resolve_n_jobs"]

#: per-thread record of the limits in force, so that nested calls with the same limit are free
_ACTIVE = threading.local()


def _max_threads() -> int:
    try:
        import numba

        return max(1, int(numba.config.NUMBA_NUM_THREADS))
    except ImportError:  # pragma: no cover - numba is a dependency
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """The thread count ``n_jobs`` stands for (at least 1, at most the cores numba may use).

    Parameters
    ----------
    n_jobs : int or None
        ``None`` or ``1``: one thread; ``k > 1``: ``k`` threads; ``-1``: every
        core; ``-k``: every core but ``k - 1``. ``0`` is not allowed.

    Returns
    -------
    int

    Examples
    --------
    >>> resolve_n_jobs(None), resolve_n_jobs(1), resolve_n_jobs(-1) >= 1
    (1, 1, True)
    >>> resolve_n_jobs(10**6) == resolve_n_jobs(-1)
    True
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool):
        raise ParameterTypeError(f"n_jobs must be an int or None, got {n_jobs!r}")
    try:
        n = operator.index(n_jobs)
    except TypeError:
        raise ParameterTypeError(f"n_jobs must be an int or None, got {n_jobs!r}") from None
    if n == 0:
        raise ParameterError("n_jobs must be a positive thread count, -1 (all cores) or -k; got 0")
    top = _max_threads()
    if n < 0:
        n = top + 1 + n
    return max(1, min(n, top))


class limit_threads:  # lower case: used like a function, as threadpoolctl.threadpool_limits
    """Limit numba, BLAS / OpenMP and torch to the threads ``n_jobs`` stands for.

    The limits apply at once. Used as a context manager they are restored on
    exit (the ``with`` target is the thread count); called alone (a worker
    process's initialiser) they stay for the life of the process.

    Parameters
    ----------
    n_jobs : int or None
        See :func:`resolve_n_jobs`.
    numba : bool
        Set numba's thread count (this starts numba's threading layer).
    blas : bool
        Limit BLAS and OpenMP pools with threadpoolctl (it comes with
        scikit-learn; skipped when missing). A call nested inside a limit of
        the same count skips the library scan (about 10 ms).
    torch : bool
        Set torch's intra-op threads, when torch is already imported (it is
        never imported here).
    numba_chunksize : int, optional
        Iterations numba hands to a thread at once in ``prange`` loops (small
        chunks balance uneven work on a busy machine).

    Examples
    --------
    >>> import numba
    >>> with limit_threads(1, blas=False) as n:
    ...     n, numba.get_num_threads()
    (1, 1)
    >>> with limit_threads(-1) as n:  # every core
    ...     n >= 1
    True
    """

    def __init__(
        self,
        n_jobs: int | None,
        *,
        numba: bool = True,
        blas: bool = True,
        torch: bool = True,
        numba_chunksize: int | None = None,
    ) -> None:
        self.threads = resolve_n_jobs(n_jobs)
        self._restore: list[Any] = []
        n = self.threads
        if numba:
            import numba as nb

            old = nb.get_num_threads()
            nb.set_num_threads(n)
            self._restore.append(lambda: nb.set_num_threads(old))
            if numba_chunksize is not None:
                old_chunk = nb.get_parallel_chunksize()
                nb.set_parallel_chunksize(int(numba_chunksize))
                self._restore.append(lambda: nb.set_parallel_chunksize(old_chunk))
        if torch and "torch" in sys.modules:
            tmod = sys.modules["torch"]
            old_torch = tmod.get_num_threads()
            tmod.set_num_threads(n)
            self._restore.append(lambda: tmod.set_num_threads(old_torch))
        if blas and getattr(_ACTIVE, "blas", None) != n:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:  # pragma: no cover - comes with scikit-learn
                threadpool_limits = None
            if threadpool_limits is not None:
                limits = threadpool_limits(limits=n)
                outer = getattr(_ACTIVE, "blas", None)
                _ACTIVE.blas = n

                def _undo(limits=limits, outer=outer):
                    _ACTIVE.blas = outer
                    limits.restore_original_limits()

                self._restore.append(_undo)

    def restore(self) -> None:
        """Put back the thread counts that were in force before (last set, first restored)."""
        while self._restore:
            self._restore.pop()()

    def __enter__(self) -> int:
        return self.threads

    def __exit__(self, *exc: object) -> None:
        self.restore()
