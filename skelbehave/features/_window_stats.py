"""numba kernel of :func:`skelbehave.features.frame.window_statistics` (private).

The plain NumPy twin is :func:`skelbehave.features.frame.window_statistics_reference`;
the tests compare the two. Prefix sums of the features, their squares and the
count of finite values are taken once (float64); every window then reads two
rows of them per interval, so the cost is O(windows x features x intervals)
whatever the window length, and the output is written once, in float32.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def prefix_sums(F):  # pragma: no cover - compiled
    """Prefix sums (N + 1, d) of finite values, their squares (float64) and their count (int64)."""
    N, d = F.shape
    S = np.zeros((N + 1, d))
    Q = np.zeros((N + 1, d))
    C = np.zeros((N + 1, d), dtype=np.int64)
    for i in range(N):
        for j in range(d):
            v = np.float64(F[i, j])
            if np.isfinite(v):
                S[i + 1, j] = S[i, j] + v
                Q[i + 1, j] = Q[i, j] + v * v
                C[i + 1, j] = C[i, j] + 1
            else:
                S[i + 1, j] = S[i, j]
                Q[i + 1, j] = Q[i, j]
                C[i + 1, j] = C[i, j]
    return S, Q, C


@njit(cache=True, nogil=True)
def window_stats_kernel(F, S, Q, C, lo, hi, kind, col, center, center_col, out):  # pragma: no cover
    """Fill ``out`` (n_windows, width) with the window descriptors.

    Interval ``k`` of window ``i`` is ``[lo[k, i], hi[k, i])`` (global frame
    rows); its values go to the columns from ``col[k]`` on. ``kind[k]``:
    0 = the window itself (mean, then std; it comes first), 1 = a pyramid
    part (mean minus the window mean), 2 = an extra window (mean, then std).
    The centre frame's features go to the columns from ``center_col`` on.
    """
    n_int, n_w = lo.shape
    d = F.shape[1]
    m = np.empty(d)
    for i in range(n_w):
        for k in range(n_int):
            a = lo[k, i]
            b = hi[k, i]
            c0 = col[k]
            if kind[k] == 1:
                for j in range(d):
                    n = C[b, j] - C[a, j]
                    v = (S[b, j] - S[a, j]) / n if n > 0 else np.nan
                    out[i, c0 + j] = v - m[j]
                continue
            for j in range(d):
                n = C[b, j] - C[a, j]
                if n > 0:
                    mu = (S[b, j] - S[a, j]) / n
                    var = (Q[b, j] - Q[a, j]) / n - mu * mu
                    sd = np.sqrt(var) if var > 0 else 0.0
                else:
                    mu = np.nan
                    sd = np.nan
                if kind[k] == 0:
                    m[j] = mu
                out[i, c0 + j] = mu
                out[i, c0 + d + j] = sd
        c = center[i]
        for j in range(d):
            out[i, center_col + j] = F[c, j]
