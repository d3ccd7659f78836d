"""`PoseSequence`: one track of one subject, validated.

Positions are a float array ``(T, J, C)`` (C = 3 for x, y, z; 2 for 2-D
inputs). Missing joints are NaN, never 0. ``fps`` is explicit metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import LayoutError, PoseDataError
from .layouts import CANONICAL_CONVENTION, JointLayout, convention_transform, get_layout, layout_mapping

__all__ = ["PoseSequence", "as_sequences", "convert_layouts"]

logger = logging.getLogger(__name__)


#: largest coordinate magnitude a sequence may hold: the float32 feature pipeline
#: squares differences of coordinates, so anything near float32's 3.4e38 overflows
MAX_COORDINATE = 1e30


def _check_range(pos: np.ndarray, layout: JointLayout, src) -> None:
    """Refuse infinite coordinates and magnitudes above :data:`MAX_COORDINATE` (NaN is fine).

    Uses NaN-skipping reductions, so no array of the input's size is allocated.
    """
    if not pos.size:
        return
    hi = np.fmax.reduce(pos, axis=None)
    lo = np.fmin.reduce(pos, axis=None)
    if not (hi > MAX_COORDINATE or lo < -MAX_COORDINATE):
        return
    t, j, c = np.argwhere(~(np.abs(pos) <= MAX_COORDINATE) & ~np.isnan(pos))[0]
    val = pos[t, j, c]
    where = f"at frame {t}, joint {layout.joints[j]!r} ({'xyz'[c]})"
    if np.isinf(val):
        raise PoseDataError(f"infinite coordinate {where}; use NaN for missing", path=src)
    raise PoseDataError(
        f"coordinate {float(val)!r} {where} is beyond +-{MAX_COORDINATE:g}: the float32 feature pipeline "
        "cannot hold it; rescale the data (e.g. to metres or pixels) or use NaN for missing",
        path=src,
    )


class PoseSequence:
    """Joint positions of one subject over time.

    Parameters
    ----------
    position : array-like, shape (T, J, C)
        Joint coordinates, C = 2 or 3. NaN marks a missing joint.
    layout : str or JointLayout
        Joint layout; ``J`` must equal its joint count.
    fps : float or None
        Frames per second. ``None`` means unknown: operations that need time
        in seconds then raise instead of guessing.
    confidence : array-like, shape (T, J), optional
        Per-joint confidence in [0, 1] (likelihood, visibility).
    meta : mapping, optional
        Free-form metadata: source file, subject, person id, ...

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence(np.zeros((10, 20, 3)), layout="kinect_v1", fps=30)
    >>> seq.n_frames, seq.n_joints, seq.n_dims
    (10, 20, 3)
    >>> seq.duration
    0.3333333333333333
    """

    __slots__ = ("position", "confidence", "fps", "layout", "meta")

    def __init__(
        self,
        position,
        layout: str | JointLayout,
        fps: float | None = None,
        confidence=None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.meta: dict[str, Any] = dict(meta or {})
        src = self.meta.get("source")
        self.layout = get_layout(layout)
        try:
            pos = np.asarray(position, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise PoseDataError(f"positions must be numeric, got {exc}", path=src) from None
        if pos.ndim != 3:
            raise PoseDataError(
                f"positions must have shape (frames, joints, coords), got {pos.ndim} dimensions {pos.shape}",
                path=src,
            )
        T, J, C = pos.shape
        if J != self.layout.n_joints:
            raise PoseDataError(
                f"layout {self.layout.name!r} expects {self.layout.n_joints} joints, found {J}",
                path=src,
            )
        if C not in (2, 3):
            raise PoseDataError(f"expected 2 or 3 coordinates per joint, found {C}", path=src)
        _check_range(pos, self.layout, src)
        self.position = pos
        if confidence is not None:
            conf = np.asarray(confidence, dtype=np.float64)
            if conf.shape != (T, J):
                raise PoseDataError(
                    f"confidence must have shape (frames, joints) = {(T, J)}, got {conf.shape}", path=src
                )
            extremes = (np.fmax.reduce(conf, axis=None), np.fmin.reduce(conf, axis=None)) if conf.size else ()
            if np.isinf(extremes).any():
                t, j = np.argwhere(np.isinf(conf))[0]
                raise PoseDataError(
                    f"infinite confidence at frame {t}, joint {self.layout.joints[j]!r}; use NaN for missing",
                    path=src,
                )
            self.confidence = conf
        else:
            self.confidence = None
        if fps is not None:
            fps = float(fps)
            if not np.isfinite(fps) or fps <= 0:
                raise PoseDataError(f"fps must be a positive number, got {fps}", path=src)
        self.fps = fps

    # ---------------------------------------------------------------- basics
    @classmethod
    def from_numpy(cls, position, layout, fps=None, confidence=None, **meta) -> PoseSequence:
        """Build from a ``(T, J, C)`` array; keyword arguments become ``meta``.

        Examples
        --------
        >>> import numpy as np
        >>> PoseSequence.from_numpy(np.ones((5, 17, 2)), "coco17", fps=25, subject=3).meta
        {'subject': 3}
        """
        return cls(position, layout, fps=fps, confidence=confidence, meta=meta)

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return self.position.shape[0]

    @property
    def n_joints(self) -> int:
        """Number of joints J."""
        return self.position.shape[1]

    @property
    def n_dims(self) -> int:
        """Coordinates per joint C (2 or 3)."""
        return self.position.shape[2]

    @property
    def duration(self) -> float:
        """Length in seconds; needs ``fps``."""
        return self.n_frames / self.require_fps()

    @property
    def times(self) -> np.ndarray:
        """Time of each frame in seconds; needs ``fps``."""
        return np.arange(self.n_frames) / self.require_fps()

    def require_fps(self) -> float:
        """Return ``fps`` or raise a clear error when it is unknown."""
        if self.fps is None:
            raise PoseDataError(
                "this operation needs the frame rate, but fps is unknown; pass fps=... when reading",
                path=self.meta.get("source"),
            )
        return self.fps

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        src = self.meta.get("source")
        where = f", source={src!r}" if src else ""
        return (
            f"PoseSequence(frames={self.n_frames}, joints={self.n_joints}, dims={self.n_dims}, "
            f"layout={self.layout.name!r}, fps={self.fps}{where})"
        )

    def copy(self, **changes) -> PoseSequence:
        """A deep copy, with ``position``, ``confidence``, ``fps`` or ``meta`` replaced."""
        pos = changes.pop("position", self.position.copy())
        conf = changes.pop("confidence", None if self.confidence is None else self.confidence.copy())
        fps = changes.pop("fps", self.fps)
        meta = changes.pop("meta", dict(self.meta))
        layout = changes.pop("layout", self.layout)
        if changes:
            raise TypeError(f"unexpected fields {sorted(changes)}")
        return PoseSequence(pos, layout, fps=fps, confidence=conf, meta=meta)

    @property
    def missing(self) -> np.ndarray:
        """Boolean (T, J): True where a joint is missing (any coordinate NaN)."""
        return np.isnan(self.position).any(axis=2)

    def __getitem__(self, frames) -> PoseSequence:
        """Frames by slice or index array; metadata is kept."""
        if isinstance(frames, (int, np.integer)):
            t = int(frames) + (self.n_frames if frames < 0 else 0)
            if not 0 <= t < self.n_frames:
                raise IndexError(f"frame {int(frames)} out of range for a sequence of {self.n_frames} frames")
            frames = slice(t, t + 1)
        conf = None if self.confidence is None else self.confidence[frames]
        return PoseSequence(self.position[frames], self.layout, self.fps, conf, self.meta)

    # --------------------------------------------------------------- cleaning
    def mark_zero_frames_missing(self) -> PoseSequence:
        """Kinect writes all-zero frames when it saw no skeleton: make them NaN.

        A frame counts as "no skeleton" when every coordinate of every joint
        is exactly 0. Returns a new sequence.

        Examples
        --------
        >>> import numpy as np
        >>> p = np.ones((3, 20, 3)); p[1] = 0
        >>> s = PoseSequence(p, "kinect_v1").mark_zero_frames_missing()
        >>> bool(np.isnan(s.position[1]).all()), bool(np.isnan(s.position[0]).any())
        (True, False)
        """
        pos = self.position.copy()
        zero = np.all(pos == 0, axis=(1, 2))
        pos[zero] = np.nan
        conf = None
        if self.confidence is not None:
            conf = self.confidence.copy()
            conf[zero] = 0.0
        return self.copy(position=pos, confidence=conf)

    def fill_gaps(self, max_gap: int | None = 5, *, edges: bool = False) -> PoseSequence:
        """Linearly interpolate runs of missing frames per joint (the package's one gap filler).

        Parameters
        ----------
        max_gap : int or None
            Longest run of missing frames that is filled; ``None`` fills runs
            of any length. Longer runs stay NaN.
        edges : bool
            Also fill runs at the start and end of the sequence with the first
            and last present value (of any length). Without it they stay NaN.
            A joint present in a single frame is then held there throughout.

        Returns
        -------
        PoseSequence
            A new sequence; joints missing in every frame stay NaN.

        Examples
        --------
        >>> import numpy as np
        >>> p = np.arange(5.0)[:, None, None] * np.ones((5, 17, 2)); p[2] = np.nan
        >>> float(PoseSequence(p, "coco17").fill_gaps(1).position[2, 0, 0])
        2.0
        >>> p[:2] = np.nan  # a gap at the start
        >>> PoseSequence(p, "coco17").fill_gaps(None, edges=True).position[:3, 0, 0].tolist()
        [3.0, 3.0, 3.0]
        """
        if max_gap is not None and max_gap < 0:
            raise ValueError(f"max_gap must be >= 0 or None, got {max_gap}")
        longest = self.n_frames if max_gap is None else int(max_gap)
        pos = self.position.copy()
        T = self.n_frames
        t = np.arange(T)
        miss = self.missing
        for j in np.flatnonzero(miss.any(axis=0)):
            m = miss[:, j]
            ok = ~m
            if ok.sum() < (1 if edges else 2):
                continue
            # label runs of missing frames
            run_edges = np.diff(np.r_[0, m.astype(np.int8), 0])
            starts = np.flatnonzero(run_edges == 1)
            ends = np.flatnonzero(run_edges == -1)  # exclusive
            fill = np.zeros(T, dtype=bool)
            for s, e in zip(starts, ends, strict=True):
                inner = s > 0 and e < T
                if (inner and e - s <= longest) or (not inner and edges):
                    fill[s:e] = True
            if fill.any():
                for c in range(self.n_dims):  # np.interp holds the end values outside the present frames
                    pos[fill, j, c] = np.interp(t[fill], t[ok], pos[ok, j, c])
        return self.copy(position=pos)

    def resample(self, n_frames: int, *, start: float = 0.0, stop: float = 1.0) -> PoseSequence:
        """Linear resampling in time to exactly ``n_frames`` frames (the package's one resampler).

        Output frame ``k`` sits at input position
        ``(start + (stop - start) k / (n_frames - 1)) (T - 1)``. ``fps`` is
        scaled so that the duration of the part kept is unchanged. An output
        frame between two input frames is NaN where either of them is NaN; one
        that falls on an input frame copies it.

        Parameters
        ----------
        n_frames : int
            Output length (>= 1).
        start, stop : float
            The part of the sequence kept, as fractions of its length
            (``0 <= start < stop <= 1``; a crop when not 0 and 1).

        Examples
        --------
        >>> import numpy as np
        >>> s = PoseSequence(np.random.rand(41, 20, 3), "msr20", fps=15)
        >>> r = s.resample(64)
        >>> r.n_frames, round(r.duration, 6) == round(s.duration, 6)
        (64, True)
        """
        if n_frames < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        if not 0.0 <= start < stop <= 1.0:
            raise ValueError(f"need 0 <= start < stop <= 1, got start={start}, stop={stop}")
        T = self.n_frames
        if T == 0:
            raise PoseDataError("cannot resample an empty sequence", path=self.meta.get("source"))
        if T == 1:
            pos = np.repeat(self.position, n_frames, axis=0)
            conf = None if self.confidence is None else np.repeat(self.confidence, n_frames, axis=0)
        else:
            # output frame k sits at input position x = k (T-1)/(n-1); blend the two input frames
            # around it. A position that falls on an input frame takes that frame as is, so a
            # NaN in the next frame does not spread onto it.
            x = np.linspace(start * (T - 1.0), stop * (T - 1.0), n_frames)
            lo = np.clip(np.floor(x + 1e-9).astype(np.int64), 0, T - 1)
            w = np.clip(x - lo, 0.0, 1.0)
            w[np.abs(w) < 1e-9] = 0.0
            hi = np.minimum(lo + 1, T - 1)
            exact = w == 0.0

            def _lerp(a: np.ndarray) -> np.ndarray:
                ww = w.reshape(-1, *([1] * (a.ndim - 1)))
                out = (1.0 - ww) * a[lo] + ww * a[hi]
                out[exact] = a[lo[exact]]
                return out

            pos = _lerp(self.position)
            conf = None if self.confidence is None else _lerp(self.confidence)
        fps = None if self.fps is None else self.fps * n_frames / (T * (stop - start))
        return self.copy(position=pos, confidence=conf, fps=fps)

    # ------------------------------------------------- layouts and conventions
    @property
    def convention(self) -> dict | None:
        """Axis directions and unit of the coordinates.

        ``meta["convention"]`` when a reader set it, else the layout's, with the
        unit from ``meta["units"]`` when given (MediaPipe image landmarks:
        ``"normalized"``, whose axes point as the world landmarks' do).

        Examples
        --------
        >>> import numpy as np
        >>> PoseSequence(np.zeros((2, 33, 3)), "mediapipe33").convention
        {'x': 'right', 'y': 'down', 'z': 'away', 'unit': 'm'}
        """
        conv = self.meta.get("convention")
        if conv is not None:
            return dict(conv)
        if self.layout.convention is None:
            return None
        conv = dict(self.layout.convention)
        units = self.meta.get("units")  # e.g. "normalized" for MediaPipe image landmarks
        if isinstance(units, str) and units:
            conv["unit"] = units
        return conv

    def to_convention(self, convention: dict | None = None) -> PoseSequence:
        """Coordinates in another axis convention and unit (default: Kinect camera space).

        Parameters
        ----------
        convention : dict, optional
            Target convention (see :func:`skelbehave.layouts.convention_transform`);
            default :data:`skelbehave.layouts.CANONICAL_CONVENTION` (x to the
            camera's left, y up, z away from the camera, metres).

        Returns
        -------
        PoseSequence
            Same layout; ``meta["convention"]`` records the result's convention.
            A sequence whose convention is unknown is returned unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> p = np.zeros((1, 33, 3)); p[0, 0] = [0.1, -0.5, -0.2]  # nose above the hips (y down)
        >>> PoseSequence(p, "mediapipe33").to_convention().position[0, 0].tolist()
        [-0.1, 0.5, -0.2]
        """
        src = self.convention
        if src is None:
            return self
        m, scale, unit = convention_transform(src, convention, self.n_dims)
        conv = dict(CANONICAL_CONVENTION if convention is None else convention, unit=unit)
        if self.n_dims == 2:
            conv.pop("z", None)
        if not np.array_equal(m, np.eye(self.n_dims)) or scale != 1.0:
            pos = scale * np.einsum("tjc,dc->tjd", self.position, m)
        else:
            pos = self.position.copy()
        meta = dict(self.meta, convention=conv)
        return self.copy(position=pos, meta=meta)

    def to_layout(self, layout: str | JointLayout) -> PoseSequence:
        """Convert to another layout through the common body skeleton, and to its convention.

        Each target joint is the mean of the source joints the layouts'
        mappings name (see :func:`skelbehave.layouts.layout_mapping`); a mean
        over a missing joint is missing (NaN). Confidence is the smallest of
        the joints averaged. Coordinates are brought to the target layout's
        convention (axis directions, unit) when both are known.

        Parameters
        ----------
        layout : str or JointLayout
            Target layout, typically ``"common15"``.

        Returns
        -------
        PoseSequence
            ``meta["source_layout"]`` names the layout converted from.

        Raises
        ------
        LayoutError
            Listing the target joints the source layout cannot provide.

        Examples
        --------
        >>> import numpy as np
        >>> p = np.zeros((4, 33, 3)); p[:, 23, 0], p[:, 24, 0] = 0.1, -0.1  # the hips
        >>> c = PoseSequence(p, "mediapipe33", fps=25).to_layout("common15")
        >>> c.layout.name, c.n_joints, c.meta["source_layout"], float(c.position[0, 0, 0])
        ('common15', 15, 'mediapipe33', 0.0)
        """
        target = get_layout(layout)
        if target.joints == self.layout.joints and target.name == self.layout.name:
            out = self
        else:
            idx = layout_mapping(self.layout, target)
            pos = np.stack([self.position[:, i].mean(axis=1) for i in idx], axis=1)
            conf = None
            if self.confidence is not None:
                conf = np.stack([self.confidence[:, i].min(axis=1) for i in idx], axis=1)
            meta = dict(self.meta, source_layout=self.layout.name)
            conv = self.convention
            if conv is not None:
                meta["convention"] = conv
            out = PoseSequence(pos, target, fps=self.fps, confidence=conf, meta=meta)
        conv = out.convention
        if target.convention is not None and conv is not None and conv != target.convention:
            out = out.to_convention(target.convention)
        if out is not self and out.meta.get("convention") == target.convention:
            del out.meta["convention"]  # the layout's own convention goes without saying
        return out


_CONVERSIONS_LOGGED: set[tuple[str, str]] = set()


def convert_layouts(seqs: list[PoseSequence], layout: str | JointLayout) -> list[PoseSequence]:
    """Bring every sequence to ``layout`` (see :meth:`PoseSequence.to_layout`); logged once per pair.

    Sequences already in ``layout`` are returned as they are. A model that
    meets sequences of another skeleton calls this: each conversion from one
    layout to another is logged at INFO level the first time it happens.

    Raises
    ------
    LayoutError
        Naming the item, both layouts and the joints that have no counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> seqs = [PoseSequence(np.zeros((3, 20, 3)), "kinect_v1"),
    ...         PoseSequence(np.zeros((3, 33, 3)), "mediapipe33")]
    >>> [s.layout.name for s in convert_layouts(seqs, "common15")]
    ['common15', 'common15']
    """
    target = get_layout(layout)
    out = []
    for i, s in enumerate(seqs):
        if s.layout.joints == target.joints:
            out.append(s)
            continue
        try:
            out.append(s.to_layout(target))
        except LayoutError as exc:
            msg = f"item {i}: layout {s.layout.name!r} differs from {target.name!r}: {exc}"
            raise LayoutError(msg) from None
        pair = (s.layout.name, target.name)
        if pair not in _CONVERSIONS_LOGGED:
            _CONVERSIONS_LOGGED.add(pair)
            logger.info("converting poses from layout %r to %r (through the common skeleton)", *pair)
    return out


def as_sequences(X, layout=None, fps=None) -> list[PoseSequence]:
    """Normalise user input to a list of :class:`PoseSequence`.

    Accepts a PoseSequence, a ``(T, J, C)`` array, or a list mixing both
    (arrays need ``layout``). Validation errors name the item's position.

    Examples
    --------
    >>> import numpy as np
    >>> seqs = as_sequences([np.zeros((4, 20, 3)), np.zeros((6, 20, 3))], layout="msr20")
    >>> [s.n_frames for s in seqs]
    [4, 6]
    """
    if isinstance(X, PoseSequence):
        return [X]
    if isinstance(X, np.ndarray) and X.ndim == 3 and X.dtype != object:
        X = [X]
    out = []
    for i, item in enumerate(X):
        if isinstance(item, PoseSequence):
            out.append(item)
            continue
        if layout is None:
            raise PoseDataError(
                f"item {i} is a plain array; pass layout=... (one of the registered layouts) "
                "or give PoseSequence objects"
            )
        try:
            out.append(PoseSequence(item, layout, fps=fps, meta={"index": i}))
        except PoseDataError as exc:
            raise PoseDataError(f"item {i}: {exc.reason}") from None
    return out
