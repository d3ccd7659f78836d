"""Per-frame features of recordings with one or several individuals, and window statistics.

- :func:`split_individuals`, :func:`as_recordings` - recordings as lists of
  :class:`~skelbehave.PoseSequence`, one per individual.
- :class:`FrameFeatures` - a fast per-frame descriptor (body-frame joint
  positions, velocities and, with several individuals, their relative
  positions, distance and facing).
- :func:`window_statistics` - window descriptors (mean, standard deviation,
  temporal pyramid, centre value) from per-frame features.
- :func:`frame_descriptors` - the per-frame features grouped by body part as
  :class:`~skelbehave.features.descriptors.LocalDescriptors` (input of the
  per-group VLAD of windows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError, ParameterTypeError, PoseDataError
from ..layouts import JointLayout
from ..poses import PoseSequence
from ..temporal.windows import Windows
from .descriptors import BlockInfo, LocalDescriptors
from .kinematics import acceleration, body_scale, central_difference, heading, root_position, velocity

__all__ = [
    "check_sequence_list",
    "FrameFeatures",
    "as_recording",
    "as_recordings",
    "frame_descriptors",
    "split_individuals",
    "WINDOW_BLOCK",
    "window_blocks",
    "window_statistics",
    "window_statistics_reference",
]


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


def as_recording(item, layout=None, fps=None) -> list[PoseSequence]:
    """One recording as a list of PoseSequence, one per individual.

    ``item`` is a PoseSequence (split by :func:`split_individuals`), a list of
    them (the individuals of one recording, equal length), or an array
    ``(T, J, C)`` or ``(individuals, T, J, C)`` with ``layout``.

    Examples
    --------
    >>> [s.n_frames for s in as_recording(np.zeros((2, 5, 20, 3)), layout="kinect_v1")]
    [5, 5]
    """
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
    if not isinstance(X, PoseSequence):
        check_sequence_list(X)
    if isinstance(X, PoseSequence) or (isinstance(X, np.ndarray) and X.ndim in (3, 4)):
        return [as_recording(X, layout, fps)]
    return [as_recording(item, layout, fps) for item in X]


def check_sequence_list(X) -> None:
    """Refuse what cannot be a list of pose sequences (None, a number, a string, a mapping).

    Examples
    --------
    >>> try:
    ...     check_sequence_list(None)
    ... except TypeError as exc:
    ...     print(type(exc).__name__, str(exc)[-8:])
    ParameterTypeError NoneType
    """
    if X is None or isinstance(X, str | bytes | dict) or np.isscalar(X) or not hasattr(X, "__iter__"):
        raise ParameterTypeError(
            f"expected a list of pose sequences (PoseSequence or (T, J, C) arrays), got {type(X).__name__}"
        )
    items = [X] if isinstance(X, np.ndarray) else X if isinstance(X, list | tuple) else []
    for i, item in enumerate(items):
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biuf":
            raise PoseDataError(
                f"item {i}: coordinates must be real numbers, got an array of dtype {item.dtype}"
            )


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

    Root, body scale, heading and central differences come from
    :mod:`skelbehave.features.kinematics` (one definition in the package).

    Parameters
    ----------
    step : int
        Half-width in frames of the central difference for velocities (and
        accelerations).
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
        step: int = 2,
        rotate: bool | str = "auto",
        acceleration: bool = False,
        joint_speed: bool = False,
    ) -> None:
        self.step = step
        self.rotate = rotate
        self.acceleration = acceleration
        self.joint_speed = joint_speed

    def transform_recording(self, recording) -> tuple[np.ndarray, list[str]]:
        """Features ``(T, d)`` float32 and their names for one recording."""
        seqs = as_recording(recording)
        J, C = seqs[0].n_joints, seqs[0].n_dims
        rot = (C == 2) if self.rotate == "auto" else bool(self.rotate)
        step = int(self.step)
        roots, heads, normed = [], [], []
        scales = []
        for s in seqs:
            if s.layout.n_joints != J or s.n_dims != C:
                raise PoseDataError(
                    "all individuals of a recording need the same layout", path=s.meta.get("source")
                )
            root = root_position(s.position, s.layout)  # (T, C)
            roots.append(root)
            scales.append(body_scale(s.position, s.layout, root=root))
        scale = float(np.nanmean(scales)) if scales else 1.0
        for s, root in zip(seqs, roots, strict=True):
            pos = s.position
            ang = heading(pos, s.layout) if rot else np.zeros(len(pos))
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
            vel = velocity(relb, step)
            add(vel, p + "vel")
            if self.joint_speed:
                add(np.linalg.norm(vel, axis=-1), p + "jspeed")
            if self.acceleration:
                acc = acceleration(relb, step)
                add(acc, p + "acc")
                add(np.linalg.norm(acc, axis=-1), p + "jacc")
            rv = body(central_difference(root, step) / scale, ang)
            add(rv, p + "rootvel")
            add(np.linalg.norm(rv, axis=-1), p + "speed")
            if rot:
                dang = np.angle(np.exp(1j * central_difference(np.unwrap(np.nan_to_num(ang)), step)))
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
                    add(central_difference(dist, step), p + "ddist")
                    pa = seqs[i].position[:, :, None, :]
                    pb = seqs[j].position[:, None, :, :]
                    dd = np.linalg.norm(pa - pb, axis=-1).reshape(len(dist), -1) / scale
                    # all-missing frames give inf, set to NaN below with the other non-finite values
                    add(np.where(np.isnan(dd), np.inf, dd).min(axis=1, initial=np.inf), p + "mindist")
                db = body(d[:, None, :], heads[i])[:, 0, :]
                bearing = np.arctan2(db[:, 1], db[:, 0])
                add(np.stack([np.cos(bearing), np.sin(bearing)], axis=1), p + "bearing")
                if rot:
                    rh = heads[j] - heads[i]
                    add(np.stack([np.cos(rh), np.sin(rh)], axis=1), p + "relhead")
        F = np.concatenate(cols, axis=1).astype(np.float32)
        F[~np.isfinite(F)] = np.nan
        return F, names


_JOINT_KINDS = ("pos", "vel", "acc", "jspeed", "jacc")


def frame_descriptors(
    F: np.ndarray, names: Sequence[str], lengths, layout: JointLayout, n_dims: int
) -> LocalDescriptors:
    """Per-frame features ``F`` (from :class:`FrameFeatures`) as descriptor blocks per body part.

    Blocks: for every individual ``i`` and every joint group ``g`` of
    ``layout``, the joint columns (position, velocity and, when computed,
    acceleration and speeds) of the joints of ``g``
    (``BlockInfo("joints", g)``, part ``"i<i>:<g>"`` with several
    individuals); the individual's root motion, turning and missing fraction
    (``BlockInfo("root", "i<i>")``); and for every ordered pair of
    individuals their relative features (``BlockInfo("pair", "i<i>>i<j>")``).
    Missing values become 0 (the missing fraction is a column of its own),
    so every frame takes part in the encoding.

    Parameters
    ----------
    F : ndarray (N, d)
        Per-frame features of all recordings, concatenated.
    names : sequence of str
        Column names from :meth:`FrameFeatures.transform_recording`.
    lengths : array of int
        Frames per recording.
    layout : JointLayout
        Layout of one individual (gives the joint groups).
    n_dims : int
        Coordinates per joint (2 or 3).

    Examples
    --------
    >>> lay = JointLayout("tri", ("a", "b", "c"), groups={"front": ("a",), "back": ("b", "c")})
    >>> F, names = FrameFeatures().transform_recording([PoseSequence(np.random.rand(40, 3, 3), lay)])
    >>> D = frame_descriptors(F, names, [40], lay, 3)
    >>> [str(b) for b in D.block_info], D.dims
    (['joints:front', 'joints:back', 'root:i0'], [6, 12, 5])
    """
    names = list(names)
    if F.ndim != 2 or F.shape[1] != len(names):
        raise ParameterError(f"F has shape {F.shape} but {len(names)} column names")
    joint_of = {j: g for g, joints in layout.groups.items() for j in layout.indices(joints)}
    if not joint_of:
        joint_of = {j: "all" for j in range(layout.n_joints)}
    group_order = list(dict.fromkeys(joint_of.values()))  # the layout's group order
    cols: dict[tuple[str, str], list[int]] = {}
    individuals = sorted({n.split(":", 1)[0] for n in names if ">" not in n.split(":", 1)[0]})
    several = len(individuals) > 1
    for ind in individuals:  # fix the block order: joint groups, then root, per individual
        for g in group_order:
            cols[("joints", f"{ind}:{g}" if several else g)] = []
        cols[("root", ind)] = []
    for c, name in enumerate(names):
        who, feat = name.split(":", 1)
        kind = feat.rstrip("0123456789")
        k = int(feat[len(kind) :]) if feat[len(kind) :] else 0
        if ">" in who:
            cols.setdefault(("pair", who), []).append(c)
        elif kind in _JOINT_KINDS:
            joint = k // n_dims if kind in ("pos", "vel", "acc") else k
            g = joint_of.get(joint)
            if g is None:
                cols[("root", who)].append(c)
            else:
                cols[("joints", f"{who}:{g}" if several else g)].append(c)
        else:
            cols[("root", who)].append(c)
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    frame_index = np.arange(len(F)) - np.repeat(offsets[:-1], lengths)
    blocks, infos = [], []
    for (kind, part), idx in cols.items():
        if not idx:
            continue
        b = np.asarray(F[:, idx], dtype=np.float64)
        b[~np.isfinite(b)] = 0.0
        blocks.append(b)
        infos.append(BlockInfo(kind, part))
    return LocalDescriptors(blocks, offsets, frame_index, lengths, infos)


def _intervals(w: Windows, pyramid: Sequence[int], extra: Sequence[int]):
    """Row intervals ``[lo, hi)`` (n_intervals, n_windows) of every window, their kinds and columns."""
    a, b = w.global_start, w.global_stop
    los, his, kinds = [a], [b], [0]
    span = b - a
    for P in pyramid:
        for k in range(int(P)):
            lo = a + (span * k) // P
            hi = np.minimum(np.maximum(a + (span * (k + 1)) // P, lo + 1), b)
            los.append(np.minimum(lo, hi - 1))
            his.append(hi)
            kinds.append(1)
    if len(extra):
        seq_len = np.diff(w.offsets)[w.seq]
        base = w.offsets[w.seq]
        for L in extra:
            L = int(L)
            los.append(base + np.clip(w.center - L // 2, 0, None))
            his.append(base + np.minimum(w.center - L // 2 + L, seq_len))
            kinds.append(2)
    return los, his, kinds


#: windows per time block when scoring: descriptors and head run one block at a time (memory of a
#: block, not of the recording), and blocks are the units that threads share (``n_jobs``)
WINDOW_BLOCK = 4096


def window_blocks(w: Windows, block: int = WINDOW_BLOCK) -> list[np.ndarray]:
    """Indices of the windows of each time block: same recording, centres in one span of ``block`` frames.

    The blocks depend on the windows only (not on how many threads score
    them), so a recording scored by one thread or by several gets the same
    descriptors, block by block.

    Examples
    --------
    >>> from skelbehave.temporal.windows import sliding_windows
    >>> [b.tolist() for b in window_blocks(sliding_windows([5, 3], 3, 1), block=4)]
    [[0, 1, 2, 3], [4], [5, 6, 7]]
    """
    if len(w) == 0:
        return []
    key = w.seq.astype(np.int64) * (int(w.center.max()) // block + 1) + w.center // int(block)
    order = np.argsort(key, kind="stable")
    cut = np.flatnonzero(np.diff(key[order])) + 1
    return np.split(order, cut)


def window_statistics(
    F: np.ndarray, w: Windows, pyramid: Sequence[int], extra: Sequence[int] = ()
) -> np.ndarray:
    """Window descriptors: mean, std, pyramid part means and centre value of each feature.

    ``extra``: further window lengths around the same centres, each adding
    its mean and standard deviation. Column blocks (``d`` = features):
    mean, std, one per pyramid part (its mean minus the window mean), the
    centre frame, then mean and std of each extra window; float32.

    A numba kernel (:mod:`._window_stats`), one recording at a time, with
    prefix sums over the rows its windows read only (memory of one recording,
    or of one block of it, not of all);
    :func:`window_statistics_reference` is its NumPy twin.

    Examples
    --------
    >>> from skelbehave.temporal.windows import sliding_windows
    >>> F = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    >>> F[5, 1] = np.nan
    >>> w = sliding_windows([20, 30], 9, 2)
    >>> X = window_statistics(F, w, (2, 4), (15,))
    >>> X.shape, X.dtype
    ((27, 33), dtype('float32'))
    >>> bool(np.allclose(X, window_statistics_reference(F, w, (2, 4), (15,)), atol=1e-5, equal_nan=True))
    True
    """
    from ._window_stats import prefix_sums, window_stats_kernel

    d = F.shape[1]
    los, his, kinds = _intervals(w, pyramid, extra)
    n_pyr, n_extra = kinds.count(1), kinds.count(2)
    col = np.array([0] + [2 * d + p * d for p in range(n_pyr)]
                   + [(3 + n_pyr) * d + 2 * d * e for e in range(n_extra)], dtype=np.int64)  # fmt: skip
    out = np.empty((len(w), (3 + n_pyr + 2 * n_extra) * d), dtype=np.float32)
    if len(w) == 0:
        return out
    lo_all = np.stack(los).astype(np.int64)
    hi_all = np.stack(his).astype(np.int64)
    center = w.global_center.astype(np.int64)
    kind = np.asarray(kinds, dtype=np.int64)
    order = np.argsort(w.seq, kind="stable")
    seq_sorted = w.seq[order]
    bounds = np.searchsorted(seq_sorted, np.arange(len(w.offsets)))
    Fc = np.ascontiguousarray(F)
    for r in range(len(w.offsets) - 1):
        rows = order[bounds[r] : bounds[r + 1]]
        if len(rows) == 0:
            continue
        # prefix sums over the rows these windows read only (a block of a long recording: memory of the block)
        o0, o1 = int(lo_all[:, rows].min()), int(hi_all[:, rows].max())
        S, Q, C = prefix_sums(Fc[o0:o1])
        sub = np.empty((len(rows), out.shape[1]), dtype=np.float32)
        window_stats_kernel(Fc[o0:o1], S, Q, C, lo_all[:, rows] - o0, hi_all[:, rows] - o0, kind, col,
                            center[rows] - o0, (2 + n_pyr) * d, sub)  # fmt: skip
        out[rows] = sub
    return out


def window_statistics_reference(
    F: np.ndarray, w: Windows, pyramid: Sequence[int], extra: Sequence[int] = ()
) -> np.ndarray:
    """Plain NumPy twin of :func:`window_statistics` (prefix sums over all rows at once)."""
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
