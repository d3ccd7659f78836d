"""Temporal context of per-frame values over many concatenated sequences (no Python loop per frame).

- :func:`context_statistics` - per frame: the values themselves, their means
  over centred, preceding and following stretches of several lengths, their
  maxima over centred stretches, and the change from before to after. The
  input of the context stage of
  :class:`~skelbehave.pipeline.FrameLevelModel` (first-stage probabilities in,
  context descriptors out).
- :func:`moving_mean` - centred moving means of per-frame features, with
  missing values (NaN) left out of each mean.

Every statistic stays inside its own sequence (sequences are concatenated
along axis 0 and delimited by ``lengths``): a stretch is clipped at the
sequence ends, never reaching into the neighbouring sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from scipy.ndimage import maximum_filter1d

from ..errors import ParameterError

__all__ = ["CONTEXT_STATS", "context_statistics", "moving_mean"]

#: the statistics :func:`context_statistics` can give, in output order
CONTEXT_STATS = ("mean", "max", "diff")

#: working memory of :func:`moving_mean` per block of columns (its cumulative sums and counts)
BLOCK_BYTES = 64 * 2**20


def _check(values: np.ndarray, lengths, scales) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    values = np.asarray(values)
    lengths = np.asarray(lengths, dtype=np.int64)
    if values.ndim != 2:
        raise ParameterError(f"values must be a 2-D array (frames, columns), got shape {values.shape}")
    if lengths.ndim != 1 or (lengths < 0).any() or int(lengths.sum()) != len(values):
        raise ParameterError(
            f"lengths must be non-negative sequence lengths summing to the {len(values)} rows, got "
            f"{lengths.tolist()[:8]}"
        )
    sc = tuple(int(s) for s in scales)
    if any(s < 1 for s in sc):
        raise ParameterError(f"context scales must be frame counts >= 1, got {list(scales)}")
    return values, lengths, sc


def context_statistics(
    P: np.ndarray, lengths, scales: Sequence[int], stats: Sequence[str] = ("mean",), rows=None
) -> np.ndarray:
    """Temporal context of per-frame values ``P`` (sequences concatenated along axis 0).

    Columns, in order: ``P`` itself; with ``"mean"``, for each scale ``s``
    the mean of ``P`` over the centred ``s`` frames, over the ``s`` frames
    before and over the ``s`` frames after (clipped at the sequence ends; an
    empty side repeats the frame); with ``"max"``, the maximum over the
    centred ``s`` frames for each of the first three scales; with
    ``"diff"``, for each scale the mean after minus the mean before (the
    rise or fall of a value around the frame).

    Parameters
    ----------
    P : ndarray (N, K)
        Per-frame values, e.g. class probabilities.
    lengths : array-like of int
        Lengths of the concatenated sequences (sum N).
    scales : sequence of int
        Stretch lengths in frames.
    stats : sequence of str
        Any of :data:`CONTEXT_STATS`; ``("mean",)`` gives
        ``K * (1 + 3 * len(scales))`` columns.
    rows : array-like of int, optional
        Only these frames (indices into the N rows); default all.

    Returns
    -------
    ndarray (len(rows) or N, n_columns), float32

    Examples
    --------
    >>> P = np.r_[np.zeros(5), np.ones(5)][:, None]
    >>> C = context_statistics(P, [10], scales=[3], stats=("mean", "max", "diff"))
    >>> C.shape  # P, 3 means, 1 max, 1 difference
    (10, 6)
    >>> [round(float(v), 2) for v in C[4]]  # frame 4: the last 0 before the rise
    [0.0, 0.33, 0.0, 1.0, 1.0, 1.0]
    >>> C2 = context_statistics(np.r_[P, P], [10, 10], [3])  # two sequences: no leak across the border
    >>> bool(np.allclose(C2[:10], C2[10:]))
    True
    """
    P, lengths, sc = _check(P, lengths, scales)
    unknown = [s for s in stats if s not in CONTEXT_STATS]
    if unknown or not stats:
        raise ParameterError(f"context statistics must be a non-empty subset of {CONTEXT_STATS}, got {stats}")
    N = len(P)
    P = P.astype(np.float64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    t = np.arange(N) if rows is None else np.asarray(rows, dtype=np.int64)
    seq = np.searchsorted(offsets, t, side="right") - 1
    lo_seq, hi_seq = offsets[seq], offsets[seq + 1]
    Pt = P[t]
    C = np.zeros((N + 1, P.shape[1]))
    np.cumsum(P, axis=0, out=C[1:])

    def mean(a, b):
        a = np.clip(a, lo_seq, hi_seq)
        b = np.clip(b, lo_seq, hi_seq)
        n = (b - a)[:, None]
        return np.where(n > 0, (C[b] - C[a]) / np.maximum(n, 1), Pt)

    parts = [Pt]
    before, after = [], []
    for s in sc:
        h = s // 2
        centred = mean(t - h, t + h + 1)
        before.append(mean(t - s, t))
        after.append(mean(t + 1, t + 1 + s))
        if "mean" in stats:
            parts += [centred, before[-1], after[-1]]
    if "max" in stats:
        for s in sc[:3]:
            block = np.empty_like(P)
            for a, b in pairwise(offsets):
                if b > a:
                    block[a:b] = maximum_filter1d(P[a:b], s, axis=0, mode="nearest")
            parts.append(block[t])
    if "diff" in stats:
        parts += [a - b for a, b in zip(after, before, strict=True)]
    return np.concatenate(parts, axis=1).astype(np.float32)


def moving_mean(F: np.ndarray, lengths, scales: Sequence[int], rows=None) -> np.ndarray:
    """Centred moving means of per-frame features over each of ``scales`` frames, NaN left out.

    A mean is clipped at its sequence's ends; a stretch with no finite value
    of a column gives NaN there. Columns are taken in blocks, so the working
    memory stays near :data:`BLOCK_BYTES` whatever the number of frames.

    Parameters
    ----------
    F : ndarray (N, d)
        Per-frame features of concatenated sequences (NaN = missing).
    lengths : array-like of int
        Lengths of the sequences (sum N).
    scales : sequence of int
        Window lengths in frames.
    rows : array-like of int, optional
        Only these frames (indices into the N rows), e.g. the training
        windows' centres; default all.

    Returns
    -------
    ndarray (len(rows) or N, d * len(scales)), float32

    Examples
    --------
    >>> F = np.array([[0.0], [np.nan], [3.0], [5.0]])
    >>> moving_mean(F, [4], [3]).ravel().tolist()
    [0.0, 1.5, 4.0, 4.0]
    >>> moving_mean(F, [2, 2], [3]).ravel().tolist()  # two sequences of 2 frames
    [0.0, 0.0, 4.0, 4.0]
    >>> moving_mean(F, [4], [3], rows=[1, 3]).ravel().tolist()
    [1.5, 4.0]
    """
    F, lengths, sc = _check(F, lengths, scales)
    N, d = F.shape
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    t = np.arange(N) if rows is None else np.asarray(rows, dtype=np.int64)
    seq = np.searchsorted(offsets, t, side="right") - 1
    lo_seq, hi_seq = offsets[seq], offsets[seq + 1]
    ends = [(np.clip(t - s // 2, lo_seq, hi_seq), np.clip(t - s // 2 + s, lo_seq, hi_seq)) for s in sc]
    out = np.empty((len(t), d * len(sc)), dtype=np.float32)
    step = max(1, BLOCK_BYTES // (8 * (N + 1) * 3))  # columns per block: cumulative sums, counts, values
    S = np.zeros((N + 1, min(step, d)))
    n = np.zeros_like(S)
    for c0 in range(0, d, step):
        c1 = min(d, c0 + step)
        block = F[:, c0:c1]
        ok = np.isfinite(block)
        np.cumsum(np.where(ok, block, 0.0), axis=0, out=S[1:, : c1 - c0])
        np.cumsum(ok, axis=0, out=n[1:, : c1 - c0])
        for i, (a, b) in enumerate(ends):
            cnt = n[b, : c1 - c0] - n[a, : c1 - c0]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, i * d + c0 : i * d + c1] = np.where(
                    cnt > 0, (S[b, : c1 - c0] - S[a, : c1 - c0]) / np.maximum(cnt, 1), np.nan
                )
    return out
