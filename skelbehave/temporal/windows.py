"""Frames <-> windows: centred sliding windows over many sequences at once.

- :func:`to_frames` - a length in frames from frames or a duration (``"1s"``, ``"500ms"``).
- :func:`sliding_windows` - centred windows (length and stride in frames) as
  index arrays; no Python loop per window.
- :func:`window_labels` - a label per window from per-frame labels.
- :func:`aggregate_windows` - per-frame class probabilities from window
  probabilities (every frame averages the windows that contain it, weighted
  by a kernel that trusts a window most at its centre).

Windows are centred: window ``k`` of a sequence has centre frame
``c_k = k * stride`` (plus the last frame) and covers
``[c_k - length // 2, c_k - length // 2 + length)`` clipped to the sequence,
so every frame is covered (when ``length >= stride``) and short sequences
still get windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, PoseDataError

__all__ = ["Windows", "aggregate_windows", "sliding_windows", "to_frames", "window_labels"]


def to_frames(value: float | int | str, fps: float | None = None) -> int:
    """A length in frames from frames or a duration (``"1.5s"``, ``"500ms"``).

    Window lengths and strides (``window``, ``stride``) accept both.

    Parameters
    ----------
    value : int, float or str
        An int is a frame count; a string is a frame count (``"31"`` or
        ``"31f"``) or a duration with a unit, ``"s"`` (seconds) or ``"ms"``
        (milliseconds); a float is seconds.
    fps : float, optional
        Frame rate for conversions from durations.

    Returns
    -------
    int
        At least 1; durations round to the nearest frame.

    Examples
    --------
    >>> to_frames(31), to_frames("1s", fps=30), to_frames(0.5, fps=30), to_frames("500ms", fps=30)
    (31, 30, 15, 15)
    >>> to_frames("12f"), to_frames("100 ms", fps=25)
    (12, 2)
    """
    if isinstance(value, str):
        v = value.strip().lower().replace(" ", "")
        try:
            if v.endswith("ms"):
                seconds = float(v[:-2]) / 1000.0
            elif v.endswith("s"):
                seconds = float(v[:-1])
            else:
                frames = int(v[:-1] if v.endswith("f") else v)
                if frames < 1:
                    raise ParameterError(f"a length in frames must be >= 1, got {value!r}")
                return frames
        except ValueError as exc:
            if "must be >= 1" in str(exc):
                raise
            raise ParameterError(
                f"cannot read the length {value!r}: expected frames (31, '31f') or a duration ('1s', '500ms')"
            ) from None
    elif isinstance(value, (int, np.integer)):
        if value < 1:
            raise ParameterError(f"a length in frames must be >= 1, got {value}")
        return int(value)
    else:
        seconds = float(value)
    if not np.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"a duration must be positive, got {value!r}")
    if fps is None:
        raise PoseDataError(f"a length of {seconds} s needs the frame rate, but fps is unknown")
    return max(1, round(seconds * fps))


@dataclass
class Windows:
    """Centred windows over concatenated sequences, as index arrays.

    Attributes
    ----------
    seq : ndarray (n,)
        Sequence each window belongs to.
    center, start, stop : ndarray (n,)
        Frame indices within that sequence; ``stop`` exclusive, clipped.
    offsets : ndarray (n_sequences + 1,)
        Frame offsets of the sequences in the concatenated frame array;
        ``offsets[seq] + start`` is a global row.
    length, stride : int
        Nominal window length and window step in frames.
    """

    seq: np.ndarray
    center: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    offsets: np.ndarray
    length: int
    stride: int

    def __len__(self) -> int:
        return len(self.center)

    @property
    def global_start(self) -> np.ndarray:
        """Start rows in the concatenated frame array."""
        return self.offsets[self.seq] + self.start

    @property
    def global_stop(self) -> np.ndarray:
        """Stop rows (exclusive) in the concatenated frame array."""
        return self.offsets[self.seq] + self.stop

    @property
    def global_center(self) -> np.ndarray:
        """Centre rows in the concatenated frame array."""
        return self.offsets[self.seq] + self.center


def sliding_windows(lengths: Sequence[int] | np.ndarray, length: int, stride: int = 1) -> Windows:
    """Centred sliding windows over sequences of the given lengths.

    Centres are ``0, stride, 2*stride, ...`` and the last frame of each
    sequence (so every frame is inside a window); each window spans
    ``length`` frames around its centre, clipped at the sequence ends
    (every frame lies in a window when ``length >= stride``).
    Fully vectorised: cost does not depend on a Python loop per window.

    Parameters
    ----------
    lengths : sequence of int
        Frames per sequence.
    length, stride : int
        Window length and window step (between centres), in frames
        (:func:`to_frames` converts durations).

    Examples
    --------
    >>> w = sliding_windows([5, 3], length=3, stride=2)
    >>> w.seq.tolist(), w.center.tolist(), w.start.tolist(), w.stop.tolist()
    ([0, 0, 0, 1, 1], [0, 2, 4, 0, 2], [0, 1, 3, 0, 1], [2, 4, 5, 2, 3])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    length, stride = int(length), int(stride)
    if length < 1 or stride < 1:
        raise ParameterError(f"window length and stride must be >= 1, got {length} and {stride}")
    if (lengths < 0).any():
        raise ParameterError("sequence lengths must be >= 0")
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    # number of regular centres 0, s, 2s, ... < T, plus the last frame if not on the grid
    n_reg = np.where(lengths > 0, (lengths - 1) // stride + 1, 0)
    extra = (lengths > 0) & ((lengths - 1) % stride != 0)
    n_win = n_reg + extra
    seq = np.repeat(np.arange(len(lengths)), n_win)
    first = np.r_[0, np.cumsum(n_win)[:-1]]
    k = np.arange(int(n_win.sum())) - np.repeat(first, n_win)
    center = k * stride
    is_last_extra = np.repeat(extra, n_win) & (k == np.repeat(n_win, n_win) - 1)
    center = np.where(is_last_extra, np.repeat(lengths - 1, n_win), center)
    half = length // 2
    start = np.clip(center - half, 0, None)
    stop = np.minimum(center - half + length, np.repeat(lengths, n_win))
    return Windows(
        seq, center.astype(np.int64), start.astype(np.int64), stop.astype(np.int64), offsets, length, stride
    )


def window_labels(y_frames: np.ndarray, windows: Windows, how: str = "center", n_classes: int | None = None):
    """Label of each window from integer per-frame labels (concatenated).

    Parameters
    ----------
    y_frames : ndarray of int (N,)
        Class index per frame, all sequences concatenated (as ``windows``);
        negative values mean "unlabelled".
    windows : Windows
    how : {"center", "majority"}
        ``"center"``: the label of the centre frame (sharp boundaries, the
        default); ``"majority"``: the most common labelled class in the
        window (ties go to the smaller index; -1 if none is labelled).

    Examples
    --------
    >>> w = sliding_windows([6], length=3, stride=1)
    >>> y = np.array([0, 0, 1, 1, 1, 2])
    >>> window_labels(y, w).tolist(), window_labels(y, w, "majority").tolist()
    ([0, 0, 1, 1, 1, 2], [0, 0, 1, 1, 1, 1])
    """
    y = np.asarray(y_frames, dtype=np.int64)
    if how == "center":
        return y[windows.global_center]
    if how != "majority":
        raise ParameterError(f"how must be 'center' or 'majority', got {how!r}")
    k = int(n_classes if n_classes is not None else (y.max() + 1 if len(y) else 0))
    onehot = np.zeros((len(y) + 1, k), dtype=np.int32)
    ok = y >= 0
    onehot[1:][ok, y[ok]] = 1
    cs = np.cumsum(onehot, axis=0)
    counts = cs[windows.global_stop] - cs[windows.global_start]
    out = counts.argmax(axis=1)
    out[counts.max(axis=1) == 0] = -1
    return out


def _kernel(length: int, kind: str) -> np.ndarray:
    if kind == "uniform":
        return np.ones(length)
    if kind == "triangular":
        half = length // 2
        offs = np.arange(length) - half
        return 1.0 - np.abs(offs) / (half + 1)
    if kind == "gaussian":
        half = length // 2
        offs = np.arange(length) - half
        sigma = max(length / 6.0, 0.5)
        return np.exp(-0.5 * (offs / sigma) ** 2)
    if kind == "center":
        k = np.zeros(length)
        k[length // 2] = 1.0
        return k
    raise ParameterError(f"weights must be 'uniform', 'triangular', 'gaussian' or 'center', got {kind!r}")


def aggregate_windows(
    proba: np.ndarray, windows: Windows, n_frames: Sequence[int] | None = None, weights: str = "gaussian"
) -> list[np.ndarray]:
    """Per-frame class probabilities from overlapping window probabilities.

    Each frame gets the weighted mean of the windows containing it; a window
    weighs ``w(frame - centre)`` with the kernel ``weights``: ``"uniform"``
    (plain mean of overlapping windows), ``"triangular"`` or ``"gaussian"``
    (trust windows most near their centre) or ``"center"`` (only the window
    centred on the frame; falls back to the nearest centres when the stride
    is > 1). Implemented as a convolution of the window grid: no loop per
    window.

    Parameters
    ----------
    proba : ndarray (n_windows, n_classes)
    windows : Windows
    n_frames : sequence of int, optional
        Lengths of the sequences (default from ``windows.offsets``).
    weights : str

    Returns
    -------
    list of ndarray (T_i, n_classes), rows summing to 1.

    Examples
    --------
    >>> w = sliding_windows([4], length=3, stride=1)
    >>> p = np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    >>> aggregate_windows(p, w, weights="uniform")[0][:, 1].round(3).tolist()
    [0.0, 0.333, 0.667, 1.0]
    """
    from scipy.ndimage import convolve1d

    proba = np.asarray(proba, dtype=np.float64)
    lengths = np.diff(windows.offsets) if n_frames is None else np.asarray(n_frames, dtype=np.int64)
    n_cls = proba.shape[1]
    L = windows.length if weights != "center" else max(1, 2 * windows.stride - 1)
    kern = _kernel(L if L % 2 else L + 1, "triangular" if weights == "center" and L > 1 else weights)
    grid = np.zeros((int(windows.offsets[-1]), n_cls + 1))
    rows = windows.global_center
    grid[rows, :n_cls] = proba
    grid[rows, n_cls] = 1.0
    out = []
    for i, T in enumerate(lengths):
        a, b = windows.offsets[i], windows.offsets[i] + T
        if T == 0:
            out.append(np.zeros((0, n_cls)))
            continue
        acc = convolve1d(grid[a:b], kern, axis=0, mode="constant", cval=0.0)
        num, den = acc[:, :n_cls], acc[:, n_cls:]
        p = num / np.where(den > 0, den, 1.0)
        bad = den[:, 0] <= 0
        if bad.any():  # frames farther than half a kernel from every centre: nearest centre
            cen = windows.center[windows.seq == i]
            nearest = cen[np.clip(np.searchsorted(cen, np.flatnonzero(bad)), 0, len(cen) - 1)]
            p[bad] = grid[a + nearest, :n_cls]
        s = p.sum(axis=1, keepdims=True)
        out.append(p / np.where(s > 0, s, 1.0))
    return out
