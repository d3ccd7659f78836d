"""Plain NumPy references of the numba kernels in :mod:`._kernels` (slow; for tests)."""

from __future__ import annotations

import numpy as np

__all__ = ["vlad_reference", "bow_reference", "fisher_reference", "cell_index"]


def cell_index(rel_time: np.ndarray, levels: int) -> np.ndarray:
    """Pyramid cell of every row for every level: ``(N, levels)`` global cell indices."""
    out = []
    base = 0
    for v in range(levels):
        m = 2**v
        out.append(base + np.clip(np.floor(rel_time * m).astype(np.int64), 0, m - 1))
        base += m
    return np.stack(out, axis=1) if out else np.zeros((len(rel_time), 0), dtype=np.int64)


def _valid_and_nearest(Z, centres):
    ok = ~np.isnan(Z).any(axis=1)
    d = ((np.nan_to_num(Z)[:, None, :] - centres[None]) ** 2).sum(-1)
    return ok, d.argmin(axis=1)


def vlad_reference(Z, centres, offsets, rel_time, levels):
    """NumPy version of :func:`._kernels.vlad_accumulate`."""
    n = len(offsets) - 1
    l, k = centres.shape
    cells = 2**levels - 1
    V = np.zeros((n, cells, l, k))
    C = np.zeros((n, cells, l))
    ok, nearest = _valid_and_nearest(Z, centres)
    cidx = cell_index(rel_time, levels)
    seq = np.repeat(np.arange(n), np.diff(offsets))
    for r in np.flatnonzero(ok):
        for cell in cidx[r]:
            V[seq[r], cell, nearest[r]] += Z[r] - centres[nearest[r]]
            C[seq[r], cell, nearest[r]] += 1
    return V, C


def bow_reference(Z, centres, offsets, rel_time, levels):
    """NumPy version of :func:`._kernels.bow_accumulate`."""
    return vlad_reference(Z, centres, offsets, rel_time, levels)[1]


def fisher_reference(Z, means, sigmas, log_weights, offsets, rel_time, levels):
    """NumPy version of :func:`._kernels.fisher_accumulate`."""
    n = len(offsets) - 1
    l, k = means.shape
    cells = 2**levels - 1
    S0 = np.zeros((n, cells, l))
    S1 = np.zeros((n, cells, l, k))
    S2 = np.zeros((n, cells, l, k))
    rows = np.zeros((n, cells))
    ok = ~np.isnan(Z).any(axis=1)
    u = (Z[:, None, :] - means[None]) / sigmas[None]  # (N, l, k)
    logp = (
        log_weights[None] - np.log(sigmas).sum(1)[None] - 0.5 * k * np.log(2 * np.pi) - 0.5 * (u**2).sum(-1)
    )
    logp -= logp.max(axis=1, keepdims=True)
    g = np.exp(logp)
    g /= g.sum(axis=1, keepdims=True)
    cidx = cell_index(rel_time, levels)
    seq = np.repeat(np.arange(n), np.diff(offsets))
    for r in np.flatnonzero(ok):
        gr = np.where(g[r] < 1e-8, 0.0, g[r])
        for cell in cidx[r]:
            rows[seq[r], cell] += 1
            S0[seq[r], cell] += gr
            S1[seq[r], cell] += gr[:, None] * u[r]
            S2[seq[r], cell] += gr[:, None] * (u[r] ** 2 - 1)
    return S0, S1, S2, rows
