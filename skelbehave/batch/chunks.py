"""Sharing the cores of a scoring run: worker processes x threads, and long recordings split in time.

A frame-level model scores a recording one *time block* of windows at a time
(:func:`skelbehave.features.frame.window_blocks`): the window descriptors and
the head of a block need the features of its frames plus half a window on
either side (the overlap), and nothing else, so blocks run on the threads of
one process (``n_jobs``, the package's kernels release the GIL) and a long
recording keeps every core busy. The blocks do not depend on the thread count:
the labels of one thread and of several are the same, bit for bit.

:func:`plan_workers` turns what a batch asks for (``jobs`` processes of
``n_jobs`` threads) into what its inputs can use: never more processes than
inputs, the spare cores going to threads, so that processes x threads stays
what was asked for.
"""

from __future__ import annotations

import numbers

from ..errors import ParameterError

__all__ = ["plan_workers"]


def plan_workers(n_inputs: int, jobs: int, n_jobs: int | None) -> tuple[int, int]:
    """Processes and threads per process for scoring ``n_inputs`` files.

    Parameters
    ----------
    n_inputs : int
        Files to score.
    jobs : int
        Worker processes asked for (``--jobs``).
    n_jobs : int or None
        Threads per process asked for (``--threads``; None = 1). ``-1``
        (every core) is kept as it is.

    Returns
    -------
    (processes, threads) : tuple of int
        ``processes <= max(n_inputs, 1)``; the cores of the processes that
        would have no file go to the threads of the others.

    Examples
    --------
    >>> plan_workers(1, jobs=2, n_jobs=1)   # one long recording: one process, both cores as threads
    (1, 2)
    >>> plan_workers(12, jobs=2, n_jobs=1)  # many files: one per process
    (2, 1)
    >>> plan_workers(3, jobs=4, n_jobs=2)
    (3, 2)
    """
    for name, v, low in (("n_inputs", n_inputs, 0), ("jobs", jobs, 1)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ParameterError(f"{name} must be a whole number >= {low}, got {v!r}")
    threads = 1 if n_jobs is None else int(n_jobs)
    if threads < 1:  # -1: every core already; nothing to add
        return min(jobs, max(n_inputs, 1)), threads
    procs = min(jobs, max(n_inputs, 1))
    return procs, max(threads, (jobs * threads) // procs)
