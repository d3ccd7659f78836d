"""Plain, vectorised NumPy references of the numba kernels in ``_kernels``.

Written as a careful NumPy user would: whole-collection array operations on
the concatenated ``(N, J, C)`` array and its ``offsets``, built on the plain
definitions of :mod:`skelbehave.features.kinematics` (body scale, central
difference, acceleration). They define what the kernels must compute; the
tests compare both.
"""

from __future__ import annotations

import numpy as np

from ._kernels import OP_ABS, OP_ACC, OP_DISP, OP_PAIR, OP_POS, SIZE_NONE, SIZE_SETS
from .kinematics import body_scale

__all__ = [
    "body_scale_ragged_numpy",
    "central_difference_ragged_numpy",
    "fused_features_numpy",
    "motion_energy_numpy",
    "normalization_params_numpy",
    "top_k_rows_numpy",
]


def _seq_ids(offsets: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _set_mean(X: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """NaN-aware mean over joints ``idx``: (N, C), NaN where none is present."""
    sub = X[:, idx, :]
    ok = ~np.isnan(sub)
    cnt = ok.sum(axis=1)
    tot = np.where(ok, sub, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tot / cnt


def _seq_nanmean(values: np.ndarray, seq: np.ndarray, n: int) -> np.ndarray:
    """Per-sequence sum of the valid rows of ``values`` (N, k) (rows with NaN skipped)."""
    ok = ~np.isnan(values).any(axis=1)
    return np.stack(
        [np.bincount(seq[ok], weights=values[ok, c], minlength=n) for c in range(values.shape[1])], 1
    )


def normalization_params_numpy(X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert):
    """Per-sequence ``(n, C, C)`` maps: body-size scale times rotation (see ``_kernels``)."""
    N, C = X.shape[0], X.shape[2]
    n = len(offsets) - 1
    seq = _seq_ids(offsets)
    scale = np.ones(n)
    if size_mode != SIZE_NONE and N:
        # kinematics.body_scale, vectorised over the collection
        if size_mode == SIZE_SETS:
            d = np.sqrt(((_set_mean(X, size_a) - _set_mean(X, size_b)) ** 2).sum(axis=1))
        else:
            root = _set_mean(X, root_idx)
            dist = np.sqrt(((X - root[:, None, :]) ** 2).sum(axis=2))  # (N, J), NaN where missing
            ok = ~np.isnan(dist)
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.where(ok, dist, 0.0).sum(axis=1) / ok.sum(axis=1)
        d = np.where(np.isfinite(d) & (d > 0), d, np.nan)
        valid = ~np.isnan(d)
        cnt = np.bincount(seq, weights=valid, minlength=n).astype(np.int64)
        # sort by (sequence, distance); NaN sorts last inside each sequence
        order = np.lexsort((d, seq))
        ds = d[order]
        start = offsets[:-1]
        has = cnt > 0
        lo = start[has] + (cnt[has] - 1) // 2
        hi = start[has] + cnt[has] // 2
        scale[has] = 1.0 / (0.5 * (ds[lo] + ds[hi]))
    M = np.zeros((n, C, C))
    M[:, np.arange(C), np.arange(C)] = scale[:, None]
    if rotate and N:
        if C == 2:
            h1, h2 = 0, 1
        else:
            h1 = 0 if vert != 0 else 1
            h2 = 2 if vert != 2 else 1
        f = _set_mean(X, face_r) - _set_mean(X, face_l)
        fs = _seq_nanmean(f[:, [h1, h2]], seq, n)
        norm = np.hypot(fs[:, 0], fs[:, 1])
        ok = norm > 0
        cs = np.where(ok, fs[:, 0] / np.where(ok, norm, 1.0), 1.0)
        sn = np.where(ok, fs[:, 1] / np.where(ok, norm, 1.0), 0.0)
        M[:, h1, h1] = scale * cs
        M[:, h1, h2] = scale * sn
        M[:, h2, h1] = -scale * sn
        M[:, h2, h2] = scale * cs
    return M


def fused_features_numpy(
    X,
    offsets,
    rows,
    key_offsets,
    root_idx,
    size_a,
    size_b,
    size_mode,
    face_l,
    face_r,
    rotate,
    vert,
    normalize,
    ops,
    step,
    rate,
    fill,
):
    """NumPy twin of :func:`skelbehave.features._kernels.fused_features` (returns ``out``)."""
    C = X.shape[2]
    n = len(offsets) - 1
    n_key = len(rows)
    if normalize:
        M = normalization_params_numpy(
            X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert
        )
    else:
        M = np.broadcast_to(np.eye(C), (n, C, C))
    # the map is linear: apply it once to every frame, then take differences
    Y = np.matmul(X, M[_seq_ids(offsets)].transpose(0, 2, 1))  # (N, J, C)
    kinds, ii, jj = ops[:, 0], ops[:, 1], ops[:, 2]
    V = np.empty((n_key, len(ops), C))
    P = Y[rows]  # (K, J, C)
    sel = kinds == OP_POS
    if sel.any():
        root = _set_mean(P, root_idx)
        V[:, sel] = P[:, ii[sel]] - root[:, None, :]
    sel = kinds == OP_PAIR
    if sel.any():
        V[:, sel] = P[:, ii[sel]] - P[:, jj[sel]]
    sel = kinds == OP_ABS
    if sel.any():
        V[:, sel] = P[:, ii[sel]]
    sel = kinds == OP_DISP
    if sel.any():
        V[:, sel] = central_difference_ragged_numpy(Y[:, ii[sel]], offsets, step, rate)[rows]
    sel = kinds == OP_ACC
    if sel.any():  # the central difference of the velocity descriptors (missing ones count as fill)
        vel = central_difference_ragged_numpy(Y[:, ii[sel]], offsets, step, rate)
        if not np.isnan(fill):
            vel[np.isnan(vel)] = fill
        V[:, sel] = central_difference_ragged_numpy(vel, offsets, step, rate)[rows]
    out = V.reshape(n_key, len(ops) * C)
    if not np.isnan(fill):
        out[np.isnan(out)] = fill
    return out


def motion_energy_numpy(X, offsets):
    """NumPy twin of :func:`skelbehave.features._kernels.motion_energy`."""
    q = (central_difference_ragged_numpy(X, offsets, 1) ** 2).sum(axis=2)
    return np.where(np.isnan(q), 0.0, q).sum(axis=1)


def top_k_rows_numpy(energy, offsets, k, key_offsets):
    """NumPy twin of :func:`skelbehave.features._kernels.top_k_rows`."""
    N = len(energy)
    seq = _seq_ids(offsets)
    # stable: by sequence, then energy descending, then time
    order = np.lexsort((np.arange(N), -energy, seq))
    rank = np.arange(N) - offsets[:-1][seq]  # rank of order[p] inside its sequence
    keep = order[rank < k]
    return np.sort(keep)


def central_difference_ragged_numpy(x, offsets, step, rate=None):
    """NumPy twin of :func:`skelbehave.features.kinematics.central_difference_ragged`."""
    a = np.asarray(x, dtype=np.float64)
    off = np.asarray(offsets, dtype=np.int64)
    n = len(off) - 1
    seq = _seq_ids(off)
    t = np.arange(a.shape[0])
    lo = np.maximum(t - int(step), off[:-1][seq])
    hi = np.minimum(t + int(step), off[1:][seq] - 1)
    span = hi - lo
    r = np.ones(n) if rate is None else np.broadcast_to(np.asarray(rate, dtype=np.float64), (n,))
    f = np.where(span > 0, r[seq] / np.maximum(span, 1), 0.0)
    return (a[hi] - a[lo]) * f.reshape((-1,) + (1,) * (a.ndim - 1))


def body_scale_ragged_numpy(position, offsets, layout):
    """NumPy twin of :func:`skelbehave.features.kinematics.body_scale_ragged` (per-sequence definition)."""
    X = np.asarray(position, dtype=np.float64)
    off = np.asarray(offsets, dtype=np.int64)
    return np.array([body_scale(X[off[i] : off[i + 1]], layout) for i in range(len(off) - 1)])
