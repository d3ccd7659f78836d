"""numba kernels for joint features (private).

Every kernel here has a plain NumPy twin in :mod:`skelbehave.features._reference`
and the tests compare the two. The kernels work on a whole ragged collection:
all sequences concatenated along the frame axis, ``offsets`` giving the start
of each sequence, so there is no Python loop per sequence.

Operation codes of :func:`fused_features` (one row of ``ops`` = ``(kind, i, j)``,
each writing ``C`` output columns):

* ``OP_POS``  (0): ``M_s (x_i(r) - root(r))``         root-relative position
* ``OP_PAIR`` (1): ``M_s (x_i(r) - x_j(r))``          pairwise difference
* ``OP_DISP`` (2): ``M_s (x_i(hi) - x_i(lo)) * fps / (hi - lo)``   displacement
* ``OP_ABS``  (3): ``M_s x_i(r)``                     scaled/rotated, not translated

``M_s`` is the per-sequence linear map (body-size scale times rotation about
the vertical axis); ``lo = max(r - D, start)``, ``hi = min(r + D, end - 1)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

OP_POS = 0
OP_PAIR = 1
OP_DISP = 2
OP_ABS = 3

SIZE_NONE = 0
SIZE_SETS = 1
SIZE_SPREAD = 2


@njit(cache=True, inline="always")
def _set_mean(X, t, idx, c):
    """NaN-aware mean of coordinate ``c`` over joints ``idx`` at frame ``t``."""
    s = 0.0
    n = 0
    for k in range(idx.shape[0]):
        v = X[t, idx[k], c]
        if v == v:
            s += v
            n += 1
    if n == 0:
        return np.nan
    return s / n


@njit(cache=True)
def _seq_params(X, a, b, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert, M):
    """Fill ``M`` (C, C) with scale * rotation for frames ``a:b``."""
    C = X.shape[2]
    J = X.shape[1]
    scale = 1.0
    if size_mode != SIZE_NONE and b > a:
        buf = np.empty(b - a)
        root = np.empty(C)
        nv = 0
        for t in range(a, b):
            d2 = 0.0
            if size_mode == SIZE_SETS:
                for c in range(C):
                    diff = _set_mean(X, t, size_a, c) - _set_mean(X, t, size_b, c)
                    d2 += diff * diff
                d = np.sqrt(d2)
            else:
                acc = 0.0
                nj = 0
                for c in range(C):
                    root[c] = _set_mean(X, t, root_idx, c)
                for j in range(J):
                    q = 0.0
                    for c in range(C):
                        diff = X[t, j, c] - root[c]
                        q += diff * diff
                    if q == q:
                        acc += q
                        nj += 1
                d = np.sqrt(acc / nj) if nj > 0 else np.nan
            if d == d:
                buf[nv] = d
                nv += 1
        if nv > 0:
            med = np.median(buf[:nv])
            if med > 0.0:
                scale = 1.0 / med
    for c in range(C):
        for d in range(C):
            M[c, d] = 0.0
        M[c, c] = scale
    if rotate and b > a:
        if C == 2:
            h1 = 0
            h2 = 1
        else:
            h1 = 0 if vert != 0 else 1
            h2 = 2 if vert != 2 else 1
        f1 = 0.0
        f2 = 0.0
        for t in range(a, b):
            g1 = _set_mean(X, t, face_r, h1) - _set_mean(X, t, face_l, h1)
            g2 = _set_mean(X, t, face_r, h2) - _set_mean(X, t, face_l, h2)
            if g1 == g1 and g2 == g2:
                f1 += g1
                f2 += g2
        norm = np.sqrt(f1 * f1 + f2 * f2)
        if norm > 0.0:
            cs = f1 / norm
            sn = f2 / norm
            M[h1, h1] = scale * cs
            M[h1, h2] = scale * sn
            M[h2, h1] = -scale * sn
            M[h2, h2] = scale * cs


@njit(cache=True, parallel=True)
def normalization_params(X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert):
    """Per-sequence linear maps ``(n, C, C)`` (scale times rotation)."""
    n = offsets.shape[0] - 1
    C = X.shape[2]
    out = np.empty((n, C, C))
    for s in prange(n):
        _seq_params(
            X,
            offsets[s],
            offsets[s + 1],
            root_idx,
            size_a,
            size_b,
            size_mode,
            face_l,
            face_r,
            rotate,
            vert,
            out[s],
        )
    return out


@njit(cache=True, inline="always")
def _put(out, k, col, x, fill):
    if x != x:
        x = fill
    out[k, col] = x


@njit(cache=True, parallel=True)
def fused_features(
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
    out,
):
    """Normalisation + position + displacement for key rows, in one pass.

    ``rows`` are global frame indices (into ``X``) grouped by sequence with
    ``key_offsets``; ``rate[s]`` is the frame rate of sequence ``s`` (1 for
    per-frame units). Output row ``k`` describes frame ``rows[k]``; op ``o``
    writes columns ``o * C : (o + 1) * C``.
    """
    n = offsets.shape[0] - 1
    C = X.shape[2]
    # split the op list by kind (no branch per op in the frame loop)
    n_ops = ops.shape[0]
    cnt = np.zeros(4, dtype=np.int64)
    for o in range(n_ops):
        cnt[ops[o, 0]] += 1
    pos_i = np.empty(cnt[OP_POS], dtype=np.int64)
    pos_c = np.empty(cnt[OP_POS], dtype=np.int64)
    pair_i = np.empty(cnt[OP_PAIR], dtype=np.int64)
    pair_j = np.empty(cnt[OP_PAIR], dtype=np.int64)
    pair_c = np.empty(cnt[OP_PAIR], dtype=np.int64)
    disp_i = np.empty(cnt[OP_DISP], dtype=np.int64)
    disp_c = np.empty(cnt[OP_DISP], dtype=np.int64)
    abs_i = np.empty(cnt[OP_ABS], dtype=np.int64)
    abs_c = np.empty(cnt[OP_ABS], dtype=np.int64)
    fillc = np.zeros(4, dtype=np.int64)
    for o in range(n_ops):
        kind = ops[o, 0]
        q = fillc[kind]
        fillc[kind] += 1
        if kind == OP_POS:
            pos_i[q] = ops[o, 1]
            pos_c[q] = o * C
        elif kind == OP_PAIR:
            pair_i[q] = ops[o, 1]
            pair_j[q] = ops[o, 2]
            pair_c[q] = o * C
        elif kind == OP_DISP:
            disp_i[q] = ops[o, 1]
            disp_c[q] = o * C
        else:
            abs_i[q] = ops[o, 1]
            abs_c[q] = o * C
    for s in prange(n):
        a = offsets[s]
        b = offsets[s + 1]
        M = np.zeros((3, 3))
        if normalize:
            _seq_params(X, a, b, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert, M[:C, :C])
        else:
            for c in range(C):
                M[c, c] = 1.0
        m00 = M[0, 0]
        m01 = M[0, 1]
        m02 = M[0, 2]
        m10 = M[1, 0]
        m11 = M[1, 1]
        m12 = M[1, 2]
        m20 = M[2, 0]
        m21 = M[2, 1]
        m22 = M[2, 2]
        fps = rate[s]
        for k in range(key_offsets[s], key_offsets[s + 1]):
            r = rows[k]
            lo = max(r - step, a)
            hi = min(r + step, b - 1)
            span = hi - lo
            ds = fps / span if span > 0 else 0.0
            if C == 3:
                rx = _set_mean(X, r, root_idx, 0)
                ry = _set_mean(X, r, root_idx, 1)
                rz = _set_mean(X, r, root_idx, 2)
                for q in range(pos_i.shape[0]):
                    i = pos_i[q]
                    col = pos_c[q]
                    vx = X[r, i, 0] - rx
                    vy = X[r, i, 1] - ry
                    vz = X[r, i, 2] - rz
                    _put(out, k, col, m00 * vx + m01 * vy + m02 * vz, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy + m12 * vz, fill)
                    _put(out, k, col + 2, m20 * vx + m21 * vy + m22 * vz, fill)
                for q in range(pair_i.shape[0]):
                    i = pair_i[q]
                    j = pair_j[q]
                    col = pair_c[q]
                    vx = X[r, i, 0] - X[r, j, 0]
                    vy = X[r, i, 1] - X[r, j, 1]
                    vz = X[r, i, 2] - X[r, j, 2]
                    _put(out, k, col, m00 * vx + m01 * vy + m02 * vz, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy + m12 * vz, fill)
                    _put(out, k, col + 2, m20 * vx + m21 * vy + m22 * vz, fill)
                for q in range(disp_i.shape[0]):
                    i = disp_i[q]
                    col = disp_c[q]
                    vx = (X[hi, i, 0] - X[lo, i, 0]) * ds
                    vy = (X[hi, i, 1] - X[lo, i, 1]) * ds
                    vz = (X[hi, i, 2] - X[lo, i, 2]) * ds
                    _put(out, k, col, m00 * vx + m01 * vy + m02 * vz, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy + m12 * vz, fill)
                    _put(out, k, col + 2, m20 * vx + m21 * vy + m22 * vz, fill)
                for q in range(abs_i.shape[0]):
                    i = abs_i[q]
                    col = abs_c[q]
                    vx = X[r, i, 0]
                    vy = X[r, i, 1]
                    vz = X[r, i, 2]
                    _put(out, k, col, m00 * vx + m01 * vy + m02 * vz, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy + m12 * vz, fill)
                    _put(out, k, col + 2, m20 * vx + m21 * vy + m22 * vz, fill)
            else:
                rx = _set_mean(X, r, root_idx, 0)
                ry = _set_mean(X, r, root_idx, 1)
                for q in range(pos_i.shape[0]):
                    i = pos_i[q]
                    col = pos_c[q]
                    vx = X[r, i, 0] - rx
                    vy = X[r, i, 1] - ry
                    _put(out, k, col, m00 * vx + m01 * vy, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy, fill)
                for q in range(pair_i.shape[0]):
                    i = pair_i[q]
                    j = pair_j[q]
                    col = pair_c[q]
                    vx = X[r, i, 0] - X[r, j, 0]
                    vy = X[r, i, 1] - X[r, j, 1]
                    _put(out, k, col, m00 * vx + m01 * vy, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy, fill)
                for q in range(disp_i.shape[0]):
                    i = disp_i[q]
                    col = disp_c[q]
                    vx = (X[hi, i, 0] - X[lo, i, 0]) * ds
                    vy = (X[hi, i, 1] - X[lo, i, 1]) * ds
                    _put(out, k, col, m00 * vx + m01 * vy, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy, fill)
                for q in range(abs_i.shape[0]):
                    i = abs_i[q]
                    col = abs_c[q]
                    vx = X[r, i, 0]
                    vy = X[r, i, 1]
                    _put(out, k, col, m00 * vx + m01 * vy, fill)
                    _put(out, k, col + 1, m10 * vx + m11 * vy, fill)
    return out


@njit(cache=True, parallel=True)
def motion_energy(X, offsets):
    """Per-frame motion energy: sum over joints of the squared central difference.

    Missing joints are skipped; one-sided differences at the sequence edges.
    """
    N, J, C = X.shape
    n = offsets.shape[0] - 1
    e = np.zeros(N)
    for s in prange(n):
        a = offsets[s]
        b = offsets[s + 1]
        for t in range(a, b):
            lo = max(t - 1, a)
            hi = min(t + 1, b - 1)
            acc = 0.0
            for j in range(J):
                q = 0.0
                for c in range(C):
                    diff = X[hi, j, c] - X[lo, j, c]
                    q += diff * diff
                if q == q:
                    acc += q
            e[t] = acc
    return e


@njit(cache=True, parallel=True)
def top_k_rows(energy, offsets, k, key_offsets):
    """Global indices of the ``k`` highest-energy frames of each sequence, in time order.

    Ties go to the earlier frame. ``key_offsets`` must hold ``cumsum(min(k, T))``.
    """
    n = offsets.shape[0] - 1
    rows = np.empty(key_offsets[-1], dtype=np.int64)
    for s in prange(n):
        a = offsets[s]
        b = offsets[s + 1]
        m = key_offsets[s + 1] - key_offsets[s]
        if m == 0:
            continue
        order = np.argsort(-energy[a:b], kind="mergesort")
        keep = np.sort(order[:m])
        for q in range(m):
            rows[key_offsets[s] + q] = a + keep[q]
    return rows
