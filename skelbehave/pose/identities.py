"""Identities over a whole recording: track, stitch fragments across losses, drop short tracks.

:func:`track_poses` runs the frame-to-frame
:class:`~skelbehave.pose.tracking.PoseTracker` over a whole recording and then
repairs what a frame-to-frame tracker cannot: fragments of one person
separated by a loss (the person left the view, was occluded, or the detector
missed them) are stitched together when their time spans do not overlap and
they are compatible: the new fragment starts where the old one ended, or
where its velocity was taking it, and the two have the same image size and
body proportions (bone-length ratios of the 3-D landmarks). Tracks seen in
fewer than ``min_track_frames`` frames are then dropped (spurious
detections), and the report says which.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import ParameterError
from .tracking import PoseTracker, _boxes

__all__ = ["TrackingReport", "body_proportions", "stitch_fragments", "track_poses"]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- body proportions
#: bones (pairs of mediapipe33 joint names) whose lengths, divided by the torso
#: length, describe a body's proportions; left and right are averaged
_BONES = {
    "shoulders": [("left_shoulder", "right_shoulder")],
    "hips": [("left_hip", "right_hip")],
    "upper_arm": [("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow")],
    "forearm": [("left_elbow", "left_wrist"), ("right_elbow", "right_wrist")],
    "thigh": [("left_hip", "left_knee"), ("right_hip", "right_knee")],
    "shin": [("left_knee", "left_ankle"), ("right_knee", "right_ankle")],
}


def body_proportions(world: np.ndarray, layout: str = "mediapipe33") -> np.ndarray:
    """Log bone-length ratios (to the torso) of 3-D poses: a body's proportions.

    The torso is the distance between the shoulder centre and the hip centre.
    Left and right bones are averaged; a bone with a missing joint is NaN.

    Parameters
    ----------
    world : ndarray, shape (n, J, 3)
        3-D landmarks (metres or any unit: only ratios are kept).
    layout : str
        Joint layout of ``world`` (it needs the joint names of ``_BONES``).

    Returns
    -------
    ndarray, shape (n, 6)
        ``log(length / torso)`` of shoulders, hips, upper arm, forearm,
        thigh and shin.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.layouts import get_layout
    >>> L = get_layout("mediapipe33")
    >>> p = np.zeros((1, 33, 3))
    >>> joints = {"shoulder": (0.2, 0.5), "hip": (0.1, 0), "elbow": (0.2, 0.25), "wrist": (0.2, 0),
    ...           "knee": (0.1, -0.5), "ankle": (0.1, -1)}
    >>> for name, (x, y) in joints.items():
    ...     p[0, L.index("left_" + name), :2] = (-x, y)
    ...     p[0, L.index("right_" + name), :2] = (x, y)
    >>> np.exp(body_proportions(p)).round(2).tolist()
    [[0.8, 0.4, 0.5, 0.5, 1.0, 1.0]]
    """
    from ..layouts import get_layout

    lay = get_layout(layout)
    w = np.asarray(world, dtype=float)
    ix = lay.index

    def mid(a: str, b: str) -> np.ndarray:
        return (w[:, ix(a)] + w[:, ix(b)]) / 2

    torso = np.linalg.norm(mid("left_shoulder", "right_shoulder") - mid("left_hip", "right_hip"), axis=-1)
    out = np.full((len(w), len(_BONES)), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, pairs in enumerate(_BONES.values()):
            lengths = np.stack([np.linalg.norm(w[:, ix(a)] - w[:, ix(b)], axis=-1) for a, b in pairs])
            out[:, k] = (
                np.log(np.nanmean(lengths, axis=0) / torso) if len(pairs) > 1 else np.log(lengths[0] / torso)
            )
    out[~np.isfinite(out)] = np.nan
    return out


# ----------------------------------------------------------------------------- whole recordings
@dataclass
class _Fragment:
    """What stitching needs to know of one tracker fragment."""

    id: int
    frames: np.ndarray  # (n,) frame indices, increasing
    boxes: np.ndarray  # (n, 4)
    proportions: np.ndarray | None  # (6,) median log bone ratios, or None

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    def centre(self, i: int) -> np.ndarray:
        return (self.boxes[i, :2] + self.boxes[i, 2:]) / 2

    def size(self, which: slice) -> float:
        b = self.boxes[which]
        return float(np.median(np.maximum(b[:, 3] - b[:, 1], b[:, 2] - b[:, 0])))

    def velocity(self, at_end: bool, span: int = 5) -> np.ndarray:
        """Centre displacement per frame over the first or last ``span`` detections."""
        sl = slice(-span, None) if at_end else slice(0, span)
        f, b = self.frames[sl], self.boxes[sl]
        if len(f) < 2 or f[-1] == f[0]:
            return np.zeros(2)
        c = (b[:, :2] + b[:, 2:]) / 2
        return (c[-1] - c[0]) / (f[-1] - f[0])


@dataclass
class TrackingReport:
    """What :func:`track_poses` did to the tracker's fragments.

    Attributes
    ----------
    fragments : int
        Fragments the frame-to-frame tracker produced (tracks before stitching).
    fragment_lengths : dict
        ``{fragment: detections}`` of every fragment.
    stitched : list of (int, int)
        ``(earlier, later)`` fragment pairs joined into one identity.
    dropped : dict
        ``{identity: frames seen}`` of the tracks shorter than ``min_track_frames``.
    lengths : dict
        ``{identity: frames seen}`` of the tracks kept (identities renumbered 0, 1, ...).
    min_track_frames : int
        The minimum length applied.
    """

    fragments: int = 0
    fragment_lengths: dict[int, int] = field(default_factory=dict)
    stitched: list[tuple[int, int]] = field(default_factory=list)
    dropped: dict[int, int] = field(default_factory=dict)
    lengths: dict[int, int] = field(default_factory=dict)
    min_track_frames: int = 1

    def as_dict(self) -> dict:
        """Plain types (for ``PoseSequence.meta`` and JSON)."""
        return {
            "fragments": self.fragments,
            "fragment_lengths": {str(k): v for k, v in self.fragment_lengths.items()},
            "stitched": [list(p) for p in self.stitched],
            "dropped": {str(k): v for k, v in self.dropped.items()},
            "lengths": {str(k): v for k, v in self.lengths.items()},
            "min_track_frames": self.min_track_frames,
        }


def stitch_fragments(
    fragments: list[_Fragment],
    *,
    max_gap: int,
    max_distance: float = 0.5,
    max_jump: float = 1.0,
    max_size_ratio: float = 1.4,
    max_proportion_difference: float = 0.1,
) -> dict[int, int]:
    """Join fragments of one person across losses: ``{fragment id: identity}`` (an earlier fragment's id).

    Fragment ``b`` may continue fragment ``a`` when ``b`` starts after ``a``
    ends, at most ``max_gap`` frames later; the distance from ``b``'s first
    box centre to ``a``'s last one, or to where ``a``'s velocity was taking
    it, is within ``max_distance * sqrt(gap)`` person sizes but never more
    than ``max_jump``; their image sizes differ by at most ``max_size_ratio``;
    and their body proportions (median log bone ratios) differ by at most
    ``max_proportion_difference`` on average (when both are known). The
    pairs are chosen together by the Hungarian method on the sum of the
    normalised distances, so chains a -> b -> c form in one pass.

    Measured on the shared clips (MediaPipe world landmarks): the four passes
    of the KTH jogger differ in body proportions by 0.02-0.06, the different
    people of the Intel clip by 0.05-0.1, so proportions veto clear
    mismatches only; position, time and image size carry most of the decision.
    """
    n = len(fragments)
    big = 1e6
    cost = np.full((n, n), big)
    for i, a in enumerate(fragments):
        va = a.velocity(at_end=True)
        end_c = a.centre(-1)
        size_a = a.size(slice(-10, None))
        for j, b in enumerate(fragments):
            gap = b.start - a.end
            if i == j or gap < 1 or gap > max_gap:
                continue
            size_b = b.size(slice(0, 10))
            ratio = max(size_a, size_b) / max(min(size_a, size_b), 1e-9)
            if ratio > max_size_ratio:
                continue
            start_c = b.centre(0)
            # from where a was lost (it left and came back), or from where its velocity was taking it
            d = min(np.linalg.norm(start_c - end_c), np.linalg.norm(start_c - (end_c + va * gap)))
            d /= max(size_a, size_b)
            gate = min(max_distance * np.sqrt(gap), max_jump)
            if not d <= gate:
                continue
            c = d / gate + (ratio - 1) / (max_size_ratio - 1)
            if a.proportions is not None and b.proportions is not None:
                diff = np.nanmean(np.abs(a.proportions - b.proportions))
                if np.isfinite(diff):
                    if diff > max_proportion_difference:
                        continue
                    c += diff / max_proportion_difference
            cost[i, j] = c
    rows, cols = linear_sum_assignment(cost)
    nxt = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < big}
    prev = {c: r for r, c in nxt.items()}
    identity: dict[int, int] = {}
    for i in sorted(range(n), key=lambda k: fragments[k].start):
        root = i
        while root in prev:
            root = prev[root]
        identity[fragments[i].id] = fragments[root].id
    return identity


def track_poses(
    poses: list[np.ndarray],
    *,
    scores: list[np.ndarray | None] | None = None,
    world: list[np.ndarray | None] | None = None,
    layout: str = "mediapipe33",
    max_distance: float = 0.5,
    max_gap: int = 30,
    stitch_gap: int | None = None,
    min_track_frames: int = 1,
) -> tuple[list[list[int | None]], TrackingReport]:
    """Identities for the detections of a whole recording: track, stitch, drop short tracks.

    Parameters
    ----------
    poses : list of ndarray
        One ``(n_t, J, 2)`` array per frame (``n_t`` may be 0): image
        landmarks in units of the image height (x multiplied by width / height).
    scores : list of ndarray, optional
        Detection confidence per frame (duplicates keep the more confident).
    world : list of ndarray, optional
        3-D landmarks per frame, ``(n_t, J, 3)``, for body proportions (see
        :func:`body_proportions`; ``layout`` names their joints).
    max_distance, max_gap : float, int
        :class:`PoseTracker`'s gate (person sizes per sqrt(frame)) and the
        longest loss, in frames, it bridges on its own.
    stitch_gap : int, optional
        Longest loss, in frames, across which two fragments may still be one
        person (default ``10 * max_gap``); see :func:`stitch_fragments`.
    min_track_frames : int
        Tracks seen in fewer frames are dropped (their detections get ``None``).

    Returns
    -------
    ids : list of list
        Per frame, the identity of each detection (0, 1, ... in order of
        first appearance), or ``None`` (a duplicate, or a dropped track).
    report : TrackingReport

    Examples
    --------
    >>> import numpy as np
    >>> box = np.array([[0.0, 0.0], [0.3, 0.0], [0.0, 0.6], [0.3, 0.6]])
    >>> walk = [box[None] + [0.02 * t, 0.0] for t in range(10)]
    >>> frames = walk[:4] + [np.empty((0, 4, 2))] * 60 + walk[4:]  # lost for 60 frames
    >>> ids, report = track_poses(frames, max_gap=10, min_track_frames=3)
    >>> sorted({i for f in ids for i in f}), report.fragments, report.stitched
    ([0], 2, [(0, 1)])
    """
    if min_track_frames < 1:
        raise ParameterError(f"min_track_frames must be >= 1, got {min_track_frames}")
    if max_gap < 0:
        raise ParameterError(f"max_gap must be >= 0, got {max_gap}")
    stitch_gap = 10 * max(max_gap, 1) if stitch_gap is None else int(stitch_gap)
    tracker = PoseTracker(max_distance=max_distance, max_gap=max_gap)
    raw: list[list[int | None]] = []
    for t, p in enumerate(poses):
        sc = None if scores is None else scores[t]
        raw.append(tracker.update(t, p, scores=sc) if len(p) else [])
    # fragments
    rows: dict[int, list[tuple[int, int]]] = {}
    for t, ids in enumerate(raw):
        for k, tid in enumerate(ids):
            if tid is not None:
                rows.setdefault(tid, []).append((t, k))
    frags = []
    for tid, rk in rows.items():
        fr = np.array([t for t, _ in rk])
        boxes = np.stack([_boxes(np.asarray(poses[t][k : k + 1], dtype=float))[0] for t, k in rk])
        prop = None
        if world is not None:
            w = np.stack([np.asarray(world[t][k], dtype=float) for t, k in rk])
            with np.errstate(all="ignore"):
                prop = np.nanmedian(body_proportions(w, layout), axis=0) if len(w) else None
        frags.append(_Fragment(tid, fr, boxes, prop))
    identity = stitch_fragments(frags, max_gap=stitch_gap, max_distance=max_distance)
    report = TrackingReport(
        fragments=len(frags),
        fragment_lengths={f.id: len(f.frames) for f in frags},
        min_track_frames=int(min_track_frames),
    )
    report.stitched = sorted((identity[f.id], f.id) for f in frags if identity[f.id] != f.id)
    seen: dict[int, int] = {}
    for f in frags:
        seen[identity[f.id]] = seen.get(identity[f.id], 0) + len(f.frames)
    first = {}
    for f in sorted(frags, key=lambda f: f.start):
        first.setdefault(identity[f.id], f.start)
    kept = [r for r in sorted(first, key=lambda r: (first[r], r)) if seen[r] >= min_track_frames]
    renumber = {r: i for i, r in enumerate(kept)}
    report.dropped = {r: seen[r] for r in sorted(seen) if r not in renumber}
    report.lengths = {renumber[r]: seen[r] for r in kept}
    if report.dropped:
        logger.info(
            "dropped %d track(s) seen in fewer than %d frames: %s",
            len(report.dropped),
            min_track_frames,
            report.dropped,
        )
    out = [[None if i is None else renumber.get(identity[i]) for i in ids] for ids in raw]
    return out, report
