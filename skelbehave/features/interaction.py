"""Relative descriptors between two individuals: distances, relative displacement, approach speed.

Per frame, for an *ordered* pair (``a``, ``b``) of individuals of one
recording (both in the same layout, same frames), three blocks, all divided
by the pair's scale ``s`` (the mean of the two :func:`~.kinematics.body_scale`
values, so it is the same for (a, b) and (b, a)):

``distance``
    Distances between every key point of ``a`` and every key point of ``b``
    (``K x K`` values, row = key point of ``a``). Key points: every joint of a
    layout with at most :data:`MAX_KEY_JOINTS` joints; otherwise the root
    (:func:`~.kinematics.root_position`) and the centroid of each of the
    layout's joint groups.
``offset``
    Where ``b``'s root is seen from ``a``'s root: the root difference; for
    2-D poses (top-down animal views, image coordinates) it is turned into
    ``a``'s frame of reference (rotated by minus ``a``'s
    :func:`~.kinematics.heading`), and ``cos``/``sin`` of the heading
    difference are appended.
``approach``
    Closing speed (minus the rate of change of the root distance), the
    speed of each individual along the line towards the other, and each
    individual's root speed; velocities are :func:`~.kinematics.velocity`
    (central differences, half-width ``step``; per second when the
    sequence has an ``fps``).

Swapping ``a`` and ``b`` gives other values (the blocks are ordered); a
model that must not depend on who is listed first pools the encodings of
both orders (:mod:`skelbehave.pipeline.clip_multi`). Missing values become
``fill_value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ModelFileError, ParameterError, PoseDataError
from ..layouts import JointLayout, get_layout
from ..poses import PoseSequence
from ._base import TransformerBase
from .descriptors import BlockInfo, LocalDescriptors
from .kinematics import body_scale, heading, root_position, velocity

__all__ = ["InteractionFeatures", "MAX_KEY_JOINTS", "key_points", "relative_descriptors"]

#: A layout with at most this many joints uses every joint as a key point.
MAX_KEY_JOINTS = 6


def key_points(position, layout: str | JointLayout) -> np.ndarray:
    """Key points of one individual per frame, shape ``(T, K, C)``.

    Every joint when the layout has at most :data:`MAX_KEY_JOINTS` joints;
    otherwise the root and the NaN-aware centroid of each joint group.

    Examples
    --------
    >>> import numpy as np
    >>> key_points(np.zeros((4, 25, 3)), "ntu25").shape  # root + 6 groups
    (4, 7, 3)
    >>> from skelbehave.layouts import JointLayout
    >>> key_points(np.zeros((4, 5, 2)), JointLayout.from_names(list("abcde"))).shape
    (4, 5, 2)
    """
    p = np.asarray(position, dtype=np.float64)
    lay = get_layout(layout)
    if lay.n_joints <= MAX_KEY_JOINTS:
        return p
    pts = [root_position(p, lay)]
    with np.errstate(invalid="ignore"), _quiet():
        for names in lay.groups.values():
            pts.append(np.nanmean(p[:, lay.indices(list(names))], axis=1))
    return np.stack(pts, axis=1)


class _quiet:
    """Silence NumPy's 'mean of empty slice' warning (all-NaN frames give NaN, as intended)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _speed_toward(v: np.ndarray, d: np.ndarray, dist: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v * d).sum(axis=1) / dist


def relative_descriptors(
    a: PoseSequence, b: PoseSequence, step: int = 2, scale: float | None = None
) -> tuple[list[np.ndarray], list[BlockInfo]]:
    """Per-frame descriptors of ``b`` relative to ``a`` (see the module documentation).

    Parameters
    ----------
    a, b : PoseSequence
        Two individuals of one recording: same layout, frames and coordinates.
    step : int
        Half-width of the central differences of the approach speeds.
    scale : float, optional
        Distance unit; default the mean body scale of ``a`` and ``b``.

    Returns
    -------
    blocks : list of ndarray, each ``(T, d)``
        ``distance``, ``offset`` and ``approach``; NaN where a joint is missing.
    block_info : list of BlockInfo
        Kinds ``distance``, ``offset``, ``approach``, part ``pair``.

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave import PoseSequence
    >>> from skelbehave.layouts import JointLayout
    >>> lay = JointLayout.from_names(["nose", "tail"])
    >>> a = PoseSequence(np.array([[[1.0, 0], [0, 0]]] * 5), lay, fps=10)
    >>> b = PoseSequence(a.position + [4.0, 0.0], lay, fps=10)  # 4 to the right, facing the same way
    >>> blocks, info = relative_descriptors(a, b)
    >>> [str(i) for i in info], [x.shape for x in blocks]
    (['distance:pair', 'offset:pair', 'approach:pair'], [(5, 4), (5, 4), (5, 5)])
    >>> blocks[1][0].tolist()  # b is 8 body scales (0.5) ahead of a, same heading
    [8.0, 0.0, 1.0, 0.0]
    """
    if a.layout.joints != b.layout.joints or a.n_frames != b.n_frames or a.n_dims != b.n_dims:
        raise PoseDataError(
            f"individuals of one recording need the same layout, frames and coordinates: "
            f"{a.layout.name} {a.n_frames}x{a.n_dims} vs {b.layout.name} {b.n_frames}x{b.n_dims}",
            path=a.meta.get("source"),
        )
    lay = a.layout
    pa, pb = np.asarray(a.position, np.float64), np.asarray(b.position, np.float64)
    T, _, C = pa.shape
    if scale is None:
        scale = 0.5 * (body_scale(pa, lay) + body_scale(pb, lay))
    inv = 1.0 / scale
    ka, kb = key_points(pa, lay), key_points(pb, lay)
    dist = np.sqrt(((ka[:, :, None, :] - kb[:, None, :, :]) ** 2).sum(axis=-1)).reshape(T, -1) * inv
    ra, rb = root_position(pa, lay), root_position(pb, lay)
    d = rb - ra
    rd = np.sqrt((d**2).sum(axis=1))
    if C == 2:
        ha, hb = heading(pa, lay), heading(pb, lay)
        c, s = np.cos(-ha), np.sin(-ha)
        off = np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]], axis=1) * inv
        off = np.concatenate([off, np.cos(hb - ha)[:, None], np.sin(hb - ha)[:, None]], axis=1)
    else:
        off = d * inv
    fps = a.fps
    va, vb = velocity(ra, step, fps), velocity(rb, step, fps)
    closing = -velocity(rd, step, fps)
    app = np.stack(
        [
            closing,
            _speed_toward(va, d, rd),
            _speed_toward(vb, -d, rd),
            np.sqrt((va**2).sum(axis=1)),
            np.sqrt((vb**2).sum(axis=1)),
        ],
        axis=1,
    ) * inv
    info = [BlockInfo("distance", "pair"), BlockInfo("offset", "pair"), BlockInfo("approach", "pair")]
    return [dist, off, app], info


class InteractionFeatures(TransformerBase):
    """Relative descriptors of ordered pairs of individuals, as :class:`LocalDescriptors`.

    Parameters
    ----------
    step : int
        Half-width (frames) of the central differences of the approach speeds.
    fill_value : float or None
        Replaces missing values (a joint not tracked); None keeps NaN.

    Attributes
    ----------
    layout_ : JointLayout
        Layout of the individuals seen in :meth:`fit`.
    n_dims_ : int
        2 or 3.
    block_info_ : list of BlockInfo
    dims_ : list of int

    Examples
    --------
    >>> import numpy as np
    >>> from skelbehave import PoseSequence
    >>> rng = np.random.default_rng(0)
    >>> a, b = (PoseSequence(rng.normal(size=(8, 25, 3)), "ntu25", fps=30) for _ in range(2))
    >>> f = InteractionFeatures().fit([[a, b]])
    >>> D = f.transform([(a, b), (b, a)])
    >>> D.n_sequences, D.group_names, D.dims
    (2, ['distance:pair', 'offset:pair', 'approach:pair'], [49, 3, 5])
    """

    def __init__(self, step: int = 2, fill_value: float | None = 0.0) -> None:
        self.step = step
        self.fill_value = fill_value

    def fit(self, X: Sequence[Sequence[PoseSequence]], y=None) -> InteractionFeatures:
        """Record the layout and coordinate count of the individuals (``X``: recordings)."""
        if not isinstance(self.step, int | np.integer) or self.step < 1:
            raise ParameterError(f"step must be an int >= 1, got {self.step!r}")
        first = next((p for rec in X for p in rec), None)
        if first is None:
            raise PoseDataError("no individual to fit InteractionFeatures on")
        self.layout_ = first.layout
        self.n_dims_ = int(first.n_dims)
        probe = PoseSequence(np.zeros((2, first.layout.n_joints, self.n_dims_)), first.layout)
        blocks, self.block_info_ = relative_descriptors(probe, probe, int(self.step), scale=1.0)
        self.dims_ = [int(x.shape[1]) for x in blocks]
        return self

    def transform(self, pairs: Sequence[tuple[PoseSequence, PoseSequence]]) -> LocalDescriptors:
        """Descriptors of each ordered pair ``(a, b)``: one descriptor sequence per pair, a row per frame."""
        if not hasattr(self, "layout_"):
            from sklearn.exceptions import NotFittedError  # scikit-learn's convention (ValueError)

            raise NotFittedError("this InteractionFeatures is not fitted yet; call fit(X) first")
        per = [relative_descriptors(a, b, int(self.step))[0] for a, b in pairs]
        lengths = [a.n_frames for a, _ in pairs]
        blocks = []
        for g, width in enumerate(self.dims_):
            parts = [p[g] for p in per] or [np.zeros((0, width))]
            blk = np.concatenate(parts, axis=0)
            if self.fill_value is not None:
                blk = np.nan_to_num(blk, nan=float(self.fill_value), posinf=0.0, neginf=0.0)
            blocks.append(blk)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        frame_index = np.concatenate([np.arange(n) for n in lengths]) if lengths else np.zeros(0, np.int64)
        fps = [a.fps for a, _ in pairs]
        return LocalDescriptors(
            blocks, offsets, frame_index, np.asarray(lengths, np.int64), list(self.block_info_),
            fps=np.asarray(fps, np.float64) if fps and all(f is not None for f in fps) else None,
        )  # fmt: skip

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters of the fitted transformer (state protocol of :mod:`skelbehave.pipeline.persist`)."""
        fill = None if self.fill_value is None else float(self.fill_value)
        params = {"step": int(self.step), "fill_value": fill, "n_dims": int(self.n_dims_)}
        params["layout"] = self.layout_.to_dict()
        return params, {}

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> InteractionFeatures:
        """Rebuild the fitted transformer from :meth:`_get_state` output."""
        from ..io.archive import state_float, state_int, state_layout

        step = state_int(params, "step", 1, 1000)
        fill = state_float(params, "fill_value", none=True) if params.get("fill_value") is not None else None
        n_dims = state_int(params, "n_dims", 2, 3)
        layout = state_layout(params, "layout", max_joints=1000)
        if not isinstance(layout, JointLayout):
            raise ModelFileError("layout: not a joint layout")
        est = cls(step=step, fill_value=fill)
        return est.fit([[PoseSequence(np.zeros((2, layout.n_joints, n_dims)), layout)]])
