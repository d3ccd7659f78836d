"""Per-frame inputs of the CNN: fixed-length position and motion channel arrays.

Each sequence is cleaned (all-zero frames missing, every gap interpolated over
time with :meth:`PoseSequence.fill_gaps`, joints never seen placed on the
root), optionally augmented, resampled linearly to ``n_frames``
(:meth:`PoseSequence.resample`) and turned into

- ``position``: root-relative joint positions ``b_i(p) = t_i(p) - t_root(p)``,
  divided by the sequence's body scale, shape ``(J * C, n_frames)``;
- ``motion``: the velocity and/or acceleration of the absolute joint
  positions (central differences with half-width ``step`` resampled frames),
  divided by the same scale and multiplied by ``n_frames`` (``n_frames**2``
  for acceleration): units of body size per sequence duration.

Root, body scale, velocity and acceleration are those of
:mod:`skelbehave.features.kinematics`. These are the normalised positions and
displacements of DESIGN section 3 laid out frame by frame for a temporal
convolution. Resampling to one length makes every sequence the same shape, so
no padding mask is needed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ...errors import NoPoseError, NoPoseWarning, ParameterError, PoseDataError
from ...features.kinematics import acceleration, body_scale, root_position, velocity
from ...layouts import JointLayout
from ...poses import PoseSequence
from ...temporal.presence import has_pose

__all__ = [
    "AUGMENT_KEYS",
    "DEFAULT_AUGMENT",
    "OLD_AUGMENT",
    "augment_dict",
    "MOTION_FEATURES",
    "STREAMS",
    "angle_triples",
    "augment_positions",
    "clean_positions",
    "joint_angles",
    "make_inputs",
    "with_pose",
]

STREAMS = ("position", "motion")
MOTION_FEATURES = ("displacement", "acceleration")
#: keys of an augmentation dict (:func:`augment_positions`)
AUGMENT_KEYS = ("rotate", "rotate_vertical", "scale", "crop", "time_warp", "joint_dropout")


#: the augmentation of ``augment=True`` before the 2026 defaults (kept for comparisons)
OLD_AUGMENT: dict[str, float] = {"rotate": 15.0, "scale": 0.1, "crop": 0.85}

#: the augmentation of ``augment=True`` (see :func:`~skelbehave.models.cnn.inputs.augment_positions`)
DEFAULT_AUGMENT: dict[str, float] = {"rotate": 15.0, "scale": 0.1, "crop": 0.85, "rotate_vertical": 30.0}


def augment_dict(augment: bool | dict | None) -> dict[str, float] | None:
    """The augmentation ``augment`` stands for: None when off, the defaults for True, else checked.

    Examples
    --------
    >>> augment_dict(False) is None, augment_dict({"time_warp": 0.3})
    (True, {'time_warp': 0.3})
    """
    if augment is None or augment is False:
        return None
    if augment is True:
        return dict(DEFAULT_AUGMENT)
    if not isinstance(augment, dict):
        raise ParameterError(f"augment must be True, False or a dict of {AUGMENT_KEYS}, got {augment!r}")
    out = {}
    for k, v in augment.items():
        if k not in AUGMENT_KEYS:
            raise ParameterError(f"augment: unknown key {k!r}; expected some of {AUGMENT_KEYS}")
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v) or v < 0:
            raise ParameterError(f"augment[{k!r}] must be a number >= 0, got {v!r}")
        limit = {"crop": 1.0, "time_warp": 0.95, "joint_dropout": 0.9, "scale": 0.9}.get(k, 180.0)
        if v > limit:
            raise ParameterError(f"augment[{k!r}] must be at most {limit}, got {v!r}")
        out[k] = float(v)
    return out



def clean_positions(seq: PoseSequence) -> np.ndarray:
    """Positions ``(T, J, C)`` with all-zero frames and NaN values interpolated over time.

    Gaps of any length are filled by :meth:`PoseSequence.fill_gaps`
    (``max_gap=None, edges=True``). A joint missing in every frame takes the
    root position (so it contributes 0 to root-relative features).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.ones((4, 20, 3)); p[1] = 0; p[2, 3] = np.nan
    >>> bool(np.isfinite(clean_positions(PoseSequence(p, "msr20"))).all())
    True
    """
    filled = seq.mark_zero_frames_missing()
    if filled.missing.all():
        raise PoseDataError(
            "sequence has no valid frame (every joint missing or zero)", path=seq.meta.get("source")
        )
    pos = filled.fill_gaps(max_gap=None, edges=True).position.astype(np.float64, copy=True)
    still = np.isnan(pos).any(axis=2)
    if still.any():
        root_track = root_position(pos, seq.layout)  # (T, C)
        if np.isnan(root_track).any():
            root_track = np.nan_to_num(root_track, nan=float(np.nanmean(pos)))
        for j in np.flatnonzero(still.any(axis=0)):
            pos[still[:, j], j] = root_track[still[:, j]]
    return pos


def _as_layout(root, n_joints: int) -> JointLayout:
    """``root`` as a layout: a JointLayout as is, root joint indices as a layout without ``size`` joints."""
    if isinstance(root, JointLayout):
        return root
    names = tuple(f"j{j}" for j in range(n_joints))
    return JointLayout.from_names(names, name="cnn_input", root=[names[int(i)] for i in np.atleast_1d(root)])


def _random_rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    a = np.deg2rad(rng.uniform(-max_deg, max_deg, size=3))
    cx, cy, cz = np.cos(a)
    sx, sy, sz = np.sin(a)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _rotation_about_vertical(angle: float) -> np.ndarray:
    """Rotation matrix about the y axis (up in the package's convention)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def angle_triples(bones: np.ndarray) -> np.ndarray:
    """Joint triples ``(a, j, b)``: each pair of bones meeting at joint ``j`` (``a``, ``b``: far ends).

    Examples
    --------
    >>> angle_triples(np.array([[0, 1], [1, 2], [1, 3]])).tolist()
    [[0, 1, 2], [0, 1, 3], [2, 1, 3]]
    """
    bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
    out = []
    for j in np.unique(bones):
        ends = [int(b) if a == j else int(a) for a, b in bones if j in (a, b)]
        out += [(ends[m], int(j), ends[n]) for m in range(len(ends)) for n in range(m + 1, len(ends))]
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def joint_angles(position: np.ndarray, triples: np.ndarray) -> np.ndarray:
    """Angle (radians, 0..pi) at joint ``j`` between the bones to ``a`` and ``b``, shape ``(T, n_triples)``.

    ``arctan2(|u x v|, u . v)`` with ``u = t_a - t_j``, ``v = t_b - t_j``
    (2-D and 3-D); 0 where a bone has zero length.

    Examples
    --------
    >>> p = np.array([[[1.0, 0, 0], [0, 0, 0], [0, 2.0, 0]]])  # a right angle at joint 1
    >>> float(joint_angles(p, np.array([[0, 1, 2]]))[0, 0]) == np.pi / 2
    True
    """
    p = np.asarray(position, dtype=np.float64)
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    u = p[:, t[:, 0]] - p[:, t[:, 1]]
    v = p[:, t[:, 2]] - p[:, t[:, 1]]
    if p.shape[2] == 2:
        cross = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    else:
        cross = np.linalg.norm(np.cross(u, v), axis=-1)
    return np.arctan2(cross, np.einsum("tkc,tkc->tk", u, v))


def augment_positions(
    p: np.ndarray, rng: np.random.Generator, augment: dict, layout: JointLayout | None = None
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """One random augmentation of cleaned positions ``(T, J, C)``, and the input times to resample at.

    ``augment`` keys (:data:`AUGMENT_KEYS`; missing or 0: off): ``rotate``
    (degrees, about all three axes), ``rotate_vertical`` (degrees, about the
    vertical y axis), ``scale`` (fraction, per axis), ``crop`` (minimum
    fraction of the sequence kept), ``time_warp`` (strength ``s < 1`` of the
    monotone warp ``u + a sin(pi u) / pi``, ``a`` uniform in ``[-s, s]``) and
    ``joint_dropout`` (probability that a joint is replaced by the root for the
    whole sequence; needs ``layout``, whose root joints are kept). Returns the
    positions and the time map: output time ``u`` in [0, 1] -> input time as a
    fraction of the sequence (crop and warp).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = np.random.default_rng(1).normal(size=(30, 20, 3))
    >>> q, warp = augment_positions(p, rng, {"rotate_vertical": 30, "time_warp": 0.5})
    >>> q.shape, bool(np.all(np.diff(warp(np.linspace(0, 1, 16))) > 0))
    ((30, 20, 3), True)
    """
    unknown = sorted(set(augment) - set(AUGMENT_KEYS))
    if unknown:
        raise ParameterError(f"augment: unknown keys {unknown}; expected some of {AUGMENT_KEYS}")
    p = np.asarray(p, dtype=np.float64)
    start, stop = 0.0, 1.0
    crop = float(augment.get("crop", 1.0) or 1.0)
    if crop < 1.0:
        keep = rng.uniform(crop, 1.0)
        start = rng.uniform(0.0, 1.0 - keep)
        stop = start + keep
    rot = float(augment.get("rotate", 0.0) or 0.0)
    sc = float(augment.get("scale", 0.0) or 0.0)
    vert = float(augment.get("rotate_vertical", 0.0) or 0.0)
    if p.shape[2] == 3 and rot > 0:
        p = p @ _random_rotation(rng, rot).T
    if p.shape[2] == 3 and vert > 0:
        p = p @ _rotation_about_vertical(np.deg2rad(rng.uniform(-vert, vert))).T
    if sc > 0:
        p = p * rng.uniform(1 - sc, 1 + sc, size=p.shape[2])
    drop = float(augment.get("joint_dropout", 0.0) or 0.0)
    if drop > 0 and layout is not None:
        gone = rng.random(p.shape[1]) < drop
        gone[np.asarray(layout.root_indices, dtype=np.int64)] = False
        if gone.any():
            p = p.copy()
            p[:, gone] = root_position(p, layout)[:, None, :]
    tw = float(augment.get("time_warp", 0.0) or 0.0)
    a = rng.uniform(-tw, tw) if tw > 0 else 0.0

    def warp(u: np.ndarray) -> np.ndarray:
        w = u + a * np.sin(np.pi * u) / np.pi  # monotone for |a| < 1, fixes 0 and 1
        return start + (stop - start) * w

    return p, warp


def _resample_at(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``p`` (T, J, C) at fractional frames ``x`` (finite positions)."""
    T = p.shape[0]
    x = np.clip(x, 0.0, T - 1.0)
    lo = np.clip(np.floor(x).astype(np.int64), 0, T - 1)
    hi = np.minimum(lo + 1, T - 1)
    w = (x - lo)[:, None, None]
    return (1.0 - w) * p[lo] + w * p[hi]


def make_inputs(
    positions: Sequence[np.ndarray],
    root: JointLayout | np.ndarray,
    n_frames: int = 64,
    step: int = 2,
    streams: Sequence[str] = STREAMS,
    rng: np.random.Generator | None = None,
    augment: dict | None = None,
    position_centre: str = "frame",
    motion_features: Sequence[str] = ("displacement",),
    bones: np.ndarray | None = None,
    angles: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Stack per-stream CNN inputs ``(N, J * C, n_frames)`` (float32).

    Parameters
    ----------
    positions : sequence of array (T, J, C)
        Cleaned positions (:func:`clean_positions`).
    root : JointLayout or array of int
        The layout (root joints and body-size joints), or just the root joint
        indices (their mean is the root; the body scale is then the median
        mean root-to-joint distance, :func:`~skelbehave.features.kinematics.body_scale`).
    n_frames : int
        Fixed temporal length.
    step : int
        Half-width of the central differences, in resampled frames.
    streams : sequence of {"position", "motion"}
        Which inputs to build.
    rng : numpy Generator, optional
        Random source for augmentation.
    augment : dict, optional
        Augmentation of each sequence (:func:`augment_positions`), applied
        only when ``rng`` is given: ``{"rotate": degrees, "rotate_vertical":
        degrees, "scale": fraction, "crop": min fraction kept, "time_warp":
        strength, "joint_dropout": probability}``.
    position_centre : {"frame", "sequence"}
        Subtract the root of each frame (``b_i(p)``), or the mean root position
        over the sequence (keeps the body's own translation).
    motion_features : sequence of {"displacement", "acceleration"}
        Channels of the motion stream: the velocity and/or the acceleration
        (:func:`~skelbehave.features.kinematics.velocity`,
        :func:`~skelbehave.features.kinematics.acceleration`; scaled like the
        positions, times ``n_frames`` per time derivative).
    bones : array (n_bones, 2) of int, optional
        When given, the position stream also gets the bone vectors
        ``t_b(p) - t_a(p)`` of these joint pairs (divided by the same scale).
    angles : array (n_angles, 3) of int, optional
        When given, the position stream also gets the joint angles (radians)
        of these triples (:func:`angle_triples`, :func:`joint_angles`).

    Examples
    --------
    >>> import numpy as np
    >>> x = make_inputs([np.random.rand(30, 20, 3)], np.array([6]), n_frames=16)
    >>> x["position"].shape, x["motion"].shape
    ((1, 60, 16), (1, 60, 16))
    """
    out = {s: [] for s in streams}
    bad = [m for m in motion_features if m not in MOTION_FEATURES]
    if bad or not motion_features:
        raise ParameterError(
            f"motion_features must be a non-empty subset of {MOTION_FEATURES}, got {motion_features!r}"
        )
    for pos in positions:
        p = np.asarray(pos, dtype=np.float64)
        layout = _as_layout(root, p.shape[1])
        if rng is not None and augment:
            p, warp = augment_positions(p, rng, augment, layout)
            r = _resample_at(p, warp(np.linspace(0.0, 1.0, n_frames)) * (p.shape[0] - 1.0))
        else:
            r = PoseSequence(p, layout).resample(n_frames).position  # (n, J, C)
        root_track = root_position(r, layout)
        rel = r - root_track[:, None, :]
        scale = body_scale(r, layout, root=root_track)
        if "position" in out:
            if position_centre == "sequence":
                rel_p = r - root_track.mean(axis=0)
            elif position_centre == "frame":
                rel_p = rel
            else:
                raise ParameterError(
                    f"position_centre must be 'frame' or 'sequence', got {position_centre!r}"
                )
            chans = [(rel_p / scale).reshape(n_frames, -1)]
            if bones is not None and len(bones):
                vec = r[:, bones[:, 1]] - r[:, bones[:, 0]]
                chans.append((vec / scale).reshape(n_frames, -1))
            if angles is not None and len(angles):
                chans.append(joint_angles(r, angles))
            out["position"].append(np.concatenate(chans, axis=1).T)
        if "motion" in out:
            chans = []
            if "displacement" in motion_features:
                chans.append((velocity(r, step) * (n_frames / scale)).reshape(n_frames, -1))
            if "acceleration" in motion_features:
                chans.append((acceleration(r, step) * (n_frames**2 / scale)).reshape(n_frames, -1))
            out["motion"].append(np.concatenate(chans, axis=1).T)
    return {k: np.stack(v).astype(np.float32) for k, v in out.items()}


def with_pose(seqs: list, y: np.ndarray) -> tuple[list, np.ndarray]:
    """Training data checked: no missing label; sequences without a pose left out (NoPoseWarning)."""
    if len(y) != len(seqs):
        return seqs, y
    for i, v in enumerate(y.tolist()):
        if v is None or (isinstance(v, float) and v != v):
            raise PoseDataError(f"item {i}: its label is missing ({v!r}); every label must be given")
    ok = np.array([has_pose(s) for s in seqs], dtype=bool)
    if ok.all():
        return seqs, y
    if not ok.any():
        raise NoPoseError("no training sequence holds a pose (every frame missing or all-zero)")
    warnings.warn(
        f"{int((~ok).sum())} of {len(seqs)} training sequences have no valid frame and are left out: items "
        f"{np.flatnonzero(~ok)[:5].tolist()}",
        NoPoseWarning,
        stacklevel=3,
    )
    return [s for s, k in zip(seqs, ok, strict=True) if k], y[ok]
