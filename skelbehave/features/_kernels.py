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
* ``OP_ACC``  (4): central difference of the ``OP_DISP`` values of joint ``i``
  (NaN velocities count as ``fill``): the acceleration

``M_s`` is the per-sequence linear map (body-size scale times rotation about
the vertical axis); ``lo = max(r - D, start)``, ``hi = min(r + D, end - 1)``.
Body scale, root, central difference and acceleration are those of
:mod:`skelbehave.features.kinematics` (the numba helpers ``_nb_*`` there).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

from .kinematics import _nb_body_scale, _nb_bounds
from .kinematics import _nb_set_mean as _set_mean

OP_POS = 0
OP_PAIR = 1
OP_DISP = 2
OP_ABS = 3
OP_ACC = 4

SIZE_NONE = 0
SIZE_SETS = 1
SIZE_SPREAD = 2


@njit(cache=True)
def _seq_params(X, a, b, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert, M):
    """Fill ``M`` (C, C) with scale * rotation for frames ``a:b``.

    The scale is ``1 / body_scale`` (:func:`skelbehave.features.kinematics.body_scale`).
    """
    C = X.shape[2]
    scale = 1.0
    if size_mode != SIZE_NONE and b > a:
        scale = 1.0 / _nb_body_scale(X, a, b, root_idx, size_a, size_b, size_mode == SIZE_SETS)
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


def _params_impl(X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert):
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
def _filled(x, fill):
    return fill if x != x else x


@njit(cache=True, inline="always")
def _put(out, k, col, x, fill):
    if x != x:
        x = fill
    out[k, col] = x


@njit(cache=True)
def _fused_seq(
    s,
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
    pos_i,
    pos_c,
    pair_i,
    pair_j,
    pair_c,
    disp_i,
    disp_c,
    abs_i,
    abs_c,
    acc_i,
    acc_c,
    step,
    rate,
    fill,
    out,
):
    """Descriptor rows of sequence ``s`` (see :func:`fused_features`)."""
    C = X.shape[2]
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
        lo, hi, inv = _nb_bounds(r, step, a, b)
        ds = fps * inv
        # acceleration: the central difference of the velocity descriptors (NaN -> fill) at lo and hi
        lo_lo, lo_hi, lo_inv = _nb_bounds(lo, step, a, b)
        hi_lo, hi_hi, hi_inv = _nb_bounds(hi, step, a, b)
        dl = fps * lo_inv
        dh = fps * hi_inv
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
            for q in range(acc_i.shape[0]):
                i = acc_i[q]
                col = acc_c[q]
                ux = (X[hi_hi, i, 0] - X[hi_lo, i, 0]) * dh
                uy = (X[hi_hi, i, 1] - X[hi_lo, i, 1]) * dh
                uz = (X[hi_hi, i, 2] - X[hi_lo, i, 2]) * dh
                wx = (X[lo_hi, i, 0] - X[lo_lo, i, 0]) * dl
                wy = (X[lo_hi, i, 1] - X[lo_lo, i, 1]) * dl
                wz = (X[lo_hi, i, 2] - X[lo_lo, i, 2]) * dl
                hv = _filled(m00 * ux + m01 * uy + m02 * uz, fill)
                a0 = hv - _filled(m00 * wx + m01 * wy + m02 * wz, fill)
                hv = _filled(m10 * ux + m11 * uy + m12 * uz, fill)
                a1 = hv - _filled(m10 * wx + m11 * wy + m12 * wz, fill)
                hv = _filled(m20 * ux + m21 * uy + m22 * uz, fill)
                a2 = hv - _filled(m20 * wx + m21 * wy + m22 * wz, fill)
                _put(out, k, col, a0 * ds, fill)
                _put(out, k, col + 1, a1 * ds, fill)
                _put(out, k, col + 2, a2 * ds, fill)
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
            for q in range(acc_i.shape[0]):
                i = acc_i[q]
                col = acc_c[q]
                ux = (X[hi_hi, i, 0] - X[hi_lo, i, 0]) * dh
                uy = (X[hi_hi, i, 1] - X[hi_lo, i, 1]) * dh
                wx = (X[lo_hi, i, 0] - X[lo_lo, i, 0]) * dl
                wy = (X[lo_hi, i, 1] - X[lo_lo, i, 1]) * dl
                a0 = _filled(m00 * ux + m01 * uy, fill) - _filled(m00 * wx + m01 * wy, fill)
                a1 = _filled(m10 * ux + m11 * uy, fill) - _filled(m10 * wx + m11 * wy, fill)
                _put(out, k, col, a0 * ds, fill)
                _put(out, k, col + 1, a1 * ds, fill)


def _fused_impl(
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
    pos_i,
    pos_c,
    pair_i,
    pair_j,
    pair_c,
    disp_i,
    disp_c,
    abs_i,
    abs_c,
    acc_i,
    acc_c,
    step,
    rate,
    fill,
    out,
):
    for s in prange(offsets.shape[0] - 1):
        _fused_seq(
            s,
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
            pos_i,
            pos_c,
            pair_i,
            pair_j,
            pair_c,
            disp_i,
            disp_c,
            abs_i,
            abs_c,
            acc_i,
            acc_c,
            step,
            rate,
            fill,
            out,
        )
    return out


def _energy_impl(X, offsets):
    N, J, C = X.shape
    e = np.zeros(N)
    for s in prange(offsets.shape[0] - 1):
        a = offsets[s]
        b = offsets[s + 1]
        for t in range(a, b):
            lo, hi, inv = _nb_bounds(t, 1, a, b)
            acc = 0.0
            for j in range(J):
                q = 0.0
                for c in range(C):
                    diff = (X[hi, j, c] - X[lo, j, c]) * inv
                    q += diff * diff
                if q == q:
                    acc += q
            e[t] = acc
    return e


def _top_k_impl(energy, offsets, k, key_offsets):
    rows = np.empty(key_offsets[-1], dtype=np.int64)
    for s in prange(offsets.shape[0] - 1):
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


def _variant(fn, suffix: str):
    """A copy of ``fn`` under its own qualified name, so that numba caches it separately."""
    g = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    g.__qualname__ = fn.__qualname__ + suffix
    g.__doc__ = fn.__doc__
    return g


# Each driver exists twice: serial (one thread; no threading-layer start-up,
# faster to load from the cache) and parallel (prange over sequences). They
# need distinct names: numba's cache key does not include ``parallel``.
_params_serial = njit(cache=True)(_variant(_params_impl, "_serial"))
_params_parallel = njit(cache=True, parallel=True)(_variant(_params_impl, "_parallel"))
_fused_serial = njit(cache=True)(_variant(_fused_impl, "_serial"))
_fused_parallel = njit(cache=True, parallel=True)(_variant(_fused_impl, "_parallel"))
_energy_serial = njit(cache=True)(_variant(_energy_impl, "_serial"))
_energy_parallel = njit(cache=True, parallel=True)(_variant(_energy_impl, "_parallel"))
_top_k_serial = njit(cache=True)(_variant(_top_k_impl, "_serial"))
_top_k_parallel = njit(cache=True, parallel=True)(_variant(_top_k_impl, "_parallel"))


def _split_ops(ops: np.ndarray, C: int):
    kinds = ops[:, 0]
    cols = np.arange(len(ops), dtype=np.int64) * C
    parts = []
    for kind in (OP_POS, OP_PAIR, OP_DISP, OP_ABS, OP_ACC):
        sel = kinds == kind
        parts.append(np.ascontiguousarray(ops[sel, 1]))
        if kind == OP_PAIR:
            parts.append(np.ascontiguousarray(ops[sel, 2]))
        parts.append(np.ascontiguousarray(cols[sel]))
    return parts


def normalization_params(
    X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert, parallel=False
):
    """Per-sequence linear maps ``(n, C, C)`` (scale times rotation)."""
    fn = _params_parallel if parallel else _params_serial
    return fn(X, offsets, root_idx, size_a, size_b, size_mode, face_l, face_r, rotate, vert)


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
    parallel=False,
):
    """Normalisation + position + displacement for key rows, in one pass.

    ``rows`` are global frame indices (into ``X``) grouped by sequence with
    ``key_offsets``; ``rate[s]`` is the frame rate of sequence ``s`` (1 for
    per-frame units). Output row ``k`` describes frame ``rows[k]``; op ``o``
    writes columns ``o * C : (o + 1) * C``. Runs in place on ``out``.
    """
    fn = _fused_parallel if parallel else _fused_serial
    return fn(
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
        *_split_ops(ops, X.shape[2]),
        step,
        rate,
        fill,
        out,
    )


def motion_energy(X, offsets, parallel=False):
    """Per-frame motion energy: sum over joints of the squared central difference (step 1).

    Missing joints are skipped; one-sided differences at the sequence edges
    (:func:`skelbehave.features.kinematics.central_difference`).
    """
    return (_energy_parallel if parallel else _energy_serial)(X, offsets)


def top_k_rows(energy, offsets, k, key_offsets, parallel=False):
    """Global indices of the ``k`` highest-energy frames of each sequence, in time order.

    Ties go to the earlier frame. ``key_offsets`` must hold ``cumsum(min(k, T))``.
    """
    return (_top_k_parallel if parallel else _top_k_serial)(energy, offsets, k, key_offsets)
