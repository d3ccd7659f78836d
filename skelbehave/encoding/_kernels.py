"""numba kernels of the encoders (private).

Every kernel works on all sequences at once (rows concatenated, with row
offsets) and runs ``prange`` over sequences, so there is no Python loop per
sequence. Each kernel has a plain NumPy reference in :mod:`._reference` that
the tests compare it with.

Temporal pyramid: level ``v`` (0-based) cuts a sequence into ``2**v`` equal
cells of time; a row with relative time ``t`` in (0, 1) falls in cell
``min(floor(t * 2**v), 2**v - 1)``. Cells of all levels are laid out level by
level: ``[whole, half 1, half 2, quarter 1, ..., quarter 4, ...]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "vlad_accumulate",
    "vlad_encode",
    "nearest_centres",
    "vlad_encode_windows",
    "bow_accumulate",
    "fisher_accumulate",
    "n_cells",
    "total_variance",
    "candidate_sq_distances",
]


def n_cells(levels: int) -> int:
    """Number of pyramid cells for ``levels`` levels: 1 + 2 + 4 + ... ."""
    return (1 << levels) - 1


@njit(cache=True, inline="always")
def _nearest(Z, r, centres):
    best = -1
    best_d = np.inf
    k = Z.shape[1]
    for c in range(centres.shape[0]):
        d = 0.0
        for j in range(k):
            diff = Z[r, j] - centres[c, j]
            d += diff * diff
        if d < best_d:
            best_d = d
            best = c
    return best


@njit(cache=True, inline="always")
def _nearest_t(Z, r, CT, dist):
    """:func:`_nearest` with centres given transposed ``(k, l)``; ``dist`` is scratch of length ``l``."""
    k, l = CT.shape
    for c in range(l):
        dist[c] = 0.0
    for j in range(k):
        z = Z[r, j]
        for c in range(l):
            diff = z - CT[j, c]
            dist[c] += diff * diff
    best = -1
    best_d = np.inf
    for c in range(l):
        if dist[c] < best_d:
            best_d = dist[c]
            best = c
    return best


@njit(cache=True, inline="always")
def _row_has_nan(Z, r):
    """True when row ``r`` of ``Z`` holds a NaN (such rows are left out of every encoding)."""
    for j in range(Z.shape[1]):
        if np.isnan(Z[r, j]):
            return True
    return False


@njit(cache=True, inline="always")
def _cell(t, level):
    m = 1 << level
    c = math.floor(t * m)
    if c < 0:
        c = 0
    if c > m - 1:
        c = m - 1
    return c


@njit(cache=True, parallel=True)
def vlad_accumulate(Z, centres, offsets, rel_time, levels):
    """Sums of residuals to the nearest centre, per sequence, pyramid cell and centre.

    Returns ``(V, counts)``: ``V`` of shape ``(n, cells, l, k)`` and
    ``counts`` of shape ``(n, cells, l)`` (rows assigned to each centre).
    Rows with NaN are skipped.
    """
    n = offsets.shape[0] - 1
    l, k = centres.shape
    cells = (1 << levels) - 1
    V = np.zeros((n, cells, l, k))
    counts = np.zeros((n, cells, l))
    for s in prange(n):
        for r in range(offsets[s], offsets[s + 1]):
            if _row_has_nan(Z, r):
                continue
            c = _nearest(Z, r, centres)
            base = 0
            for v in range(levels):
                cell = base + _cell(rel_time[r], v)
                counts[s, cell, c] += 1.0
                for j in range(k):
                    V[s, cell, c, j] += Z[r, j] - centres[c, j]
                base += 1 << v
    return V, counts


@njit(cache=True, parallel=True)
def bow_accumulate(Z, centres, offsets, rel_time, levels):
    """Histogram of nearest-centre assignments per sequence and pyramid cell: ``(n, cells, l)``."""
    n = offsets.shape[0] - 1
    l = centres.shape[0]
    cells = (1 << levels) - 1
    H = np.zeros((n, cells, l))
    for s in prange(n):
        for r in range(offsets[s], offsets[s + 1]):
            if _row_has_nan(Z, r):
                continue
            c = _nearest(Z, r, centres)
            base = 0
            for v in range(levels):
                H[s, base + _cell(rel_time[r], v), c] += 1.0
                base += 1 << v
    return H


@njit(cache=True, parallel=True)
def fisher_accumulate(Z, means, sigmas, log_weights, offsets, rel_time, levels):
    """Fisher-vector statistics of a diagonal GMM per sequence and pyramid cell.

    Returns ``(S0, S1, S2)``: soft counts ``(n, cells, l)``, first-order
    ``sum γ (x-μ)/σ`` and second-order ``sum γ ((x-μ)²/σ² - 1)``, both
    ``(n, cells, l, k)``, and the number of rows per cell ``(n, cells)``.
    """
    n = offsets.shape[0] - 1
    l, k = means.shape
    cells = (1 << levels) - 1
    S0 = np.zeros((n, cells, l))
    S1 = np.zeros((n, cells, l, k))
    S2 = np.zeros((n, cells, l, k))
    rows = np.zeros((n, cells))
    log_norm = np.zeros(l)
    for c in range(l):
        acc = 0.0
        for j in range(k):
            acc += math.log(sigmas[c, j])
        log_norm[c] = log_weights[c] - acc - 0.5 * k * math.log(2.0 * math.pi)
    for s in prange(n):
        logp = np.empty(l)
        u = np.empty((l, k))
        for r in range(offsets[s], offsets[s + 1]):
            if _row_has_nan(Z, r):
                continue
            mx = -np.inf
            for c in range(l):
                q = 0.0
                for j in range(k):
                    d = (Z[r, j] - means[c, j]) / sigmas[c, j]
                    u[c, j] = d
                    q += d * d
                logp[c] = log_norm[c] - 0.5 * q
                if logp[c] > mx:
                    mx = logp[c]
            tot = 0.0
            for c in range(l):
                logp[c] = math.exp(logp[c] - mx)
                tot += logp[c]
            base = 0
            for v in range(levels):
                cell = base + _cell(rel_time[r], v)
                rows[s, cell] += 1.0
                for c in range(l):
                    g = logp[c] / tot
                    if g < 1e-8:
                        continue
                    S0[s, cell, c] += g
                    for j in range(k):
                        S1[s, cell, c, j] += g * u[c, j]
                        S2[s, cell, c, j] += g * (u[c, j] * u[c, j] - 1.0)
                base += 1 << v
    return S0, S1, S2, rows


@njit(cache=True)
def _normalise_into(V, power, intra, l2, scale, out, s, col0):
    """Power, intra and L2 normalisation of one item's residual sums ``V`` (cells, l, k) into ``out[s]``."""
    cells, l, k = V.shape
    for cell in range(cells):
        tot = 0.0
        for c in range(l):
            nrm = 0.0
            for j in range(k):
                x = V[cell, c, j]
                if power:
                    x = math.sqrt(x) if x >= 0 else -math.sqrt(-x)
                    V[cell, c, j] = x
                nrm += x * x
            if intra and nrm > 0:
                inv = 1.0 / math.sqrt(nrm)
                for j in range(k):
                    V[cell, c, j] *= inv
                nrm = 1.0
            tot += nrm
        f = scale
        if l2 and tot > 0:
            f = scale / math.sqrt(tot)
        o = col0 + cell * l * k
        for c in range(l):
            for j in range(k):
                out[s, o + c * k + j] = V[cell, c, j] * f


@njit(cache=True, parallel=True)
def vlad_encode(Z, centres, offsets, rel_time, levels, power, intra, l2, scale, out, col0):
    """VLAD with its normalisations in one pass, written into ``out[:, col0:col0 + cells*l*k]``.

    Per sequence: residual sums per pyramid cell and centre (as
    :func:`vlad_accumulate`), then signed square root (``power``), per-centre
    L2 (``intra``), per-cell L2 (``l2``), times ``scale``. No temporaries of
    the size of the whole output.
    """
    n = offsets.shape[0] - 1
    l, k = centres.shape
    cells = (1 << levels) - 1
    # centres transposed: the nearest-centre search runs over centres in the inner loop (SIMD lanes)
    # while each distance is still summed over dimensions in order, so the result equals _nearest's
    CT = np.ascontiguousarray(centres.T)
    for s in prange(n):
        V = np.zeros((cells, l, k))
        dist = np.empty(l)
        for r in range(offsets[s], offsets[s + 1]):
            if _row_has_nan(Z, r):
                continue
            c = _nearest_t(Z, r, CT, dist)
            base = 0
            for v in range(levels):
                cell = base + _cell(rel_time[r], v)
                for j in range(k):
                    V[cell, c, j] += Z[r, j] - centres[c, j]
                base += 1 << v
        _normalise_into(V, power, intra, l2, scale, out, s, col0)
    return out


@njit(cache=True, parallel=True)
def nearest_centres(Z, centres):
    """Index of the nearest centre of every row of ``Z`` (-1 for rows with NaN), as in :func:`vlad_encode`."""
    N = Z.shape[0]
    l = centres.shape[0]
    CT = np.ascontiguousarray(centres.T)
    out = np.empty(N, dtype=np.int64)
    chunk = 1024
    n_chunks = (N + chunk - 1) // chunk
    for b in prange(n_chunks):
        dist = np.empty(l)
        for r in range(b * chunk, min(N, (b + 1) * chunk)):
            if _row_has_nan(Z, r):
                out[r] = -1
            else:
                out[r] = _nearest_t(Z, r, CT, dist)
    return out


@njit(cache=True, parallel=True)
def vlad_encode_windows(Z, assign, centres, starts, stops, levels, power, intra, l2, scale, out, col0):
    """:func:`vlad_encode` of many windows of one row array, each window ``Z[starts[w]:stops[w]]``.

    The nearest centre of every row is given (``assign``, from
    :func:`nearest_centres`; -1 leaves a row out), so overlapping windows
    share the assignment instead of searching the codebook again: the cost
    per window is its rows times their dimension, plus the normalisation.
    A row's relative time is ``(r - start + 0.5) / (stop - start)``, as if
    each window were a sequence of its own, so the output equals
    :func:`vlad_encode` of the windows cut out as sequences.
    """
    n = starts.shape[0]
    l, k = centres.shape
    cells = (1 << levels) - 1
    for s in prange(n):
        V = np.zeros((cells, l, k))
        a = starts[s]
        length = stops[s] - a
        for r in range(a, stops[s]):
            c = assign[r]
            if c < 0:
                continue
            t = (r - a + 0.5) / length
            base = 0
            for v in range(levels):
                cell = base + _cell(t, v)
                for j in range(k):
                    V[cell, c, j] += Z[r, j] - centres[c, j]
                base += 1 << v
        _normalise_into(V, power, intra, l2, scale, out, s, col0)
    return out


@njit(cache=True)
def total_variance(X):
    """Sum over columns of the variance (ddof 0) of ``X`` (n, d), NaN entries ignored per column.

    Equals ``np.nansum(np.nanvar(X, axis=0))`` up to rounding (columns without
    any finite value add nothing), in two passes over the rows without
    temporaries of the size of ``X``.
    """
    n, d = X.shape
    tot = np.zeros(d)
    cnt = np.zeros(d)
    for r in range(n):
        for j in range(d):
            x = X[r, j]
            if not np.isnan(x):
                tot[j] += x
                cnt[j] += 1.0
    mean = np.zeros(d)
    for j in range(d):
        if cnt[j] > 0:
            mean[j] = tot[j] / cnt[j]
    ss = np.zeros(d)
    for r in range(n):
        for j in range(d):
            x = X[r, j]
            if not np.isnan(x):
                e = x - mean[j]
                ss[j] += e * e
    out = 0.0
    for j in range(d):
        if cnt[j] > 0:
            out += ss[j] / cnt[j]
    return out


@njit(cache=True, parallel=True, fastmath=True)
def candidate_sq_distances(X, cand, norms):
    """Squared distances (float32, ``(t, n)``) from rows ``X[cand]`` to every row of float32 ``X``.

    Computed as scikit-learn's float32 ``euclidean_distances`` does (float64
    ``-2 x.c + |c|^2 + |x|^2`` with the float64 squared norms ``norms``,
    rounded to float32, clipped at 0), but in one pass over ``X`` for all
    candidates. Used by the k-means++ seeding of the encoders.
    """
    n, k = X.shape
    t = cand.shape[0]
    C = np.empty((t, k))
    for i in range(t):
        for j in range(k):
            C[i, j] = X[cand[i], j]
    out = np.empty((t, n), dtype=np.float32)
    for r in prange(n):
        for i in range(t):
            dot = 0.0
            for j in range(k):
                dot += C[i, j] * X[r, j]
            d = np.float32(-2.0 * dot + norms[cand[i]] + norms[r])
            out[i, r] = d if d > 0 else np.float32(0.0)
    return out
