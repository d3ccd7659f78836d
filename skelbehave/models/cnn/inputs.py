"""Per-frame inputs of the CNN: fixed-length position and motion channel arrays.

Each sequence is cleaned (all-zero frames and NaN gaps interpolated over time),
optionally augmented, resampled linearly to ``n_frames`` and turned into

- ``position``: root-relative joint positions ``b_i(p) = t_i(p) - t_root(p)``,
  divided by the sequence's body scale (RMS distance of the joints to the
  root), shape ``(J * C, n_frames)``;
- ``motion``: the relative displacement ``(t_i(r + s) - t_i(r - s)) / (2 s)`` of
  the absolute joint positions (a central difference, ``s`` =
  ``displacement_step`` resampled frames), divided by the same scale and
  multiplied by ``n_frames``.

These are the normalised positions and displacements of DESIGN section 3 laid
out frame by frame for a temporal convolution. Resampling to one length makes
every sequence the same shape, so no padding mask is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import PoseDataError
from ...poses import PoseSequence

__all__ = ["MOTION_FEATURES", "STREAMS", "clean_positions", "make_inputs"]

STREAMS = ("position", "motion")
MOTION_FEATURES = ("displacement", "acceleration")


def clean_positions(seq: PoseSequence) -> np.ndarray:
    """Positions ``(T, J, C)`` with all-zero frames and NaN values interpolated over time.

    A joint missing in every frame takes the root position (so it contributes 0
    to root-relative features).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.ones((4, 20, 3)); p[1] = 0; p[2, 3] = np.nan
    >>> bool(np.isfinite(clean_positions(PoseSequence(p, "msr20"))).all())
    True
    """
    pos = seq.position.astype(np.float64, copy=True)
    zero = np.all(pos == 0, axis=(1, 2))
    pos[zero] = np.nan
    T, _, C = pos.shape
    t = np.arange(T)
    miss = np.isnan(pos).any(axis=2)
    if miss.all():
        raise PoseDataError(
            "sequence has no valid frame (every joint missing or zero)", path=seq.meta.get("source")
        )
    for j in np.flatnonzero(miss.any(axis=0)):
        ok = ~miss[:, j]
        if ok.any():
            for c in range(C):
                pos[~ok, j, c] = np.interp(t[~ok], t[ok], pos[ok, j, c])
    still = np.isnan(pos).any(axis=2)
    if still.any():
        root = seq.layout.root_indices
        root_track = np.nanmean(pos[:, root], axis=1)  # (T, C)
        if np.isnan(root_track).any():
            root_track = np.nan_to_num(root_track, nan=float(np.nanmean(pos)))
        for j in np.flatnonzero(still.any(axis=0)):
            pos[still[:, j], j] = root_track[still[:, j]]
    return pos


def _random_rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    a = np.deg2rad(rng.uniform(-max_deg, max_deg, size=3))
    cx, cy, cz = np.cos(a)
    sx, sy, sz = np.sin(a)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _resample(pos: np.ndarray, n_frames: int, start: float = 0.0, stop: float = 1.0) -> np.ndarray:
    T = pos.shape[0]
    if T == 1:
        return np.repeat(pos, n_frames, axis=0)
    src = np.linspace(0.0, 1.0, T)
    dst = np.linspace(start, stop, n_frames)
    idx = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, T - 2)
    w = ((dst - src[idx]) / (src[idx + 1] - src[idx]))[:, None, None]
    return pos[idx] * (1 - w) + pos[idx + 1] * w


def make_inputs(
    positions: Sequence[np.ndarray],
    root: np.ndarray,
    n_frames: int = 64,
    displacement_step: int = 2,
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
    root : array of int
        Root joint indices (their mean is the root).
    n_frames : int
        Fixed temporal length.
    displacement_step : int
        ``s`` of the central difference, in resampled frames.
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
        Channels of the motion stream: the central difference and/or the
        second central difference ``(t(r + s) - 2 t(r) + t(r - s)) / s^2``
        (scaled like the displacement, times ``n_frames`` once more).
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
    s = int(displacement_step)
    bad = [m for m in motion_features if m not in MOTION_FEATURES]
    if bad or not motion_features:
        raise ValueError(
            f"motion_features must be a non-empty subset of {MOTION_FEATURES}, got {motion_features!r}"
        )
    for pos in positions:
        p = pos
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
        r = _resample(p, n_frames, start, stop)  # (n, J, C)
        rel = r - r[:, root].mean(axis=1, keepdims=True)
        scale = float(np.sqrt(np.mean(np.sum(rel**2, axis=2)))) or 1.0
        if "position" in out:
            if position_centre == "sequence":
                rel_p = r - r[:, root].mean(axis=(0, 1), keepdims=True)
            elif position_centre == "frame":
                rel_p = rel
            else:
                raise ValueError(f"position_centre must be 'frame' or 'sequence', got {position_centre!r}")
            chans = [(rel_p / scale).reshape(n_frames, -1)]
            if bones is not None and len(bones):
                vec = r[:, bones[:, 1]] - r[:, bones[:, 0]]
                chans.append((vec / scale).reshape(n_frames, -1))
            out["position"].append(np.concatenate(chans, axis=1).T)
        if "motion" in out:
            padded = np.concatenate([np.repeat(r[:1], s, 0), r, np.repeat(r[-1:], s, 0)], axis=0)
            chans = []
            if "displacement" in motion_features:
                disp = (padded[2 * s :] - padded[: -2 * s]) / (2 * s) * n_frames / scale
                chans.append(disp.reshape(n_frames, -1))
            if "acceleration" in motion_features:
                acc = (padded[2 * s :] - 2 * r + padded[: -2 * s]) / (s * s) * n_frames**2 / scale
                chans.append(acc.reshape(n_frames, -1))
            out["motion"].append(np.concatenate(chans, axis=1).T)
    return {k: np.stack(v).astype(np.float32) for k, v in out.items()}
