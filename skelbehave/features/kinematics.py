"""Kinematics core: root, body scale, heading, central difference, velocity, acceleration.

The one definition of each quantity in the package. Clip features
(:class:`~skelbehave.features.JointFeatures`), window features and the CNN
inputs all compute them here (the numba kernels of
:mod:`skelbehave.features._kernels` call the ``_nb_*`` helpers below, which
implement the same formulas and are tested against the NumPy functions).

Definitions
-----------
root
    Per frame, the NaN-aware mean of the layout's root joints (NaN where all
    of them are missing).
body scale
    One number per sequence: the median over frames of the distance between
    the means of the layout's two ``size`` joint sets (hip centre to shoulder
    centre on Kinect); a layout without ``size`` uses, per frame, the mean
    distance of the present joints from the root. Frames where the distance
    is missing or 0 are skipped; no usable frame gives 1.0.
heading
    Per frame, the angle (radians, ``arctan2``) in the x-y plane of the
    body's forward direction: for 2-D poses of a layout with ``facing`` joints
    the left-to-right vector turned by +90 degrees; otherwise the vector from
    the mean of the other joints to the first joint (nose / head of animal
    layouts). Missing angles take the last known one (the first known one
    before it).
central difference (half-width ``step`` frames)
    ``(x[t + step] - x[t - step]) / (hi - lo)`` along axis 0 with
    ``lo = max(t - step, 0)`` and ``hi = min(t + step, T - 1)``: near the
    edges the indices are clipped to the sequence and the difference is
    divided by the actual span (one-sided). A one-frame sequence gives 0.
    NaN propagates. Never across sequences (see
    :func:`central_difference_ragged`).
velocity, acceleration
    ``velocity = central_difference(position, step) * fps`` and
    ``acceleration = central_difference(velocity, step) * fps`` (per second
    with ``fps``, per frame without).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..layouts import JointLayout, get_layout

__all__ = [
    "acceleration",
    "body_scale",
    "body_scale_ragged",
    "central_difference",
    "central_difference_ragged",
    "heading",
    "root_position",
    "velocity",
]


# --------------------------------------------------------------------------- helpers
def _nanmean(a: np.ndarray, axis) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN (no warning) where every value is missing."""
    ok = ~np.isnan(a)
    n = ok.sum(axis=axis)
    s = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _as_position(position) -> np.ndarray:
    p = np.asarray(position, dtype=np.float64)
    if p.ndim != 3:
        raise ParameterError(f"position must have shape (frames, joints, coords), got shape {p.shape}")
    return p


def _bounds_numpy(T: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lo``, ``hi`` and ``1 / (hi - lo)`` (0 where the span is 0) of every frame."""
    if int(step) < 1:
        raise ParameterError(f"step must be >= 1 frame, got {step}")
    t = np.arange(T)
    lo = np.maximum(t - int(step), 0)
    hi = np.minimum(t + int(step), T - 1)
    span = hi - lo
    inv = np.where(span > 0, 1.0 / np.maximum(span, 1), 0.0)
    return lo, hi, inv


# --------------------------------------------------------------------------- public NumPy definitions
def root_position(position, layout: str | JointLayout) -> np.ndarray:
    """Root trajectory: per frame, the NaN-aware mean of the layout's root joints.

    Parameters
    ----------
    position : array (T, J, C)
        Joint positions, NaN where missing.
    layout : str or JointLayout
        Gives the root joints (every joint when the layout names none).

    Returns
    -------
    ndarray, shape (T, C)
        NaN in frames where every root joint is missing.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((2, 17, 2)); p[:, 11] = [1.0, 2.0]; p[:, 12] = [3.0, 2.0]  # the two hips
    >>> root_position(p, "coco17").tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    p = _as_position(position)
    return _nanmean(p[:, get_layout(layout).root_indices], axis=1)


def _body_scale_idx(p: np.ndarray, root_idx, size_a, size_b, use_sets: bool, root=None) -> float:
    """:func:`body_scale` with the layout given as joint index arrays."""
    if use_sets:
        a = _nanmean(p[:, size_a], axis=1)
        b = _nanmean(p[:, size_b], axis=1)
        d = np.sqrt(((a - b) ** 2).sum(axis=1))
    else:
        r = _nanmean(p[:, root_idx], axis=1) if root is None else np.asarray(root, dtype=np.float64)
        d = _nanmean(np.sqrt(((p - r[:, None, :]) ** 2).sum(axis=2)), axis=1)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if len(d) else 1.0


def body_scale(position, layout: str | JointLayout, root=None) -> float:
    """Body size of one sequence (the unit of normalised positions and velocities).

    Parameters
    ----------
    position : array (T, J, C)
        Joint positions, NaN where missing.
    layout : str or JointLayout
        Gives the ``size`` joint sets (or the root joints).
    root : array (T, C), optional
        The root trajectory, when already computed (:func:`root_position`);
        used only by layouts without ``size`` joints.

    Returns
    -------
    float
        The median over frames of the distance between the means of the two
        ``size`` sets; without ``size``, the median over frames of the mean
        root-to-joint distance. Frames where it is NaN or 0 are skipped;
        1.0 when no frame is usable.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((3, 20, 3)); p[:, 2, 1] = [0.4, 0.5, 0.6]  # shoulder centre above hip centre
    >>> body_scale(p, "msr20")
    0.5
    >>> body_scale(np.full((3, 20, 3), np.nan), "msr20")
    1.0
    """
    p = _as_position(position)
    root_idx, size_a, size_b, use_sets = _layout_sets(get_layout(layout))
    return _body_scale_idx(p, root_idx, size_a, size_b, use_sets, root)


def heading(position, layout: str | JointLayout) -> np.ndarray:
    """Body heading per frame: radians in the x-y plane, gaps filled forward then backward.

    Parameters
    ----------
    position : array (T, J, C)
        Joint positions, NaN where missing.
    layout : str or JointLayout
        A 2-D pose of a layout with ``facing`` joints faces the left-to-right
        vector turned by +90 degrees; otherwise the body points from the mean
        of the other joints to the first joint.

    Returns
    -------
    ndarray, shape (T,)
        ``arctan2(forward_y, forward_x)``; a frame without a heading takes the
        last known one (frames before the first known one take the first);
        NaN everywhere when no frame has one.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.layouts import JointLayout
    >>> lay = JointLayout.from_names(["nose", "tail"])
    >>> p = np.array([[[1.0, 0.0], [0.0, 0.0]], [[np.nan, np.nan], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    >>> heading(p, lay).round(4).tolist()  # frame 1 keeps frame 0's heading
    [0.0, 0.0, 1.5708]
    """
    p = _as_position(position)
    lay = get_layout(layout)
    T, J, C = p.shape
    if C == 2 and lay.facing is not None and all(lay.facing):
        left = _nanmean(p[:, lay.indices(lay.facing[0])], axis=1)
        right = _nanmean(p[:, lay.indices(lay.facing[1])], axis=1)
        lr = right - left
        fwd = np.stack([-lr[:, 1], lr[:, 0]], axis=1)
    elif J > 1:
        fwd = p[:, 0, :2] - _nanmean(p[:, 1:, :2], axis=1)
    else:
        fwd = np.full((T, 2), np.nan)
    ang = np.arctan2(fwd[:, 1], fwd[:, 0])
    ok = np.isfinite(ang)
    if ok.any() and not ok.all():
        idx = np.where(ok, np.arange(T), 0)
        np.maximum.accumulate(idx, out=idx)
        first = int(np.flatnonzero(ok)[0])
        ang = np.where(np.arange(T) < first, ang[first], ang[idx])
    return ang


def central_difference(x, step: int = 1) -> np.ndarray:
    """Central difference along axis 0 with half-width ``step``, edges one-sided.

    ``(x[hi] - x[lo]) / (hi - lo)`` with ``lo = max(t - step, 0)`` and
    ``hi = min(t + step, T - 1)``: a derivative per frame everywhere, the
    actual span dividing near the edges. A one-frame input gives 0 (NaN stays
    NaN).

    Parameters
    ----------
    x : array (T, ...)
        Any values over frames.
    step : int
        Half-width in frames (>= 1).

    Returns
    -------
    ndarray of float64, same shape as ``x``

    Examples
    --------
    >>> import numpy as np
    >>> central_difference(np.array([0.0, 1.0, 4.0, 9.0, 16.0]), step=1).tolist()
    [1.0, 2.0, 4.0, 6.0, 7.0]
    >>> central_difference(np.array([0.0, 1.0, 4.0, 9.0, 16.0]), step=2).tolist()
    [2.0, 3.0, 4.0, 5.0, 6.0]
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        raise ParameterError("x needs a frame axis (axis 0)")
    lo, hi, inv = _bounds_numpy(a.shape[0], step)
    return (a[hi] - a[lo]) * inv.reshape((-1,) + (1,) * (a.ndim - 1))


def velocity(position, step: int = 2, fps: float | None = None) -> np.ndarray:
    """Velocity: :func:`central_difference` of ``position``, per second with ``fps``.

    Parameters
    ----------
    position : array (T, ...)
        Positions (any trailing shape, e.g. (T, J, C) or a root (T, C)).
    step : int
        Half-width of the central difference, frames.
    fps : float, optional
        Frames per second; ``None`` gives units per frame.

    Returns
    -------
    ndarray, same shape as ``position``

    Examples
    --------
    >>> import numpy as np
    >>> velocity(np.arange(6.0)[:, None], step=2, fps=10).ravel().tolist()
    [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    """
    return central_difference(position, step) * _rate(fps)


def acceleration(position, step: int = 2, fps: float | None = None) -> np.ndarray:
    """Acceleration: the central difference of :func:`velocity`, same ``step``.

    Parameters
    ----------
    position : array (T, ...)
        Positions.
    step : int
        Half-width of both central differences, frames.
    fps : float, optional
        Frames per second (units per second squared); ``None``: per frame squared.

    Returns
    -------
    ndarray, same shape as ``position``

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(9.0)
    >>> acceleration(0.5 * t**2, step=1)[2:-2].tolist()  # constant 1 away from the edges
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    return central_difference(velocity(position, step, fps), step) * _rate(fps)


def _rate(fps) -> float:
    if fps is None:
        return 1.0
    f = float(fps)
    if not (np.isfinite(f) and f > 0):
        raise ParameterError(f"fps must be positive, got {fps}")
    return f


# --------------------------------------------------------------------------- numba versions
@njit(cache=True, inline="always")
def _nb_bounds(t, step, a, b):
    """``lo``, ``hi`` and ``1 / (hi - lo)`` (0 for a zero span) of frame ``t`` in frames ``a:b``."""
    lo = max(t - step, a)
    hi = min(t + step, b - 1)
    span = hi - lo
    inv = 1.0 / span if span > 0 else 0.0
    return lo, hi, inv


@njit(cache=True, inline="always")
def _nb_set_mean(X, t, idx, c):
    """NaN-aware mean of coordinate ``c`` over joints ``idx`` at frame ``t`` (NaN when none)."""
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
def _nb_body_scale(X, a, b, root_idx, size_a, size_b, use_sets):
    """:func:`body_scale` of frames ``a:b`` of ``X`` (numba)."""
    C = X.shape[2]
    J = X.shape[1]
    if b <= a:
        return 1.0
    buf = np.empty(b - a)
    root = np.empty(C)
    nv = 0
    for t in range(a, b):
        if use_sets:
            d2 = 0.0
            for c in range(C):
                diff = _nb_set_mean(X, t, size_a, c) - _nb_set_mean(X, t, size_b, c)
                d2 += diff * diff
            d = np.sqrt(d2)
        else:
            for c in range(C):
                root[c] = _nb_set_mean(X, t, root_idx, c)
            acc = 0.0
            nj = 0
            for j in range(J):
                q = 0.0
                for c in range(C):
                    diff = X[t, j, c] - root[c]
                    q += diff * diff
                if q == q:
                    acc += np.sqrt(q)
                    nj += 1
            d = acc / nj if nj > 0 else np.nan
        if d == d and d > 0.0 and d != np.inf:
            buf[nv] = d
            nv += 1
    if nv == 0:
        return 1.0
    return np.median(buf[:nv])


@njit(cache=True)
def _body_scale_ragged_kernel(X, offsets, root_idx, size_a, size_b, use_sets):
    n = offsets.shape[0] - 1
    out = np.empty(n)
    for s in range(n):
        out[s] = _nb_body_scale(X, offsets[s], offsets[s + 1], root_idx, size_a, size_b, use_sets)
    return out


@njit(cache=True)
def _central_difference_ragged_kernel(x, offsets, step, rate):
    N, K = x.shape
    out = np.empty((N, K))
    for s in range(offsets.shape[0] - 1):
        a = offsets[s]
        b = offsets[s + 1]
        for t in range(a, b):
            lo, hi, inv = _nb_bounds(t, step, a, b)
            f = inv * rate[s]
            for k in range(K):
                out[t, k] = (x[hi, k] - x[lo, k]) * f
    return out


def _offsets(offsets, N: int) -> np.ndarray:
    if offsets is None:
        return np.array([0, N], dtype=np.int64)
    off = np.ascontiguousarray(offsets, dtype=np.int64)
    if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != N or np.any(np.diff(off) < 0):
        raise ParameterError(f"offsets must rise from 0 to the frame count {N}")
    return off


def _layout_sets(lay: JointLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Root joints, the two ``size`` sets and whether the layout has them (kernel arguments)."""
    empty = np.zeros(0, dtype=np.int64)
    root = np.ascontiguousarray(lay.root_indices, dtype=np.int64)
    if lay.size is not None and all(lay.size):
        return root, lay.indices(lay.size[0]), lay.indices(lay.size[1]), True
    return root, empty, empty, False


def central_difference_ragged(x, offsets=None, step: int = 1, rate=None) -> np.ndarray:
    """:func:`central_difference` of every sequence of a concatenated collection (numba).

    Parameters
    ----------
    x : array (N, ...)
        Frames of all sequences concatenated along axis 0.
    offsets : array of int (n + 1,), optional
        Sequence ``i`` is ``x[offsets[i]:offsets[i + 1]]``; default one sequence.
    step : int
        Half-width in frames (>= 1); the edges of each sequence are clipped to
        its own frames, never reaching into a neighbour.
    rate : float or array (n,), optional
        Multiplies sequence ``i`` (its fps: derivatives per second).

    Returns
    -------
    ndarray of float64, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 2.0, 10.0, 20.0])
    >>> central_difference_ragged(x, [0, 3, 5], step=1).tolist()
    [1.0, 1.0, 1.0, 10.0, 10.0]
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        raise ParameterError("x needs a frame axis (axis 0)")
    if int(step) < 1:
        raise ParameterError(f"step must be >= 1 frame, got {step}")
    off = _offsets(offsets, a.shape[0])
    n = len(off) - 1
    r = np.ones(n) if rate is None else np.ascontiguousarray(np.broadcast_to(rate, (n,)), dtype=np.float64)
    flat = np.ascontiguousarray(a.reshape(a.shape[0], -1))
    return _central_difference_ragged_kernel(flat, off, int(step), r).reshape(a.shape)


def body_scale_ragged(position, offsets, layout: str | JointLayout) -> np.ndarray:
    """:func:`body_scale` of every sequence of a concatenated collection (numba), shape (n,).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((4, 20, 3)); p[:2, 2, 1] = 0.5; p[2:, 2, 1] = 2.0
    >>> body_scale_ragged(p, [0, 2, 4], "msr20").tolist()
    [0.5, 2.0]
    """
    X = np.ascontiguousarray(_as_position(position))
    off = _offsets(offsets, X.shape[0])
    root, sa, sb, sets = _layout_sets(get_layout(layout))
    return _body_scale_ragged_kernel(X, off, root, sa, sb, sets)
