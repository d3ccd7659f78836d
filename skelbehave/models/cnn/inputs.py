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
from collections.abc import Sequence

import numpy as np

from ...errors import NoPoseError, NoPoseWarning, ParameterError, PoseDataError
from ...features.kinematics import acceleration, body_scale, root_position, velocity
from ...layouts import JointLayout
from ...poses import PoseSequence
from ...temporal.presence import has_pose

__all__ = ["MOTION_FEATURES", "STREAMS", "clean_positions", "make_inputs", "with_pose"]

STREAMS = ("position", "motion")
MOTION_FEATURES = ("displacement", "acceleration")


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
        ``{"rotate": degrees, "scale": fraction, "crop": min fraction kept}``;
        applied only when ``rng`` is given.
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
        start, stop = 0.0, 1.0
        if rng is not None and augment:
            crop = augment.get("crop", 1.0)
            if crop < 1.0:
                keep = rng.uniform(crop, 1.0)
                start = rng.uniform(0.0, 1.0 - keep)
                stop = start + keep
            rot = augment.get("rotate", 0.0)
            sc = augment.get("scale", 0.0)
            if p.shape[2] == 3 and rot > 0:
                p = p @ _random_rotation(rng, rot).T
            if sc > 0:
                p = p * rng.uniform(1 - sc, 1 + sc, size=p.shape[2])
        r = PoseSequence(p, layout).resample(n_frames, start=start, stop=stop).position  # (n, J, C)
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
