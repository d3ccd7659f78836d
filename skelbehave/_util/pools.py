"""Worker pools started and warmed before a batch: :func:`start_pool` for :func:`~.parallel.run_batch`.

A batch that starts its own processes pays their start-up (a new
interpreter, imports, a model built) inside the run; a pool started
beforehand pays it once, before, and can serve several batches.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import numbers
import os
from collections.abc import Callable
from typing import Any

from ..errors import ParameterError
from .parallel import _call, _fresh_worker, _stop_pool, resolve_start_method

__all__ = ["start_pool"]


def _warm_worker(initializer: Callable | None, initargs: tuple, barrier: Any) -> None:
    """Start of a :func:`start_pool` worker: the usual start, ``initializer`` once, then wait for all."""
    _fresh_worker()
    if initializer is not None:
        _call(_noop, {}, initializer, initargs)  # marks it done, so run_batch's items do not run it again
    if barrier is not None:
        barrier.wait()


def _noop(item: dict) -> None:
    return None


def start_pool(
    jobs: int,
    *,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
    start_method: str = "spawn",
) -> cf.ProcessPoolExecutor:
    """Start ``jobs`` worker processes now, each having run ``initializer``, for :func:`run_batch`'s ``pool``.

    Returns once every worker has started and run ``initializer(*initargs)``
    (imports, a model built once), so that the batches run on it later pay
    no start-up. The caller shuts it down (``with start_pool(2) as pool:``).

    Examples
    --------
    >>> with start_pool(1) as pool:
    ...     pool.submit(sum, [1, 2]).result()
    3
    """
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise ParameterError(f"jobs must be an integer >= 1, got {jobs!r}")
    ctx = multiprocessing.get_context(resolve_start_method(start_method))
    barrier = ctx.Barrier(jobs) if jobs > 1 else None
    ex = cf.ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_warm_worker, initargs=(initializer, initargs, barrier)
    )
    try:  # one task a worker spawns them all; none finishes before every worker is warm (the barrier)
        for f in [ex.submit(os.getpid) for _ in range(jobs)]:
            f.result()
    except BaseException:
        _stop_pool(ex)
        raise
    return ex
