"""Identity tracking of several people across video frames.

MediaPipe returns the people of a frame in no particular order. The tracker
gives each detection the identity of the track whose last pose is closest
(mean distance between corresponding image landmarks, in units of the image
height), solving the frame's assignment with the Hungarian method
(:func:`scipy.optimize.linear_sum_assignment`). A pair is only matched when
its distance is below a gate that widens with the square root of the frames
since the track was last seen; unmatched detections start new tracks; tracks
unseen for more than ``max_gap`` frames end.

:func:`skelbehave.pose.identities.track_poses` runs this tracker over a whole
recording and then stitches its fragments; :func:`select_individuals` picks
tracks out of a recording.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["PoseTracker", "box_distance", "pose_distance", "select_individuals"]


def pose_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean joint-to-joint distance between two sets of 2-D poses.

    Parameters
    ----------
    a : ndarray, shape (m, J, 2)
    b : ndarray, shape (n, J, 2)

    Returns
    -------
    ndarray, shape (m, n)
        Mean over the joints present in both poses (NaN joints are ignored;
        ``inf`` when no joint is shared).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 3, 2)); b = np.ones((2, 3, 2)); b[1] = 0
    >>> pose_distance(a, b).round(3).tolist()
    [[1.414, 0.0]]
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = np.sqrt(((a[:, None] - b[None, :]) ** 2).sum(-1))  # (m, n, J)
    ok = np.isfinite(d)
    cnt = ok.sum(-1)
    tot = np.where(ok, d, 0.0).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.inf)
    return out


def _boxes(poses: np.ndarray) -> np.ndarray:
    """(n, 4) bounding boxes ``x0, y0, x1, y1`` of (n, J, 2) poses (NaN joints ignored)."""
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(poses, axis=1)
        hi = np.nanmax(poses, axis=1)
    return np.concatenate([lo, hi], axis=1)


def _iou(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU (m, n) of two box sets, and the share of each ``b`` box covered by ``a`` (m, n)."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
        cover = np.where(area_b[None, :] > 0, inter / area_b[None, :], 0.0)
    return iou, cover


def box_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between box centres, in units of the larger box's size (m, n).

    A box's size is the larger of its height and width (a person curled up in
    a jump or lying down keeps a sensible scale).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0, 0.5, 1.0]]); b = np.array([[0.5, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 2.0]])
    >>> box_distance(a, b).round(2).tolist()
    [[0.5, 0.25]]
    """
    ca = (a[:, :2] + a[:, 2:]) / 2
    cb = (b[:, :2] + b[:, 2:]) / 2
    size_a = np.maximum(a[:, 3] - a[:, 1], a[:, 2] - a[:, 0])
    size_b = np.maximum(b[:, 3] - b[:, 1], b[:, 2] - b[:, 0])
    h = np.maximum(size_a[:, None], size_b[None, :])
    d = np.sqrt(((ca[:, None] - cb[None, :]) ** 2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(h > 0, d / h, np.inf)


class PoseTracker:
    """Frame-to-frame identity assignment for multi-person pose detections.

    Each frame: detections that duplicate a more confident one (bounding
    boxes overlapping with IoU above ``duplicate_iou``, or a box lying for
    ``duplicate_cover`` or more inside a more confident detection's box) are
    dropped; the rest are matched to the live tracks by the Hungarian method
    on the distance between bounding-box centres, measured in person sizes
    (the larger side of the larger of the two boxes), so the gate does not depend on how far
    from the camera people are. Tracks seen most recently are matched first
    (a matching cascade), so a track lost a while ago cannot steal the
    detection that continues a track seen in the previous frame.

    Parameters
    ----------
    max_distance : float
        Largest centre distance, in person sizes, for a detection to
        continue a track seen in the previous frame; for a track last seen
        ``g`` frames ago the gate is ``max_distance * sqrt(g)``.
    max_gap : int
        A track not seen for more than this many frames ends; a person who
        comes back later gets a new identity.
    duplicate_iou, duplicate_cover : float
        Thresholds for dropping duplicate detections (see above).

    Examples
    --------
    >>> import numpy as np
    >>> tr = PoseTracker()
    >>> left = np.array([[[0.1, 0.2], [0.2, 0.6]]]); right = left + [0.8, 0.0]
    >>> tr.update(0, np.concatenate([left, right]))
    [0, 1]
    >>> tr.update(1, np.concatenate([right + 0.01, left - 0.01]))  # order swapped by the detector
    [1, 0]
    """

    def __init__(
        self,
        max_distance: float = 0.5,
        max_gap: int = 30,
        duplicate_iou: float = 0.6,
        duplicate_cover: float = 0.8,
    ) -> None:
        self.max_distance = max_distance
        self.max_gap = max_gap
        self.duplicate_iou = duplicate_iou
        self.duplicate_cover = duplicate_cover
        self._last_box: dict[int, np.ndarray] = {}
        self._last_seen: dict[int, int] = {}
        self._next_id = 0

    def _new_track(self, frame: int, box: np.ndarray) -> int:
        tid = self._next_id
        self._next_id += 1
        self._last_box[tid] = box
        self._last_seen[tid] = frame
        return tid

    def update(self, frame: int, poses: np.ndarray, scores: np.ndarray | None = None) -> list[int | None]:
        """Assign identities to the detections of one frame.

        Parameters
        ----------
        frame : int
            Frame index (increasing).
        poses : ndarray, shape (n, J, 2)
            Image landmarks of the frame's detections, both axes in units of
            the image height (x multiplied by width / height).
        scores : ndarray, shape (n,), optional
            Detection confidence: the more confident of two duplicates stays.

        Returns
        -------
        list
            Track id of each detection, or ``None`` for a dropped duplicate.
        """
        poses = np.asarray(poses, dtype=float)
        n = len(poses)
        ids: list[int | None] = [None] * n
        if n == 0:
            return ids
        boxes = _boxes(poses)
        keep = np.isfinite(boxes).all(axis=1)
        if n > 1:
            iou, cover = _iou(boxes, boxes)
            sc = np.zeros(n) if scores is None else np.nan_to_num(np.asarray(scores, dtype=float))
            order = np.argsort(-sc, kind="stable")
            for pos_a, a in enumerate(order):
                if not keep[a]:
                    continue
                for b in order[pos_a + 1 :]:
                    if keep[b] and (iou[a, b] > self.duplicate_iou or cover[a, b] >= self.duplicate_cover):
                        keep[b] = False
        live = [t for t, seen in self._last_seen.items() if frame - seen <= self.max_gap]
        for t in [t for t in self._last_seen if t not in live]:
            del self._last_seen[t], self._last_box[t]
        det = np.flatnonzero(keep)
        matched: set[int] = set()
        # matching cascade: tracks seen most recently choose first, so an old
        # track cannot take a detection that continues a track seen just before
        for g in sorted({frame - self._last_seen[t] for t in live}):
            tier = [t for t in live if frame - self._last_seen[t] == g]
            free = np.array([d for d in det if int(d) not in matched], dtype=int)
            if not len(free):
                break
            prev = np.stack([self._last_box[t] for t in tier])
            cost = box_distance(prev, boxes[free])
            gate = self.max_distance * np.sqrt(max(g, 1))
            big = 1e6
            c = np.where(np.isfinite(cost) & (cost <= gate), cost, big)
            rows, cols = linear_sum_assignment(c)
            for r, k in zip(rows, cols, strict=True):
                if c[r, k] < big:
                    tid = tier[r]
                    d = int(free[k])
                    ids[d] = tid
                    matched.add(d)
                    self._last_box[tid] = boxes[d]
                    self._last_seen[tid] = frame
        for d in det:
            if int(d) not in matched:
                ids[int(d)] = self._new_track(frame, boxes[d])
        return ids


# ----------------------------------------------------------------------------- choosing individuals
def select_individuals(sequences: list, which=None, *, path=None) -> list:
    """The sequences of the chosen individuals (``meta["person"]``), in the order given.

    Parameters
    ----------
    sequences : list of PoseSequence
        One recording: one sequence per individual (as read from a
        multi-person pose file or returned by :func:`~skelbehave.pose.extract`).
    which : int, str, or list of them, optional
        Individuals to keep, compared as text (``1`` and ``"1"`` are the
        same); a string may list several separated by commas. ``None``
        keeps every sequence.
    path : str, optional
        Named in the error message.

    Raises
    ------
    PoseDataError
        An individual that the recording does not hold (the message lists those it holds).

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave.poses import PoseSequence
    >>> seqs = [PoseSequence(np.ones((2, 33, 3)), "mediapipe33", meta={"person": p}) for p in (0, 1, 2)]
    >>> [s.meta["person"] for s in select_individuals(seqs, "2,0")]
    [2, 0]
    """
    from ..errors import PoseDataError

    seqs = list(sequences)
    if which is None:
        return seqs
    if isinstance(which, str):
        wanted = [w.strip() for w in which.split(",") if w.strip()]
    elif isinstance(which, (list, tuple)):
        wanted = [str(w).strip() for w in which]
    else:
        wanted = [str(which)]
    have = {str(s.meta.get("person", i)): s for i, s in enumerate(seqs)}
    missing = [w for w in wanted if w not in have]
    if missing:
        where = f"{path}: " if path is not None else ""
        raise PoseDataError(
            f"{where}no individual {', '.join(repr(m) for m in missing)}; the recording holds "
            f"{', '.join(have) or 'none'}"
        )
    return [have[w] for w in dict.fromkeys(wanted)]
