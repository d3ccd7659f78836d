"""Low-level joint-feature functions on concatenated ``(N, J, C)`` arrays plus ``offsets``.

Normalisation, relative position, relative displacement and key-frame
selection, each running the fused numba kernel of
:mod:`skelbehave.features._kernels` (or, with ``backend="numpy"``, its NumPy
reference) over a whole ragged collection. :class:`~skelbehave.features.JointFeatures`
is built on them; conventions (root, body scale, edges, NaN) are those of
:mod:`skelbehave.features.joint` and :mod:`skelbehave.features.kinematics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .._util.threads import limit_threads, resolve_n_jobs
from ..errors import LayoutError, ParameterError, PoseDataError
from ..layouts import JointLayout, get_layout
from . import _kernels as K
from . import _reference as R

__all__ = [
    "keyframe_indices",
    "normalization_params",
    "normalize",
    "relative_displacement",
    "relative_position",
]

_BACKENDS = ("numba", "numpy")


# --------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _LayoutArrays:
    root: np.ndarray
    size_a: np.ndarray
    size_b: np.ndarray
    size_mode: int
    face_l: np.ndarray
    face_r: np.ndarray
    can_rotate: bool


def _layout_arrays(layout: JointLayout) -> _LayoutArrays:
    empty = np.zeros(0, dtype=np.int64)
    root = layout.root_indices.astype(np.int64)
    if layout.size is not None and all(layout.size):
        size_a, size_b, mode = layout.indices(layout.size[0]), layout.indices(layout.size[1]), K.SIZE_SETS
    else:
        size_a, size_b, mode = empty, empty, K.SIZE_SPREAD
    if layout.facing is not None and all(layout.facing):
        face_l, face_r, can = layout.indices(layout.facing[0]), layout.indices(layout.facing[1]), True
    else:
        face_l, face_r, can = empty, empty, False
    return _LayoutArrays(root, size_a, size_b, mode, face_l, face_r, can)


def _ragged(positions, offsets) -> tuple[np.ndarray, np.ndarray]:
    X = np.ascontiguousarray(positions, dtype=np.float64)
    if X.ndim != 3:
        raise PoseDataError(f"positions must have shape (frames, joints, coords), got shape {X.shape}")
    if X.shape[2] not in (2, 3):
        raise PoseDataError(f"expected 2 or 3 coordinates per joint, found {X.shape[2]}")
    if offsets is None:
        off = np.array([0, X.shape[0]], dtype=np.int64)
    else:
        off = np.ascontiguousarray(offsets, dtype=np.int64)
        if off.ndim != 1 or len(off) < 1 or off[0] != 0 or off[-1] != X.shape[0] or np.any(np.diff(off) < 0):
            raise ParameterError(
                f"offsets must rise from 0 to the frame count {X.shape[0]}, got {off[:3]}...{off[-3:]}"
            )
    return X, off


def _check_backend(backend: str) -> None:
    if backend not in _BACKENDS:
        raise ParameterError(f"backend must be one of {_BACKENDS}, got {backend!r}")


@contextmanager
def _threads(n_jobs: int | None):
    """Run numba kernels on ``n_jobs`` threads (:func:`skelbehave._util.threads.limit_threads`).

    Yields True when more than one thread is used: the callers then pick the
    ``parallel=True`` kernels; one thread uses the serial kernels, which load
    faster and do not start numba's threading layer.
    """
    n = resolve_n_jobs(n_jobs)
    if n == 1:
        yield False
        return
    # small chunks handed out on demand: sequences differ in length, and on a
    # shared machine one slow thread must not hold the whole call up
    with limit_threads(n, blas=False, torch=False, numba_chunksize=8):
        yield True


def _rate(fps, n: int) -> np.ndarray:
    if fps is None:
        return np.ones(n)
    r = np.broadcast_to(np.asarray(fps, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(r) & (r > 0)):
        raise ParameterError(f"fps must be positive, got {fps}")
    return r


def _run_fused(
    X,
    off,
    rows,
    key_off,
    lay: _LayoutArrays,
    ops,
    *,
    normalize: bool,
    rotate: bool,
    vertical_axis: int,
    step: int,
    rate,
    fill: float,
    backend: str,
    n_jobs,
    out=None,
) -> np.ndarray:
    C = X.shape[2]
    ops = np.ascontiguousarray(ops, dtype=np.int64).reshape(-1, 3)
    rot = bool(rotate and lay.can_rotate)
    args = (
        X,
        off,
        rows,
        key_off,
        lay.root,
        lay.size_a,
        lay.size_b,
        lay.size_mode,
        lay.face_l,
        lay.face_r,
        rot,
        int(vertical_axis),
        bool(normalize),
        ops,
        int(step),
        rate,
        float(fill),
    )
    if backend == "numpy":
        res = R.fused_features_numpy(*args)
        if out is not None:
            out[...] = res
            return out
        return res
    if out is None:
        out = np.empty((len(rows), len(ops) * C))
    with _threads(n_jobs) as par:
        K.fused_features(*args, out, parallel=par)
    return out


def _layout_of(layout) -> JointLayout:
    if layout is None:
        raise LayoutError("a layout is needed: pass layout='msr20' (or another registered layout)")
    return get_layout(layout)


# --------------------------------------------------------------------------- low-level API
def normalization_params(
    positions,
    offsets=None,
    layout: str | JointLayout | None = None,
    *,
    rotate: bool = False,
    vertical_axis: int = 1,
    backend: str = "numba",
    n_jobs: int | None = 1,
) -> np.ndarray:
    """Per-sequence linear maps (body-size scale times facing rotation).

    Parameters
    ----------
    positions : ndarray, shape (N, J, C)
        Frames of all sequences concatenated.
    offsets : ndarray of int, shape (n + 1,), optional
        Sequence ``i`` is ``positions[offsets[i]:offsets[i + 1]]``; default:
        one sequence.
    layout : str or JointLayout
        Gives the root, size and facing joints.
    rotate : bool
        Include the rotation to the canonical facing direction.
    vertical_axis : int
        Coordinate axis that points up (3-D only).
    backend : {"numba", "numpy"}
        The numba kernel or its NumPy reference.
    n_jobs : int
        numba threads.

    Returns
    -------
    ndarray, shape (n, C, C)
        ``normalised = M[i] @ (x - root)`` for frames of sequence ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 20, 3)); x[:, 2, 1] = 0.5  # shoulder centre 0.5 above hip centre
    >>> normalization_params(x, layout="msr20")[0].round(3).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
    """
    _check_backend(backend)
    lay_obj = _layout_of(layout)
    X, off = _ragged(positions, offsets)
    lay = _layout_arrays(lay_obj)
    args = (
        X,
        off,
        lay.root,
        lay.size_a,
        lay.size_b,
        lay.size_mode,
        lay.face_l,
        lay.face_r,
        bool(rotate and lay.can_rotate),
        int(vertical_axis),
    )
    if backend == "numpy":
        return R.normalization_params_numpy(*args)
    with _threads(n_jobs) as par:
        return K.normalization_params(*args, parallel=par)


def _all_rows(off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(off[-1], dtype=np.int64), off


def normalize(
    positions,
    offsets=None,
    layout: str | JointLayout | None = None,
    *,
    rotate: bool = False,
    translate: bool = True,
    vertical_axis: int = 1,
    fill_value: float | None = None,
    backend: str = "numba",
    n_jobs: int | None = 1,
) -> np.ndarray:
    """Normalise joint positions per sequence: root-relative, body-size scaled, optionally rotated.

    Parameters
    ----------
    positions, offsets, layout, rotate, vertical_axis, backend, n_jobs
        As in :func:`normalization_params`.
    translate : bool
        Subtract the per-frame root (default); ``False`` only scales/rotates.
    fill_value : float or None
        Replaces NaN in the output; ``None`` keeps NaN.

    Returns
    -------
    ndarray, shape (N, J, C)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(30, 20, 3))
    >>> y = normalize(x, layout="msr20")
    >>> bool(np.allclose(normalize(3 * x + 1, layout="msr20"), y))  # scale and translation invariant
    True
    """
    _check_backend(backend)
    lay_obj = _layout_of(layout)
    X, off = _ragged(positions, offsets)
    J, C = X.shape[1], X.shape[2]
    kind = K.OP_POS if translate else K.OP_ABS
    ops = np.array([[kind, j, 0] for j in range(J)], dtype=np.int64)
    rows, key_off = _all_rows(off)
    out = _run_fused(
        X,
        off,
        rows,
        key_off,
        _layout_arrays(lay_obj),
        ops,
        normalize=True,
        rotate=rotate,
        vertical_axis=vertical_axis,
        step=1,
        rate=np.ones(len(off) - 1),
        fill=np.nan if fill_value is None else fill_value,
        backend=backend,
        n_jobs=n_jobs,
    )
    return out.reshape(len(rows), J, C)


def relative_position(
    positions,
    offsets=None,
    layout: str | JointLayout | None = None,
    *,
    joints: Sequence[str | int] | None = None,
    pairwise: bool = False,
    normalize: bool = True,
    rotate: bool = False,
    vertical_axis: int = 1,
    fill_value: float | None = None,
    backend: str = "numba",
    n_jobs: int | None = 1,
) -> np.ndarray:
    """Root-relative positions of some joints, optionally with their pairwise differences.

    Parameters
    ----------
    joints : sequence of str or int, optional
        The group (default: every joint).
    pairwise : bool
        Also ``t_i - t_j`` for every pair ``i < j`` of the group.
    normalize : bool
        Scale (and rotate) per sequence first; ``False`` keeps raw units.
    positions, offsets, layout, rotate, vertical_axis, fill_value, backend, n_jobs
        As in :func:`normalize`.

    Returns
    -------
    ndarray, shape (N, (k + k (k - 1) / 2) * C) with pairwise, else (N, k * C)
        Columns: joint 1 (x, y, z), joint 2, ..., then pairs (1, 2), (1, 3), ...

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(10, 20, 3))
    >>> relative_position(x, layout="msr20", joints=["head", "spine"], pairwise=True).shape
    (10, 9)
    """
    _check_backend(backend)
    lay_obj = _layout_of(layout)
    X, off = _ragged(positions, offsets)
    idx = np.arange(X.shape[1]) if joints is None else lay_obj.indices(joints)
    ops = [[K.OP_POS, i, 0] for i in idx]
    if pairwise:
        ops += [[K.OP_PAIR, i, j] for i, j in combinations(idx, 2)]
    rows, key_off = _all_rows(off)
    return _run_fused(
        X,
        off,
        rows,
        key_off,
        _layout_arrays(lay_obj),
        np.array(ops, dtype=np.int64),
        normalize=normalize,
        rotate=rotate,
        vertical_axis=vertical_axis,
        step=1,
        rate=np.ones(len(off) - 1),
        fill=np.nan if fill_value is None else fill_value,
        backend=backend,
        n_jobs=n_jobs,
    )


def relative_displacement(
    positions,
    offsets=None,
    layout: str | JointLayout | None = None,
    *,
    joints: Sequence[str | int] | None = None,
    step: int = 2,
    fps: float | Sequence[float] | None = None,
    normalize: bool = True,
    rotate: bool = False,
    vertical_axis: int = 1,
    fill_value: float | None = None,
    backend: str = "numba",
    n_jobs: int | None = 1,
) -> np.ndarray:
    """Central-difference velocity ``(t_i(r+D) - t_i(r-D)) / (2D / fps)`` of some joints.

    Indices are clamped to each sequence's own frames (one-sided differences
    at the edges, divided by the actual span; never across sequences); a
    one-frame sequence gives 0.

    Parameters
    ----------
    joints : sequence of str or int, optional
        The group (default: every joint).
    step : int
        ``D`` in frames (>= 1).
    fps : float or sequence of float, optional
        Frame rate (one value, or one per sequence): velocities per second.
        ``None``: per frame.
    positions, offsets, layout, normalize, rotate, vertical_axis, fill_value, backend, n_jobs
        As in :func:`relative_position`.

    Returns
    -------
    ndarray, shape (N, k * C)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((5, 20, 3)); x[:, :, 0] = np.arange(5)[:, None]  # everything moves +1 x per frame
    >>> relative_displacement(x, layout="msr20", joints=["head"], normalize=False, fps=10)[:, 0]
    array([10., 10., 10., 10., 10.])
    """
    _check_backend(backend)
    if int(step) < 1:
        raise ParameterError(f"step must be >= 1 frame, got {step}")
    lay_obj = _layout_of(layout)
    X, off = _ragged(positions, offsets)
    idx = np.arange(X.shape[1]) if joints is None else lay_obj.indices(joints)
    ops = np.array([[K.OP_DISP, i, 0] for i in idx], dtype=np.int64)
    rows, key_off = _all_rows(off)
    return _run_fused(
        X,
        off,
        rows,
        key_off,
        _layout_arrays(lay_obj),
        ops,
        normalize=normalize,
        rotate=rotate,
        vertical_axis=vertical_axis,
        step=step,
        rate=_rate(fps, len(off) - 1),
        fill=np.nan if fill_value is None else fill_value,
        backend=backend,
        n_jobs=n_jobs,
    )


def keyframe_indices(
    positions,
    offsets=None,
    *,
    mode: str = "all",
    n_keyframes: int | None = None,
    stride: int = 1,
    backend: str = "numba",
    n_jobs: int | None = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Key frames of each sequence, as global row indices plus per-sequence offsets.

    Parameters
    ----------
    mode : {"all", "stride", "motion"}
        Every frame; every ``stride``-th frame (0, s, 2s, ...); or the
        ``n_keyframes`` frames of highest motion energy (sum over joints of
        the squared central difference of the raw positions, missing joints
        skipped; ties go to the earlier frame), kept in time order. Sequences
        shorter than ``n_keyframes`` keep all frames.

    Returns
    -------
    rows : ndarray of int64, shape (K,)
        Indices into ``positions``.
    key_offsets : ndarray of int64, shape (n + 1,)
        Rows of sequence ``i`` are ``rows[key_offsets[i]:key_offsets[i + 1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((6, 20, 3)); x[3, :, 0] = 1.0  # a jump at frame 3
    >>> rows, off = keyframe_indices(x, np.array([0, 6]), mode="motion", n_keyframes=2)
    >>> rows.tolist(), off.tolist()
    ([2, 4], [0, 2])
    """
    _check_backend(backend)
    X, off = _ragged(positions, offsets)
    lengths = np.diff(off)
    if mode == "all":
        return np.arange(off[-1], dtype=np.int64), off
    if mode == "stride":
        if int(stride) < 1:
            raise ParameterError(f"stride must be >= 1, got {stride}")
        counts = -(-lengths // int(stride))
        key_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        local = np.arange(key_off[-1]) - np.repeat(key_off[:-1], counts)
        return (np.repeat(off[:-1], counts) + local * int(stride)).astype(np.int64), key_off
    if mode == "motion":
        if n_keyframes is None or int(n_keyframes) < 1:
            raise ParameterError(f"keyframes='motion' needs n_keyframes >= 1, got {n_keyframes}")
        k = int(n_keyframes)
        key_off = np.concatenate([[0], np.cumsum(np.minimum(lengths, k))]).astype(np.int64)
        if backend == "numpy":
            e = R.motion_energy_numpy(X, off)
            return R.top_k_rows_numpy(e, off, k, key_off).astype(np.int64), key_off
        with _threads(n_jobs) as par:
            e = K.motion_energy(X, off, parallel=par)
            return K.top_k_rows(e, off, k, key_off, parallel=par), key_off
    raise ParameterError(f"keyframes must be 'all', 'stride' or 'motion', got {mode!r}")
