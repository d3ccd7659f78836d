"""The C heap of worker processes: glibc ``malloc`` thresholds fixed high, once per process.

Scoring allocates and frees many arrays of a few hundred kilobytes to a few
megabytes (one time block of features at a time). glibc serves them from its
heap once its *dynamic* mmap threshold has risen past them, so a plain Python
process reuses the same memory block after block. Setting any threshold
(the environment variable ``MALLOC_TRIM_THRESHOLD_``, which Dask's nanny sets
to 64 kB for every worker it starts: ``distributed.nanny.pre-spawn-environ``)
turns that adaptation off: every array over 128 kB is then a fresh ``mmap``,
its pages faulted in and zeroed by the kernel, and given back by ``munmap`` when
freed, and the heap top is trimmed after every free. In a Dask worker this
doubled the system CPU time of scoring and made it about 1.4x the CPU of a
local worker (``benchmarks/scaling.py``).

:func:`steady_malloc` sets the two thresholds to the values the dynamic rule
reaches at most (32 MiB for mmap, twice that for trimming), so blocks are
reused whatever the environment said. It is called at the start of the
package's worker processes (local pools and Dask tasks), never in the user's
own process. Elsewhere than glibc (macOS, musl) it does nothing.

Examples
--------
>>> from skelbehave._util.heap import steady_malloc
>>> steady_malloc() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["steady_malloc"]

#: ``mallopt`` parameters (``<malloc.h>``)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's largest dynamic mmap threshold on 64-bit systems (``DEFAULT_MMAP_THRESHOLD_MAX``)
MMAP_THRESHOLD = 32 * 2**20

_DONE: list[bool] = []


def steady_malloc(mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``mmap_threshold`` bytes and its trim threshold at twice that.

    Once per process (later calls return the first answer at once).

    Parameters
    ----------
    mmap_threshold : int
        Allocations at least this large get their own ``mmap``; smaller ones
        come from the heap and are reused.

    Returns
    -------
    bool
        Whether the thresholds were set (``False`` where the C library has no
        glibc ``mallopt``).

    Examples
    --------
    >>> ok = steady_malloc()
    >>> steady_malloc() == ok  # once per process
    True
    """
    if _DONE:
        return _DONE[0]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            mallopt = ctypes.CDLL(None).mallopt
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            ok = mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
            ok = ok and mallopt(M_TRIM_THRESHOLD, 2 * int(mmap_threshold)) == 1
        except (OSError, AttributeError):  # no glibc mallopt
            ok = False
    _DONE.append(ok)
    return ok
