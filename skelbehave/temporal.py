"""Behaviours frame by frame along long recordings.

The pieces, each usable on its own:

- :func:`sliding_windows` - centred windows (length and stride in frames, or
  in seconds via :func:`to_frames`) over many sequences at once, as index
  arrays; no Python loop per window.
- :func:`window_labels` - a label per window from per-frame labels: the
  label of the centre frame (``"center"``, the default) or the most common
  label in the window (``"majority"``, ties to the smaller class index).
- :func:`aggregate_windows` - per-frame class probabilities from window
  probabilities: every frame averages the windows that contain it, weighted
  by a kernel that trusts a window most at its centre.
- :func:`median_smooth`, :func:`min_bout_length`, :func:`segments`,
  :func:`bout_table` - post-processing and summaries.
- :class:`FrameFeatures` - a fast per-frame descriptor for one or several
  individuals (body-frame joint positions, velocities and, with several
  individuals, their relative positions, distance and facing), and
  :class:`FrameLevelModel`, the sliding-window classifier built on it.

Windows are centred: window ``k`` of a sequence has centre frame
``c_k = k * stride`` (plus the last frame) and covers
``[c_k - length // 2, c_k - length // 2 + length)`` clipped to the sequence,
so every frame is covered (when ``length >= stride``) and short sequences
still get windows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from .errors import PoseDataError
from .frame_metrics import runs
from .layouts import JointLayout
from .poses import PoseSequence

log = logging.getLogger(__name__)

__all__ = [
    "FlatTrees",
    "FrameFeatures",
    "FrameLevelModel",
    "Windows",
    "aggregate_windows",
    "bout_table",
    "median_smooth",
    "load_frame_model",
    "min_bout_length",
    "segments",
    "sliding_windows",
    "split_individuals",
    "to_frames",
    "window_labels",
]


# --------------------------------------------------------------------------- windows
def to_frames(value: float | int | str, fps: float | None = None) -> int:
    """A length in frames from frames (int) or seconds (``"1.5s"`` or a float with ``fps``).

    Parameters
    ----------
    value : int, float or str
        An int is a frame count; a string ending in ``"s"`` is seconds; a
        float is seconds (needs ``fps``).
    fps : float, optional
        Frame rate for conversions from seconds.

    Examples
    --------
    >>> to_frames(31), to_frames("1s", fps=30), to_frames(0.5, fps=30)
    (31, 30, 15)
    """
    if isinstance(value, str):
        v = value.strip().lower()
        if v.endswith("s"):
            seconds = float(v[:-1])
        elif v.endswith("f"):
            return max(1, int(v[:-1]))
        else:
            return max(1, int(v))
    elif isinstance(value, (int, np.integer)):
        if value < 1:
            raise ValueError(f"a length in frames must be >= 1, got {value}")
        return int(value)
    else:
        seconds = float(value)
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
        Nominal length and stride in frames.
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
        Window length and step between centres, in frames.

    Examples
    --------
    >>> w = sliding_windows([5, 3], length=3, stride=2)
    >>> w.seq.tolist(), w.center.tolist(), w.start.tolist(), w.stop.tolist()
    ([0, 0, 0, 1, 1], [0, 2, 4, 0, 2], [0, 1, 3, 0, 1], [2, 4, 5, 2, 3])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    length, stride = int(length), int(stride)
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length} and {stride}")
    if (lengths < 0).any():
        raise ValueError("sequence lengths must be >= 0")
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
        raise ValueError(f"how must be 'center' or 'majority', got {how!r}")
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
    raise ValueError(f"weights must be 'uniform', 'triangular', 'gaussian' or 'center', got {kind!r}")


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


# --------------------------------------------------------------------------- smoothing
def median_smooth(proba: np.ndarray, size: int) -> np.ndarray:
    """Median filter of per-frame class probabilities along time.

    Each class's probability track is median-filtered with a window of
    ``size`` frames (edges reflected), then rows are renormalised; the
    label is the argmax afterwards. ``size <= 1`` returns a copy.

    Examples
    --------
    >>> p = np.array([[1, 0], [1, 0], [0, 1], [1, 0], [1, 0.]])
    >>> median_smooth(p, 3).argmax(1).tolist()
    [0, 0, 0, 0, 0]
    """
    from scipy.ndimage import median_filter

    proba = np.asarray(proba, dtype=np.float64)
    if size <= 1 or len(proba) == 0:
        return proba.copy()
    out = median_filter(proba, size=(int(size), 1), mode="nearest")
    s = out.sum(axis=1, keepdims=True)
    return np.where(s > 0, out / np.where(s > 0, s, 1.0), proba)


def min_bout_length(labels: np.ndarray, min_length: int, proba: np.ndarray | None = None) -> np.ndarray:
    """Remove bouts shorter than ``min_length`` frames by merging them into a neighbour.

    Short bouts are dissolved shortest first; a dissolved bout takes the label
    of the neighbour with the higher mean probability over the bout (when
    ``proba`` is given, else the longer neighbour). Bouts at least
    ``min_length`` long are never changed, except when a whole sequence is
    shorter than ``min_length``.

    Examples
    --------
    >>> min_bout_length(np.array([0, 0, 0, 1, 0, 0, 2, 2, 2]), 2).tolist()
    [0, 0, 0, 0, 0, 0, 2, 2, 2]
    """
    y = np.asarray(labels).copy()
    if min_length <= 1 or len(y) == 0:
        return y
    while True:
        s, e, v = runs(y)
        if len(s) <= 1:
            return y
        lens = e - s
        short = np.flatnonzero(lens < min_length)
        if len(short) == 0:
            return y
        i = int(short[np.argmin(lens[short])])
        cands = [j for j in (i - 1, i + 1) if 0 <= j < len(s)]
        if proba is not None:
            score = [proba[s[i] : e[i], int(v[j])].mean() for j in cands]
        else:
            score = [lens[j] for j in cands]
        j = cands[int(np.argmax(score))]
        y[s[i] : e[i]] = v[j]


def segments(labels, proba: np.ndarray | None = None, fps: float | None = None, classes=None) -> pd.DataFrame:
    """Bouts of one label as a table: start, end (exclusive), label, score.

    Parameters
    ----------
    labels : array-like (T,)
        Per-frame labels (class indices when ``classes`` is given).
    proba : ndarray (T, n_classes), optional
        Per-frame class probabilities; ``score`` is the mean probability of
        the bout's class over the bout (NaN without it).
    fps : float, optional
        Adds ``start_time``, ``end_time`` and ``duration`` in seconds.
    classes : sequence, optional
        Names of class indices.

    Examples
    --------
    >>> seg = segments([0, 0, 1, 1, 1, 0], fps=2.0)
    >>> seg["end"].tolist(), seg["label"].tolist(), seg["duration"].tolist()
    ([2, 5, 6], [0, 1, 0], [1.0, 1.5, 0.5])
    """
    y = np.asarray(labels)
    s, e, v = runs(y)
    if proba is not None:
        cs = np.vstack([np.zeros((1, proba.shape[1])), np.cumsum(proba, axis=0)])
        idx = v.astype(np.int64) if np.issubdtype(v.dtype, np.integer) else None
        if idx is None and classes is not None:
            lookup = {c: k for k, c in enumerate(classes)}
            idx = np.array([lookup[x] for x in v], dtype=np.int64)
        score = (cs[e, idx] - cs[s, idx]) / (e - s) if idx is not None else np.full(len(s), np.nan)
    else:
        score = np.full(len(s), np.nan)
    names = np.asarray(classes, dtype=object)[v.astype(np.int64)] if classes is not None else v
    df = pd.DataFrame({"start": s, "end": e, "label": names, "score": score})
    if fps is not None:
        df["start_time"] = s / fps
        df["end_time"] = e / fps
        df["duration"] = (e - s) / fps
    return df


def bout_table(labels, fps: float | None = None, classes=None) -> pd.DataFrame:
    """Time spent and number of bouts per behaviour.

    Parameters
    ----------
    labels : array-like, or list of array-like (pooled)
        Per-frame labels.
    fps : float, optional
        Adds ``seconds`` and ``mean_bout_s``.
    classes : sequence, optional
        Names of class indices; also fixes the row order (absent classes get 0).

    Examples
    --------
    >>> tab = bout_table([0, 0, 1, 1, 1, 0], fps=1.0)
    >>> tab["bouts"].tolist(), tab["seconds"].tolist(), tab["mean_bout_s"].tolist()
    ([2, 1], [3.0, 3.0], [1.5, 3.0])
    """
    seqs = labels if (isinstance(labels, list) and len(labels) and np.ndim(labels[0]) == 1) else [labels]
    frames: dict[Any, int] = {}
    bouts: dict[Any, int] = {}
    total = 0
    for lab in seqs:
        y = np.asarray(lab)
        if classes is not None and np.issubdtype(y.dtype, np.integer):
            y = np.asarray(classes, dtype=object)[y]
        _, _, v = runs(y)
        total += len(y)
        for c, n in zip(*np.unique(y, return_counts=True), strict=True):
            c = c.item() if hasattr(c, "item") else c
            frames[c] = frames.get(c, 0) + int(n)
        for c, n in zip(*np.unique(v, return_counts=True), strict=True):
            c = c.item() if hasattr(c, "item") else c
            bouts[c] = bouts.get(c, 0) + int(n)
    order = list(classes) if classes is not None else sorted(frames, key=str)
    df = pd.DataFrame(
        {
            "frames": [frames.get(c, 0) for c in order],
            "fraction": [frames.get(c, 0) / total if total else 0.0 for c in order],
            "bouts": [bouts.get(c, 0) for c in order],
        },
        index=pd.Index(order, name="label"),
    )
    df["mean_bout_frames"] = np.where(df["bouts"] > 0, df["frames"] / df["bouts"].clip(lower=1), 0.0)
    if fps is not None:
        df["seconds"] = df["frames"] / fps
        df["mean_bout_s"] = df["mean_bout_frames"] / fps
    return df


# --------------------------------------------------------------------------- per-frame features
def split_individuals(seq: PoseSequence) -> list[PoseSequence]:
    """Split a sequence that holds several animals side by side into one sequence per animal.

    A layout holds several animals when it has two or more joint groups
    ``g`` whose joints are all named ``g_<part>`` with the same parts in the
    same order (the convention of the multi-animal data set loaders, e.g.
    ``individual1_top ... individual2_tail-e``). Any other sequence is
    returned unchanged, as a one-item list.

    Examples
    --------
    >>> lay = JointLayout("pair", ("a_nose", "a_tail", "b_nose", "b_tail"),
    ...                   groups={"a": ("a_nose", "a_tail"), "b": ("b_nose", "b_tail")})
    >>> parts = split_individuals(PoseSequence(np.zeros((3, 4, 2)), lay))
    >>> [p.layout.joints for p in parts], [p.meta["person"] for p in parts]
    ([('nose', 'tail'), ('nose', 'tail')], ['a', 'b'])
    """
    groups = seq.layout.groups
    if len(groups) < 2:
        return [seq]
    parts = None
    for g, joints in groups.items():
        pre = f"{g}_"
        if not all(j.startswith(pre) for j in joints):
            return [seq]
        names = [j[len(pre) :] for j in joints]
        if parts is None:
            parts = names
        elif names != parts:
            return [seq]
    lay = JointLayout.from_names(parts, name=f"{seq.layout.name}_animal")
    out = []
    for g, joints in groups.items():
        idx = seq.layout.indices(joints)
        conf = None if seq.confidence is None else seq.confidence[:, idx]
        meta = dict(seq.meta, person=g)
        out.append(PoseSequence(seq.position[:, idx], lay, fps=seq.fps, confidence=conf, meta=meta))
    return out


def _as_recording(item, layout=None, fps=None) -> list[PoseSequence]:
    """One recording: a PoseSequence, a list of them (one per individual) or an array."""
    if isinstance(item, PoseSequence):
        return split_individuals(item)
    if isinstance(item, np.ndarray):
        if item.ndim == 4:  # (individuals, T, J, C)
            if layout is None:
                raise PoseDataError("plain arrays need layout=...")
            return [PoseSequence(a, layout, fps=fps) for a in item]
        if layout is None:
            raise PoseDataError("plain arrays need layout=...")
        return [PoseSequence(item, layout, fps=fps)]
    seqs = list(item)
    out = []
    for s in seqs:
        if isinstance(s, PoseSequence):
            out.append(s)
        else:
            if layout is None:
                raise PoseDataError("plain arrays need layout=...")
            out.append(PoseSequence(s, layout, fps=fps))
    if not out:
        raise PoseDataError("a recording needs at least one pose sequence")
    T = out[0].n_frames
    for s in out[1:]:
        if s.n_frames != T:
            raise PoseDataError(
                f"the individuals of one recording must have the same number of frames; "
                f"found {T} and {s.n_frames}",
                path=s.meta.get("source"),
            )
    return out


def as_recordings(X, layout=None, fps=None) -> list[list[PoseSequence]]:
    """Normalise input to a list of recordings, each a list of PoseSequence (one per individual).

    A single PoseSequence or array is one recording; a list whose items are
    PoseSequences or arrays is a list of one-individual recordings, unless
    the items are themselves lists (several individuals per recording).

    Examples
    --------
    >>> recs = as_recordings([np.zeros((5, 20, 3))], layout="kinect_v1")
    >>> len(recs), len(recs[0]), recs[0][0].n_frames
    (1, 1, 5)
    """
    if isinstance(X, PoseSequence) or (isinstance(X, np.ndarray) and X.ndim in (3, 4)):
        return [_as_recording(X, layout, fps)]
    return [_as_recording(item, layout, fps) for item in X]


def _nanmean(a: np.ndarray, axis) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.sum(~np.isnan(a), axis=axis)
        s = np.nansum(a, axis=axis)
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _central_diff(x: np.ndarray, step: int) -> np.ndarray:
    """(x[t+step] - x[t-step]) / (2 step), edges clipped (one-sided)."""
    T = len(x)
    if T < 2:
        return np.zeros_like(x)
    idx = np.arange(T)
    hi = np.minimum(idx + step, T - 1)
    lo = np.maximum(idx - step, 0)
    return (x[hi] - x[lo]) / np.maximum(hi - lo, 1).reshape((-1,) + (1,) * (x.ndim - 1))


class FrameFeatures:
    """Per-frame descriptors of one recording with one or several individuals.

    For each individual: joint positions relative to its root, divided by the
    recording's body size (median root-to-joint distance, or the layout's
    ``size`` joints), and for 2-D data rotated into the body frame (heading
    from the root to the first keypoint); joint velocities in that frame;
    root velocity and speed; heading change; fraction of missing joints.
    For every ordered pair of individuals: the other's joints relative to
    this one's root in this one's body frame, root distance and its rate of
    change, bearing (cos, sin) and relative heading, and the smallest
    joint-to-joint distance. Missing joints stay NaN.

    Parameters
    ----------
    velocity_step : int
        Half-width in frames of the central difference for velocities.
    rotate : {"auto", True, False}
        Rotate into the body frame; ``"auto"`` rotates 2-D data only.
    acceleration : bool
        Also joint accelerations in the body frame (central difference of
        the velocities) and their magnitudes.
    joint_speed : bool
        Also the speed (velocity magnitude) of every joint.

    Examples
    --------
    >>> rec = [PoseSequence(np.random.rand(50, 5, 2), JointLayout.from_names("abcde")) for _ in range(2)]
    >>> F, names = FrameFeatures().transform_recording(rec)
    >>> F.shape == (50, len(names))
    True
    """

    def __init__(
        self,
        velocity_step: int = 2,
        rotate: bool | str = "auto",
        acceleration: bool = False,
        joint_speed: bool = False,
    ) -> None:
        self.velocity_step = velocity_step
        self.rotate = rotate
        self.acceleration = acceleration
        self.joint_speed = joint_speed

    @staticmethod
    def _scale(pos: np.ndarray, layout: JointLayout, root: np.ndarray) -> float:
        with np.errstate(invalid="ignore"):
            if layout.size is not None:
                a = _nanmean(pos[:, layout.indices(layout.size[0])], axis=1)
                b = _nanmean(pos[:, layout.indices(layout.size[1])], axis=1)
                d = np.linalg.norm(a - b, axis=-1)
            else:
                d = _nanmean(np.linalg.norm(pos - root[:, None], axis=-1), axis=1)
            d = d[np.isfinite(d) & (d > 0)]
        return float(np.median(d)) if len(d) else 1.0

    def transform_recording(self, recording) -> tuple[np.ndarray, list[str]]:
        """Features ``(T, d)`` float32 and their names for one recording."""
        seqs = _as_recording(recording)
        J, C = seqs[0].n_joints, seqs[0].n_dims
        rot = (C == 2) if self.rotate == "auto" else bool(self.rotate)
        step = int(self.velocity_step)
        roots, heads, normed = [], [], []
        scales = []
        for s in seqs:
            if s.layout.n_joints != J or s.n_dims != C:
                raise PoseDataError(
                    "all individuals of a recording need the same layout", path=s.meta.get("source")
                )
            pos = s.position
            root = _nanmean(pos[:, s.layout.root_indices], axis=1)  # (T, C)
            roots.append(root)
            scales.append(self._scale(pos, s.layout, root))
        scale = float(np.nanmean(scales)) if scales else 1.0
        for s, root in zip(seqs, roots, strict=True):
            pos = s.position
            if rot:
                if C == 2 and s.layout.facing is not None:
                    left = _nanmean(pos[:, s.layout.indices(s.layout.facing[0])], axis=1)
                    right = _nanmean(pos[:, s.layout.indices(s.layout.facing[1])], axis=1)
                    lr = right - left
                    head = np.stack([-lr[:, 1], lr[:, 0]], axis=1)
                else:
                    rest = _nanmean(pos[:, 1:, :2], axis=1) if J > 1 else root[:, :2]
                    head = pos[:, 0, :2] - rest
                ang = np.arctan2(head[:, 1], head[:, 0])
                # fill missing headings with the last known one, so body-frame features survive gaps
                ok = np.isfinite(ang)
                if ok.any():
                    idx = np.where(ok, np.arange(len(ang)), 0)
                    np.maximum.accumulate(idx, out=idx)
                    first = np.flatnonzero(ok)[0]
                    ang = np.where(np.arange(len(ang)) < first, ang[first], ang[idx])
            else:
                ang = np.zeros(len(pos))
            heads.append(ang)
            normed.append((pos - root[:, None, :]) / scale)
        cols: list[np.ndarray] = []
        names: list[str] = []

        def add(block: np.ndarray, label: str) -> None:
            block = block.reshape(len(block), -1)
            cols.append(block)
            names.extend(f"{label}{k}" for k in range(block.shape[1]))

        def body(vec: np.ndarray, ang: np.ndarray) -> np.ndarray:
            """Rotate (T, ..., C) vectors by -ang into the body frame (x, y only)."""
            if not rot:
                return vec
            c, s_ = np.cos(ang), np.sin(ang)
            shape = (len(ang),) + (1,) * (vec.ndim - 2)
            c, s_ = c.reshape(shape), s_.reshape(shape)
            x, y = vec[..., 0], vec[..., 1]
            out = vec.copy()
            out[..., 0] = c * x + s_ * y
            out[..., 1] = -s_ * x + c * y
            return out

        for i, (s, root, ang, rel) in enumerate(zip(seqs, roots, heads, normed, strict=True)):
            p = f"i{i}:"
            relb = body(rel, ang)
            add(relb, p + "pos")
            vel = _central_diff(relb, step)
            add(vel, p + "vel")
            if self.joint_speed:
                add(np.linalg.norm(vel, axis=-1), p + "jspeed")
            if self.acceleration:
                acc = _central_diff(vel, step)
                add(acc, p + "acc")
                add(np.linalg.norm(acc, axis=-1), p + "jacc")
            rv = body(_central_diff(root, step) / scale, ang)
            add(rv, p + "rootvel")
            add(np.linalg.norm(rv, axis=-1), p + "speed")
            if rot:
                dang = np.angle(np.exp(1j * _central_diff(np.unwrap(np.nan_to_num(ang)), step)))
                add(dang, p + "turn")
            add(s.missing.mean(axis=1), p + "missing")
        for i in range(len(seqs)):
            for j in range(len(seqs)):
                if i == j:
                    continue
                p = f"i{i}>i{j}:"
                other = (seqs[j].position - roots[i][:, None, :]) / scale
                add(body(other, heads[i]), p + "pos")
                d = roots[j] - roots[i]
                dist = np.linalg.norm(d, axis=-1) / scale
                if i < j:
                    add(dist, p + "dist")
                    add(_central_diff(dist, step), p + "ddist")
                    pa = seqs[i].position[:, :, None, :]
                    pb = seqs[j].position[:, None, :, :]
                    dd = np.linalg.norm(pa - pb, axis=-1).reshape(len(dist), -1) / scale
                    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
                        sup.filter(RuntimeWarning)
                        add(np.nanmin(np.where(np.isnan(dd), np.inf, dd), axis=1), p + "mindist")
                db = body(d[:, None, :], heads[i])[:, 0, :]
                bearing = np.arctan2(db[:, 1], db[:, 0])
                add(np.stack([np.cos(bearing), np.sin(bearing)], axis=1), p + "bearing")
                if rot:
                    rh = heads[j] - heads[i]
                    add(np.stack([np.cos(rh), np.sin(rh)], axis=1), p + "relhead")
        F = np.concatenate(cols, axis=1).astype(np.float32)
        F[~np.isfinite(F)] = np.nan
        return F, names


def _window_stats(F: np.ndarray, w: Windows, pyramid: Sequence[int], extra: Sequence[int] = ()) -> np.ndarray:
    """Window descriptors: mean, std, pyramid part means and centre value of each feature.

    ``extra``: further window lengths around the same centres, each adding
    its mean and standard deviation.
    """
    N, d = F.shape
    valid = np.isfinite(F)
    F0 = np.where(valid, F, 0.0).astype(np.float64)
    S = np.zeros((N + 1, d))
    np.cumsum(F0, axis=0, out=S[1:])
    Q = np.zeros((N + 1, d))
    np.cumsum(F0 * F0, axis=0, out=Q[1:])
    Nn = np.zeros((N + 1, d), dtype=np.int64)
    np.cumsum(valid, axis=0, out=Nn[1:])
    del F0
    a, b = w.global_start, w.global_stop

    def mean(lo, hi):
        n = Nn[hi] - Nn[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, (S[hi] - S[lo]) / np.maximum(n, 1), np.nan), n

    m, n = mean(a, b)
    with np.errstate(invalid="ignore"):
        var = np.where(n > 0, (Q[b] - Q[a]) / np.maximum(n, 1) - m * m, np.nan)
    parts = [m.astype(np.float32), np.sqrt(np.clip(var, 0, None)).astype(np.float32)]
    del var
    span = b - a
    for P in pyramid:
        for k in range(int(P)):
            lo = a + (span * k) // P
            hi = np.maximum(a + (span * (k + 1)) // P, lo + 1)
            hi = np.minimum(hi, b)
            lo = np.minimum(lo, hi - 1)
            pm, _ = mean(lo, hi)
            parts.append((pm - m).astype(np.float32))
    parts.append(F[w.global_center].astype(np.float32))
    if len(extra):
        seq_len = np.diff(w.offsets)[w.seq]
        base = w.offsets[w.seq]
        for L in extra:
            L = int(L)
            lo = base + np.clip(w.center - L // 2, 0, None)
            hi = base + np.minimum(w.center - L // 2 + L, seq_len)
            me, ne = mean(lo, hi)
            with np.errstate(invalid="ignore"):
                ve = np.where(ne > 0, (Q[hi] - Q[lo]) / np.maximum(ne, 1) - me * me, np.nan)
            parts += [me.astype(np.float32), np.sqrt(np.clip(ve, 0, None)).astype(np.float32)]
    return np.concatenate(parts, axis=1)


def _context_features(P: np.ndarray, lengths: np.ndarray, scales: Sequence[int]) -> np.ndarray:
    """Temporal context of per-frame probabilities ``P`` (concatenated sequences).

    Per frame: ``P`` itself; for each scale ``s`` the mean of ``P`` over the
    centred ``s`` frames, over the ``s`` frames before and the ``s`` frames
    after (clipped at the sequence ends; an empty side repeats the frame).
    """
    N, K = P.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    seq = np.repeat(np.arange(len(lengths)), lengths)
    lo_seq, hi_seq = offsets[seq], offsets[seq + 1]
    t = np.arange(N)
    C = np.zeros((N + 1, K))
    np.cumsum(P, axis=0, out=C[1:])

    def mean(a, b):
        a = np.clip(a, lo_seq, hi_seq)
        b = np.clip(b, lo_seq, hi_seq)
        n = (b - a)[:, None]
        return np.where(n > 0, (C[b] - C[a]) / np.maximum(n, 1), P)

    parts = [P]
    for sc in scales:
        h = int(sc) // 2
        parts.append(mean(t - h, t + h + 1))
        parts.append(mean(t - int(sc), t))
        parts.append(mean(t + 1, t + 1 + int(sc)))
    return np.concatenate(parts, axis=1).astype(np.float32)


# --------------------------------------------------------------------------- the model
def _make_classifier(kind, n_estimators, learning_rate, class_weight, random_state, n_jobs):
    if not isinstance(kind, str):
        from sklearn.base import clone

        return clone(kind)
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=n_estimators,
            learning_rate=learning_rate,
            max_leaf_nodes=31,
            l2_regularization=1.0,
            class_weight=class_weight,
            early_stopping=False,
            random_state=random_state,
        )
    if kind == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(
            n_estimators=n_estimators,
            min_samples_leaf=2,
            max_features="sqrt",
            class_weight=class_weight,
            random_state=random_state,
            n_jobs=n_jobs,
        )
    if kind == "logistic":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=0.1, max_iter=500, class_weight=class_weight),
        )
    raise ValueError(f"classifier must be 'hgb', 'extra_trees', 'logistic' or an estimator, got {kind!r}")


class FrameLevelModel(BaseEstimator):
    """Per-frame behaviour labels from sliding windows over long recordings.

    Every window (centred on a frame, ``window`` long, one every ``stride``
    frames) is described by statistics of :class:`FrameFeatures` over the
    window (mean, standard deviation, a temporal pyramid of part means, and
    the centre frame) and classified; frame probabilities average the
    windows containing the frame (kernel ``weights``), are median-filtered
    (``median``), and bouts shorter than ``min_bout`` are merged away.

    Parameters
    ----------
    window : int or str or float
        Window length: frames (int), or seconds (``"1s"``, or a float with fps).
    stride : int or str
        Step between window centres when predicting.
    fit_stride : int or str, optional
        Step when training (default ``stride``); > 1 saves time on long recordings.
    label_mode : {"center", "majority"}
        How a training window is labelled from per-frame labels (see :func:`window_labels`).
    pyramid : tuple of int
        Temporal pyramid levels: part means over halves, quarters, ... (relative to the window mean).
    weights : {"gaussian", "triangular", "uniform", "center"}
        Kernel for aggregating overlapping windows to frames.
    median : int or str
        Median filter length over frame probabilities (0 = off).
    min_bout : int or str
        Minimum bout length (0 = off).
    velocity_step : int
        Central-difference half-width for velocities.
    rotate : {"auto", True, False}
        Body-frame rotation (see :class:`FrameFeatures`).
    acceleration, joint_speed : bool
        Extra per-frame features (see :class:`FrameFeatures`).
    extra_windows : tuple of int or str
        Further window lengths around the same centres whose mean and
        standard deviation are appended to each window's descriptor
        (two or more time scales at once).
    classifier : {"hgb", "extra_trees", "logistic"} or estimator
        Window classifier; an estimator is cloned.
    n_estimators, learning_rate : int, float
        Boosting rounds / trees, and boosting learning rate.
    class_weight : None or "balanced"
    context_folds : int
        0: one stage. k >= 2: a second stage (stacking, "auto-context")
        learns from the temporal context of the first stage's frame
        probabilities (means over ``context_scales`` frames centred, before
        and after each frame); it is trained on out-of-fold first-stage
        probabilities from k folds over the training recordings, so training
        costs k + 1 first-stage fits.
    context_scales : tuple of int
        Context window lengths in frames for the second stage.
    context_raw : bool
        The second stage also sees the frame's own per-frame features
        (:class:`FrameFeatures`), not only the first stage's probabilities.
    ignore_labels : list, optional
        Frame labels that are not behaviours (e.g. ``"base"``, unannotated):
        windows centred on them are not used for training.
    fps : float, optional
        Frame rate used when the sequences do not carry one.
    random_state : int, optional
    n_jobs : int
        Threads for classifiers that take them.
    progress : bool
        Show a progress bar over recordings.

    Examples
    --------
    >>> from skelbehave.layouts import JointLayout
    >>> rng = np.random.default_rng(0)
    >>> lay = JointLayout.from_names(["a", "b", "c"])
    >>> x = np.cumsum(rng.normal(size=(200, 3, 2)), axis=0)
    >>> y = (np.arange(200) // 50) % 2
    >>> x[y == 1] += rng.normal(scale=5, size=(100, 3, 2))
    >>> m = FrameLevelModel(window=9, n_estimators=20, random_state=0)
    >>> m = m.fit([PoseSequence(x, lay, fps=30)], [y])
    >>> m.predict([PoseSequence(x, lay, fps=30)])[0].shape
    (200,)
    """

    def __init__(
        self,
        window: int | str | float = 31,
        stride: int | str = 1,
        fit_stride: int | str | None = None,
        label_mode: str = "center",
        pyramid: tuple[int, ...] = (2, 4),
        weights: str = "gaussian",
        median: int | str = 0,
        min_bout: int | str = 0,
        velocity_step: int = 2,
        rotate: bool | str = "auto",
        acceleration: bool = False,
        joint_speed: bool = False,
        extra_windows: tuple[int, ...] = (),
        classifier: Any = "extra_trees",
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        class_weight: str | None = None,
        context_folds: int = 0,
        context_scales: tuple[int, ...] = (9, 31, 91),
        context_raw: bool = False,
        ignore_labels: Sequence[Any] | None = None,
        fps: float | None = None,
        random_state: int | None = None,
        n_jobs: int = 1,
        progress: bool = False,
    ) -> None:
        self.window = window
        self.stride = stride
        self.fit_stride = fit_stride
        self.label_mode = label_mode
        self.pyramid = pyramid
        self.weights = weights
        self.median = median
        self.min_bout = min_bout
        self.velocity_step = velocity_step
        self.rotate = rotate
        self.acceleration = acceleration
        self.joint_speed = joint_speed
        self.extra_windows = extra_windows
        self.classifier = classifier
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.context_folds = context_folds
        self.context_scales = context_scales
        self.context_raw = context_raw
        self.ignore_labels = ignore_labels
        self.fps = fps
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def _fps_of(self, recs: list[list[PoseSequence]]) -> float | None:
        for r in recs:
            if r[0].fps is not None:
                return r[0].fps
        return self.fps

    def _frames(self, value, fps) -> int:
        return to_frames(value, fps) if value not in (None, 0, "0") else 0

    def _features(self, recs: list[list[PoseSequence]]) -> tuple[np.ndarray, np.ndarray]:
        from tqdm.auto import tqdm

        ff = FrameFeatures(
            velocity_step=self.velocity_step,
            rotate=self.rotate,
            acceleration=self.acceleration,
            joint_speed=self.joint_speed,
        )
        blocks = []
        for r in tqdm(recs, desc="features", disable=not self.progress, leave=False):
            F, names = ff.transform_recording(r)
            blocks.append(F)
        self._feature_names = names
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        return np.concatenate(blocks, axis=0), lengths

    def _check_layout(self, recs) -> None:
        lay = recs[0][0].layout
        n_ind = len(recs[0])
        for r in recs:
            if r[0].layout.joints != lay.joints or len(r) != n_ind or r[0].n_dims != recs[0][0].n_dims:
                raise PoseDataError(
                    f"every recording needs the same layout and number of individuals: expected "
                    f"{n_ind} x {lay.n_joints} joints {list(lay.joints)[:6]}..., found {len(r)} x "
                    f"{r[0].n_joints} joints {list(r[0].layout.joints)[:6]}...",
                    path=r[0].meta.get("source"),
                )

    # ------------------------------------------------------------------ API
    def fit(self, X, y) -> FrameLevelModel:
        """Train on recordings ``X`` with per-frame labels ``y`` (one array per recording).

        Parameters
        ----------
        X : list of recordings
            Each a PoseSequence, a list of PoseSequences (individuals of one
            recording, equal length), or an array ``(T, J, C)``.
        y : list of array-like
            Per-frame labels, one array of length T per recording.
        """
        recs = as_recordings(X, fps=self.fps)
        ys = [np.asarray(v) for v in (y if isinstance(y, (list, tuple)) else list(y))]
        if len(ys) != len(recs):
            raise ValueError(f"got {len(recs)} recordings but {len(ys)} label arrays")
        for i, (r, v) in enumerate(zip(recs, ys, strict=True)):
            if len(v) != r[0].n_frames:
                raise PoseDataError(
                    f"recording {i}: {r[0].n_frames} frames but {len(v)} labels", path=r[0].meta.get("source")
                )
        self._check_layout(recs)
        ignore = set(self.ignore_labels or ())
        allv = np.concatenate(ys)
        classes = np.array(sorted({v.item() if hasattr(v, "item") else v for v in np.unique(allv)} - ignore))
        if len(classes) < 2:
            raise ValueError(f"need at least 2 classes to train, found {classes.tolist()}")
        fps = self._fps_of(recs)
        self.fps_ = fps
        self.window_frames_ = to_frames(self.window, fps)
        self.stride_frames_ = to_frames(self.stride, fps)
        self.fit_stride_frames_ = to_frames(
            self.fit_stride if self.fit_stride is not None else self.stride, fps
        )
        self.median_frames_ = self._frames(self.median, fps)
        self.min_bout_frames_ = self._frames(self.min_bout, fps)
        self.classes_ = classes
        lay = recs[0][0].layout
        self.layout_ = lay
        self.n_individuals_ = len(recs[0])
        self.n_dims_ = recs[0][0].n_dims
        index = {c: k for k, c in enumerate(classes.tolist())}
        yi = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in allv], dtype=np.int64)
        F, lengths = self._features(recs)
        w = sliding_windows(lengths, self.window_frames_, self.fit_stride_frames_)
        wl = window_labels(yi, w, how=self.label_mode, n_classes=len(classes))
        keep = wl >= 0
        w = Windows(w.seq[keep], w.center[keep], w.start[keep], w.stop[keep], w.offsets, w.length, w.stride)
        Xw = self._wstats(F, w)
        log.info("training on %d windows x %d features, %d classes", len(Xw), Xw.shape[1], len(classes))
        clf = self._new_classifier()
        clf.fit(Xw, wl[keep])
        self.n_features_in_ = Xw.shape[1]
        del Xw
        self.context_ = None
        if self.context_folds and self.context_folds >= 2 and len(recs) >= 2:
            self.context_ = self._fit_context(F, lengths, w, wl[keep])
        del F
        self.classifier_ = clf
        self.feature_names_ = list(self._feature_names)
        return self

    def _wstats(self, F: np.ndarray, w: Windows) -> np.ndarray:
        extra = [to_frames(v, self.fps_) for v in (self.extra_windows or ())]
        return _window_stats(F, w, self.pyramid, extra)

    def _new_classifier(self):
        return _make_classifier(
            self.classifier,
            self.n_estimators,
            self.learning_rate,
            self.class_weight,
            self.random_state,
            self.n_jobs,
        )

    def _full_proba(self, clf, X: np.ndarray) -> np.ndarray:
        p = clf.predict_proba(X)
        cls = np.asarray(getattr(clf, "classes_", np.arange(len(self.classes_))), dtype=np.int64)
        if len(cls) != len(self.classes_):  # a class never seen as a window label
            full = np.zeros((len(p), len(self.classes_)))
            full[:, cls] = p
            p = full
        return p

    def _frame_proba_stage1(self, clf, F: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """First-stage frame probabilities of concatenated sequences."""
        w = sliding_windows(lengths, self.window_frames_, self.stride_frames_)
        p = self._full_proba(clf, self._wstats(F, w))
        return np.concatenate(aggregate_windows(p, w, lengths, weights=self.weights))

    def _fit_context(self, F: np.ndarray, lengths: np.ndarray, w_fit: Windows, y_fit: np.ndarray):
        """Second stage on out-of-fold first-stage probabilities (folds over recordings)."""
        n_rec = len(lengths)
        k = min(int(self.context_folds), n_rec)
        rng = np.random.default_rng(self.random_state)
        fold_of = rng.permutation(np.arange(n_rec) % k)
        offsets = np.r_[0, np.cumsum(lengths)]
        P = np.zeros((int(offsets[-1]), len(self.classes_)))
        for f in range(k):
            held = np.flatnonzero(fold_of == f)
            tr = ~np.isin(w_fit.seq, held)
            sub = Windows(
                w_fit.seq[tr], w_fit.center[tr], w_fit.start[tr], w_fit.stop[tr], w_fit.offsets, w_fit.length,
                w_fit.stride,
            )  # fmt: skip
            clf = self._new_classifier()
            clf.fit(self._wstats(F, sub), y_fit[tr])
            rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in held])
            P[rows] = self._frame_proba_stage1(clf, F[rows], lengths[held])
            log.info("context stage: fold %d/%d done", f + 1, k)
        C = self._context_input(P, F, lengths)
        ctx = self._new_classifier()
        ctx.fit(C[w_fit.global_center], y_fit)
        return ctx

    def _context_input(self, P: np.ndarray, F: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        C = _context_features(P, lengths, self.context_scales)
        return np.concatenate([C, F.astype(np.float32)], axis=1) if self.context_raw else C

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this FrameLevelModel is not fitted yet; call fit() first")

    def predict_proba(self, X) -> list[np.ndarray]:
        """Per-frame class probabilities ``(T, n_classes)`` per recording, before smoothing."""
        self._check_fitted()
        recs = as_recordings(X, fps=self.fps)
        out = []
        for r in recs:
            if r[0].layout.joints != self.layout_.joints or len(r) != self.n_individuals_:
                raise PoseDataError(
                    f"the model was trained on {self.n_individuals_} individual(s) with joints "
                    f"{list(self.layout_.joints)}; this recording has {len(r)} with joints "
                    f"{list(r[0].layout.joints)}",
                    path=r[0].meta.get("source"),
                )
            F, lengths = self._features([r])
            P = self._frame_proba_stage1(self.classifier_, F, lengths)
            if self.context_ is not None:
                P = self._full_proba(self.context_, self._context_input(P, F, lengths))
            out.append(P)
        return out

    def smooth(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median filter then minimum bout length: returns (class indices, smoothed probabilities)."""
        p = median_smooth(proba, self.median_frames_) if self.median_frames_ > 1 else proba
        lab = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=np.int64)
        if self.min_bout_frames_ > 1:
            lab = min_bout_length(lab, self.min_bout_frames_, p)
        return lab, p

    def predict(self, X) -> list[np.ndarray]:
        """Per-frame labels (after smoothing), one array per recording."""
        return [self.classes_[self.smooth(p)[0]] for p in self.predict_proba(X)]

    def score(self, X, y) -> float:
        """Frame-level macro F1 over the model's classes (frames with ignored labels left out).

        Makes the model usable with scikit-learn model selection on lists of
        recordings (e.g. ``GroupKFold`` over recordings).
        """
        from .frame_metrics import frame_f1

        ys = [np.asarray(v) for v in y]
        return frame_f1(ys, self.predict(X), labels=self.classes_.tolist(), ignore=self.ignore_labels)

    def predict_table(self, recording) -> pd.DataFrame:
        """One recording's predictions: frame, time, label, ``proba_<class>`` per class.

        ``frame`` is the file's frame number (``meta["start_frame"]`` + row);
        ``time`` = frame / fps in seconds when the frame rate is known, else NaN.
        """
        rec = _as_recording(recording, fps=self.fps)
        p = self.predict_proba([rec])[0]
        lab, ps = self.smooth(p)
        fps = rec[0].fps or self.fps
        T = len(p)
        frame = int(rec[0].meta.get("start_frame", 0) or 0) + np.arange(T)
        df = pd.DataFrame(
            {
                "frame": frame,
                "time": frame / fps if fps else np.full(T, np.nan),
                "label": self.classes_[lab],
            }
        )
        for k, c in enumerate(self.classes_):
            df[f"proba_{c}"] = ps[:, k]
        return df

    # ------------------------------------------------------------------ saving
    _FITTED_SCALARS = (
        "window_frames_", "stride_frames_", "fit_stride_frames_", "median_frames_", "min_bout_frames_",
        "n_individuals_", "n_dims_", "n_features_in_", "fps_",
    )  # fmt: skip

    def save(self, path) -> Any:
        """Save to a ``.skb`` model file (JSON + arrays, checksummed; no pickle).

        Tree-ensemble classifiers (``"hgb"``, ``"extra_trees"``, or such an
        estimator) can be saved.

        Examples
        --------
        >>> # model.save("behaviours.skb"); load_frame_model("behaviours.skb")
        """
        from .serialization import write_archive

        self._check_fitted()
        clf = self.classifier_
        if not isinstance(clf, FlatTrees):
            clf = FlatTrees.from_sklearn(clf)
        params = self.get_params()
        if not isinstance(params["classifier"], str):
            params["classifier"] = "extra_trees" if clf.kind == "forest" else "hgb"
        params["pyramid"] = list(params["pyramid"])
        params["extra_windows"] = list(params["extra_windows"] or ())
        params["context_scales"] = list(params["context_scales"])
        params["ignore_labels"] = None if params["ignore_labels"] is None else list(params["ignore_labels"])
        cparams, carrays = clf.get_state()
        arrays = {f"classifier.{k}": v for k, v in carrays.items()}
        xparams = None
        if getattr(self, "context_", None) is not None:
            ctx = (
                self.context_
                if isinstance(self.context_, FlatTrees)
                else FlatTrees.from_sklearn(self.context_)
            )
            xparams, xarrays = ctx.get_state()
            arrays.update({f"context.{k}": v for k, v in xarrays.items()})
        doc = {
            "kind": "FrameLevelModel",
            "params": params,
            "fitted": {k: getattr(self, k) for k in self._FITTED_SCALARS},
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "layout": self.layout_.to_dict(),
            "feature_names": list(self.feature_names_),
            "classifier": cparams,
            "context": xparams,
        }
        return write_archive(path, doc, arrays)

    @classmethod
    def _from_doc(cls, doc: dict, arrays: dict, path) -> FrameLevelModel:
        from .errors import ModelFileError

        if doc.get("kind") != "FrameLevelModel":
            raise ModelFileError(f"{path}: holds a {doc.get('kind')!r}, not a FrameLevelModel")
        try:
            params = dict(doc["params"])
            params["pyramid"] = tuple(params["pyramid"])
            params["extra_windows"] = tuple(params.get("extra_windows") or ())
            params["context_scales"] = tuple(params["context_scales"])
            m = cls(**params)
            for k in cls._FITTED_SCALARS:
                setattr(m, k, doc["fitted"][k])
            m.classes_ = np.asarray(doc["classes"])
            m.layout_ = JointLayout.from_dict(doc["layout"])
            m.feature_names_ = list(doc["feature_names"])
            sub = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("classifier.")}
            m.classifier_ = FlatTrees.from_state(doc["classifier"], sub)
            m.context_ = None
            if doc.get("context") is not None:
                sub = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("context.")}
                m.context_ = FlatTrees.from_state(doc["context"], sub)
            m.manifest_ = doc.get("_manifest", {})
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{path}: inconsistent frame-level model file ({type(exc).__name__}: {exc})"
            ) from None
        return m

    def segments(self, recording) -> pd.DataFrame:
        """Bouts of one recording: start, end, label, score (mean probability)."""
        rec = _as_recording(recording, fps=self.fps)
        lab, ps = self.smooth(self.predict_proba([rec])[0])
        return segments(lab, ps, fps=rec[0].fps or self.fps, classes=self.classes_)


# --------------------------------------------------------------------------- saving without pickle
def _trees_predict_raw(
    X, feature, threshold, missing_left, left, right, is_leaf, value, roots, tree_col, n_out
):
    """Sum over trees of leaf values per sample (numba kernel, compiled on first use)."""
    n = X.shape[0]
    n_val = value.shape[1]
    out = np.zeros((n, n_out))
    for i in range(n):
        for t in range(roots.shape[0]):
            node = roots[t]
            while not is_leaf[node]:
                v = X[i, feature[node]]
                if np.isnan(v):
                    node = left[node] if missing_left[node] else right[node]
                elif v <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            c = tree_col[t]
            for k in range(n_val):
                out[i, c + k] += value[node, k]
    return out


_KERNELS: dict[str, Any] = {}


def _trees_kernel():
    if "trees" not in _KERNELS:
        import numba

        _KERNELS["trees"] = numba.njit(cache=True, nogil=True)(_trees_predict_raw)
    return _KERNELS["trees"]


class FlatTrees:
    """A fitted tree ensemble as flat arrays, saved and loaded without pickle.

    Made from a ``HistGradientBoostingClassifier`` (``kind="boosted"``) or an
    ``ExtraTreesClassifier`` / ``RandomForestClassifier`` (``kind="forest"``)
    with :meth:`from_sklearn`; predicts like the estimator it came from
    (numeric features, NaN routed as learnt).

    Examples
    --------
    >>> from sklearn.ensemble import ExtraTreesClassifier
    >>> X = np.random.default_rng(0).normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    >>> et = ExtraTreesClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> bool(np.allclose(FlatTrees.from_sklearn(et).predict_proba(X), et.predict_proba(X)))
    True
    """

    _ARRAYS = (
        "feature",
        "threshold",
        "missing_left",
        "left",
        "right",
        "is_leaf",
        "value",
        "roots",
        "tree_col",
    )

    def __init__(self, kind: str, arrays: dict[str, np.ndarray], classes, n_features_in: int) -> None:
        self.kind = kind
        self.arrays = arrays
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = int(n_features_in)

    @classmethod
    def from_sklearn(cls, est) -> FlatTrees:
        """Flatten a fitted HistGradientBoosting, ExtraTrees or RandomForest classifier."""
        name = type(est).__name__
        parts: dict[str, list] = {k: [] for k in cls._ARRAYS}
        base = 0
        if name == "HistGradientBoostingClassifier":
            if getattr(est, "is_categorical_", None) is not None and np.any(est.is_categorical_):
                raise TypeError("categorical features cannot be saved")
            kind = "boosted"
            k = int(est.n_trees_per_iteration_)
            trees = [(pred.nodes, t % k) for it in est._predictors for t, pred in enumerate(it)]
            for nd, col in trees:
                parts["roots"].append(base)
                parts["tree_col"].append(col)
                parts["feature"].append(nd["feature_idx"])
                parts["threshold"].append(nd["num_threshold"])
                parts["missing_left"].append(nd["missing_go_to_left"])
                parts["left"].append(nd["left"].astype(np.int64) + base)
                parts["right"].append(nd["right"].astype(np.int64) + base)
                parts["is_leaf"].append(nd["is_leaf"])
                parts["value"].append(nd["value"].reshape(-1, 1))
                base += len(nd)
            extra = {"baseline": np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)}
        elif name in ("ExtraTreesClassifier", "RandomForestClassifier"):
            kind = "forest"
            for tree in est.estimators_:
                st = tree.tree_.__getstate__()
                nd, val = st["nodes"], np.asarray(st["values"], dtype=np.float64)[:, 0, :]
                leaf = nd["left_child"] < 0
                val = val / np.where(val.sum(1, keepdims=True) > 0, val.sum(1, keepdims=True), 1.0)
                parts["roots"].append(base)
                parts["tree_col"].append(0)
                parts["feature"].append(np.where(leaf, 0, nd["feature"]))
                parts["threshold"].append(nd["threshold"])
                parts["missing_left"].append(nd["missing_go_to_left"])
                parts["left"].append(np.where(leaf, 0, nd["left_child"] + base))
                parts["right"].append(np.where(leaf, 0, nd["right_child"] + base))
                parts["is_leaf"].append(leaf)
                parts["value"].append(val)
                base += len(nd)
            extra = {}
        else:
            raise TypeError(
                f"cannot flatten a {name}; supported: HistGradientBoosting, ExtraTrees, RandomForest"
            )
        dtypes = {"feature": np.int64, "threshold": np.float64, "missing_left": np.bool_, "left": np.int64,
                  "right": np.int64, "is_leaf": np.bool_, "value": np.float64}  # fmt: skip
        arrays = {k: np.concatenate(parts[k]).astype(t) for k, t in dtypes.items()}
        arrays["roots"] = np.asarray(parts["roots"], dtype=np.int64)
        arrays["tree_col"] = np.asarray(parts["tree_col"], dtype=np.int64)
        arrays.update(extra)
        return cls(kind, arrays, est.classes_, est.n_features_in_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, as the source estimator computes them."""
        a = self.arrays
        X = np.ascontiguousarray(X, dtype=np.float64)
        tree = [a[n] for n in ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value")]
        if self.kind == "forest":
            raw = _trees_kernel()(X, *tree, a["roots"], a["tree_col"], a["value"].shape[1])
            return raw / len(a["roots"])
        k = len(a["baseline"])
        raw = _trees_kernel()(X, *tree, a["roots"], a["tree_col"], k)
        raw += a["baseline"]
        if k == 1:
            p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.stack([1 - p1, p1], axis=1)
        raw -= raw.max(axis=1, keepdims=True)
        e = np.exp(raw)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able parameters and arrays."""
        params = {"kind": self.kind, "classes": self.classes_.tolist(), "n_features_in": self.n_features_in_}
        return params, dict(self.arrays)

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> FlatTrees:
        """Rebuild from :meth:`get_state` output, checking that every tree walk ends."""
        kind = params["kind"]
        need = cls._ARRAYS + (("baseline",) if kind == "boosted" else ())
        missing = [k for k in need if k not in arrays]
        if kind not in ("boosted", "forest") or missing:
            raise ValueError(f"tree ensemble of kind {kind!r} lacks arrays {missing}")
        a = {k: np.asarray(arrays[k]) for k in need}
        n = len(a["feature"])
        for k in ("threshold", "missing_left", "left", "right", "is_leaf", "value"):
            if len(a[k]) != n:
                raise ValueError(f"tree ensemble: array {k} has {len(a[k])} nodes, expected {n}")
        if a["value"].ndim != 2 or len(a["tree_col"]) != len(a["roots"]):
            raise ValueError("tree ensemble: malformed value or tree_col array")
        inner = ~a["is_leaf"].astype(bool)
        idx = np.arange(n)
        nf = int(params["n_features_in"])
        roots = a["roots"]
        if len(roots) and (roots.min() < 0 or roots.max() >= n):
            raise ValueError("tree ensemble: a root refers outside the node table")
        # children after their parent and inside the table: every walk ends at a leaf
        if (a["left"][inner] <= idx[inner]).any() or (a["right"][inner] <= idx[inner]).any():
            raise ValueError("tree ensemble: child nodes must come after their parent")
        if inner.any() and (max(a["left"][inner].max(), a["right"][inner].max()) >= n):
            raise ValueError("tree ensemble: a node refers outside the node table")
        if inner.any() and (a["feature"][inner].min() < 0 or a["feature"][inner].max() >= nf):
            raise ValueError("tree ensemble: a split uses a feature outside the input")
        n_out = len(a["baseline"]) if kind == "boosted" else a["value"].shape[1]
        if len(a["tree_col"]) and (
            a["tree_col"].min() < 0 or (a["tree_col"] + a["value"].shape[1]).max() > n_out
        ):
            raise ValueError("tree ensemble: tree output column out of range")
        for k in ("feature", "left", "right", "roots", "tree_col"):
            a[k] = a[k].astype(np.int64)
        for k in ("is_leaf", "missing_left"):
            a[k] = a[k].astype(np.bool_)
        a["threshold"] = a["threshold"].astype(np.float64)
        a["value"] = a["value"].astype(np.float64)
        return cls(kind, a, np.asarray(params["classes"]), nf)


def load_frame_model(path) -> FrameLevelModel:
    """Load a :class:`FrameLevelModel` saved with :meth:`FrameLevelModel.save`.

    Raises :class:`~skelbehave.errors.ModelFileError` for a truncated,
    altered, newer-format or non-frame-level file.

    Examples
    --------
    >>> # model = load_frame_model("behaviours.skb")
    """
    from .serialization import read_archive

    doc, arrays = read_archive(path)
    return FrameLevelModel._from_doc(doc, arrays, path)
