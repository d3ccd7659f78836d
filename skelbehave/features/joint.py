"""Joint features: relative position, displacement and acceleration by joint group.

The local descriptors of DESIGN.md section 3, computed by one fused numba
kernel per collection (normalise + position + displacement + acceleration in
a single pass over the concatenated frames of all sequences). Root, body
scale, central difference and acceleration are the definitions of
:mod:`skelbehave.features.kinematics`.

Conventions
-----------
Normalisation (per sequence, when ``normalize=True``)
    * **root**: NaN-aware mean of the layout's root joints, per frame.
      Position descriptors are relative to it.
    * **scale**: divide by :func:`~skelbehave.features.kinematics.body_scale`
      (median distance between the layout's two ``size`` joint sets, hip
      centre to shoulder centre on Kinect; without ``size``, the median mean
      root-to-joint distance; 1.0 when undefined).
    * **rotation** (``rotate=True``): one rotation per sequence about the
      vertical axis (``vertical_axis``, y for Kinect and MediaPipe world
      coordinates) that turns the mean left-to-right vector of the layout's
      ``facing`` joints (right minus left) onto +x. 2-D poses (C = 2) are
      rotated in the image plane instead. Layouts without ``facing`` are not
      rotated. One angle per sequence keeps turning motions visible.
Displacement
    :func:`~skelbehave.features.kinematics.velocity`:
    ``(t_i(r + step) - t_i(r - step)) / (2 step / fps)`` on the scaled (and
    rotated), *absolute* positions, so whole-body motion (walking) is kept. At
    the sequence edges the indices are clamped to the sequence's own frames
    and the difference is divided by the actual span (one-sided difference);
    a one-frame sequence has displacement 0. With ``fps`` unknown the unit is
    per frame.
Acceleration (``acceleration=True``)
    :func:`~skelbehave.features.kinematics.acceleration`: the same central
    difference applied to the displacement (velocity) values, per second
    squared (per frame squared without ``fps``), one block per displacement
    group. A velocity that is missing (a joint missing in a frame it reads)
    counts as ``fill_value`` there, as in the displacement block itself;
    with ``fill_value=None`` NaN propagates and the block is exactly
    ``kinematics.acceleration`` of the scaled positions.
Key frames
    Descriptors are computed only for the key frames, but displacement and
    acceleration still read the neighbouring frames of the full sequence.
Missing joints
    NaN propagates into the descriptors that use the joint; ``fill_value``
    (default 0.0) then replaces NaN in the output so that encoders get finite
    rows; ``fill_value=None`` keeps NaN.
Groups
    ``layout.partition(n)`` gives ``n`` non-overlapping body-part groups.
    A layout without body-part groups (built from keypoint names: DeepLabCut
    files, user skeletons) gets them at ``fit`` from
    :func:`~skelbehave.features.auto_groups.derive_groups` (``auto_groups``):
    by clustering the joints on their scale-free distances in the training
    poses, merges constrained by the bones where the layout has them; the
    fitted ``layout_`` carries them (and is saved with the model).
    With ``overlapping=True`` each group also takes every joint joined to one
    of its joints by a bone of ``layout.bones`` (one bone of overlap).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from ..errors import LayoutError, ParameterError, PoseDataError
from ..layouts import JointLayout, get_layout
from ..poses import PoseSequence, as_sequences
from . import _kernels as K
from ._base import TransformerBase
from .auto_groups import AUTO_GROUPS, derive_groups, effective_count, needs_groups
from .descriptors import BlockInfo, LocalDescriptors
from .ragged import _check_backend, _layout_arrays, _run_fused, keyframe_indices

__all__ = ["JointFeatures", "joint_groups"]

logger = logging.getLogger(__name__)


def joint_groups(
    layout: str | JointLayout, n_groups: int, overlapping: bool = False
) -> tuple[list[str], list[list[str]]]:
    """Names and joints of the layout's default ``n_groups`` body-part groups.

    With ``overlapping=True`` every group also takes each joint joined to one
    of its joints by a bone (one bone of overlap), in layout order.

    Examples
    --------
    >>> names, groups = joint_groups("msr20", 4)
    >>> names
    ['head+torso', 'arm_left', 'arm_right', 'leg_left+leg_right']
    >>> joint_groups("msr20", 6, overlapping=True)[1][0]
    ['shoulder_center', 'head']
    """
    lay = get_layout(layout)
    names = lay.group_names(n_groups)
    groups = lay.partition(n_groups)
    if overlapping:
        groups = [_expand(lay, g) for g in groups]
    return names, groups


def _expand(lay: JointLayout, group: Sequence[str]) -> list[str]:
    members = set(group)
    extra = set()
    for a, b in lay.bones:
        if a in members:
            extra.add(b)
        if b in members:
            extra.add(a)
    keep = members | extra
    return [j for j in lay.joints if j in keep]


def _user_groups(groups, lay: JointLayout, kind: str) -> tuple[list[str], list[list[str]]]:
    if isinstance(groups, Mapping):
        names = [str(k) for k in groups]
        members = [list(v) for v in groups.values()]
    else:
        members = [list(g) for g in groups]
        names = [f"g{k}" for k in range(len(members))]
    for name, g in zip(names, members, strict=True):
        if not g:
            raise LayoutError(f"{kind} group {name!r} is empty")
        lay.indices(g)  # raises LayoutError naming an unknown joint
    return names, members


# --------------------------------------------------------------------------- transformer
class JointFeatures(TransformerBase):
    """Per-group relative position and displacement descriptors of pose sequences.

    A scikit-learn transformer: ``fit`` only records the layout and the
    group plan; ``transform`` maps a list of :class:`~skelbehave.PoseSequence`
    (or ``(T, J, C)`` arrays with ``layout``) to
    :class:`~skelbehave.features.descriptors.LocalDescriptors`, one block per
    group and kind: ``BlockInfo("position", <group>)`` blocks first, then
    ``"displacement"``, then (with ``acceleration``) ``"acceleration"``. All
    sequences go through one fused numba kernel (concatenated frames plus
    offsets). See the module documentation for normalisation, edge and NaN
    conventions.

    Parameters
    ----------
    layout : str or JointLayout, optional
        Needed for plain arrays; otherwise taken from the sequences.
    n_position_groups, n_displacement_groups : int
        Number of body-part groups of each kind from the layout's defaults
        (the method's choice: 6 and 4). 0 disables that kind.
    overlapping : bool
        Groups also take the joints one bone away (see :func:`joint_groups`).
    pairwise : bool
        Position blocks also hold ``t_i - t_j`` for the pairs inside each group
        (never all J^2 pairs).
    step : int
        Half-width of the central difference (displacement and acceleration),
        in frames.
    acceleration : bool
        Also an acceleration block per displacement group (same joints).
    keyframes : {"all", "stride", "motion"}
        Which frames get a descriptor row (see :func:`keyframe_indices`).
    n_keyframes : int, optional
        Frames per sequence for ``keyframes="motion"``.
    stride : int
        Step for ``keyframes="stride"``.
    normalize : bool
        Scale by body size (and rotate with ``rotate``) per sequence. Position
        descriptors are root-relative either way; ``False`` keeps raw units.
    rotate : bool
        Rotate to the canonical facing direction (only with ``normalize``).
    n_jobs : int
        numba threads (-1: all).
    position_groups, displacement_groups : list of list of str or dict, optional
        User-given groups (joint names); override the counts. A dict names them.
    fill_value : float or None
        Replaces NaN descriptor values (missing joints); None keeps NaN.
    fps : float, optional
        Frame rate for plain arrays (sequences carry their own). Unknown fps
        gives displacement per frame instead of per second.
    vertical_axis : int
        Up axis for the rotation of 3-D poses.
    backend : {"numba", "numpy"}
        The fused kernel, or its NumPy reference (for testing/benchmarks).
    auto_groups : {"auto", "trajectories", "bones", "order"} or None
        How a layout without body-part groups (one partition, e.g. from
        :meth:`~skelbehave.JointLayout.from_names`) gets the group counts
        asked for (see :func:`~skelbehave.features.auto_groups.derive_groups`):
        ``"auto"`` clusters the joints on the training poses (merges along
        bones where the layout has them). A count above the joint count
        gives one joint per group. None: such a layout raises
        :class:`~skelbehave.errors.LayoutError` for a count above 1.

    Attributes
    ----------
    layout_ : JointLayout
    n_dims_ : int
        Coordinates per joint C.
    block_info_ : list of BlockInfo
        Kind and body part of each block.
    groups_ : list of list of str
        Joints of each block.
    dims_ : list of int
        Columns of each block.

    Examples
    --------
    >>> import numpy as np
    >>> X = [np.random.default_rng(i).normal(size=(30 + i, 20, 3)) for i in range(3)]
    >>> feats = JointFeatures(layout="msr20").fit(X)
    >>> d = feats.transform(X)
    >>> d.n_sequences, d.n_rows, d.block_info[0]
    (3, 93, BlockInfo(kind='position', part='head'))
    >>> d.block_info[-1]
    BlockInfo(kind='displacement', part='leg_left+leg_right')
    >>> d.dims
    [3, 9, 12, 12, 12, 12, 12, 12, 12, 24]
    >>> a = JointFeatures(layout="msr20", n_position_groups=2, n_displacement_groups=2, acceleration=True)
    >>> [(b.kind, b.part) for b in a.fit(X).transform(X).block_info][-2:]
    [('acceleration', 'head+torso+arm_left+arm_right'), ('acceleration', 'leg_left+leg_right')]
    """

    def __init__(
        self,
        layout: str | JointLayout | None = None,
        n_position_groups: int = 6,
        n_displacement_groups: int = 4,
        overlapping: bool = False,
        pairwise: bool = False,
        step: int = 2,
        acceleration: bool = False,
        keyframes: str = "all",
        n_keyframes: int | None = None,
        stride: int = 1,
        normalize: bool = True,
        rotate: bool = False,
        n_jobs: int | None = 1,
        position_groups=None,
        displacement_groups=None,
        fill_value: float | None = 0.0,
        fps: float | None = None,
        vertical_axis: int = 1,
        backend: str = "numba",
        auto_groups: str | None = "auto",
    ) -> None:
        self.layout = layout
        self.n_position_groups = n_position_groups
        self.n_displacement_groups = n_displacement_groups
        self.overlapping = overlapping
        self.pairwise = pairwise
        self.step = step
        self.acceleration = acceleration
        self.keyframes = keyframes
        self.n_keyframes = n_keyframes
        self.stride = stride
        self.normalize = normalize
        self.rotate = rotate
        self.n_jobs = n_jobs
        self.position_groups = position_groups
        self.displacement_groups = displacement_groups
        self.fill_value = fill_value
        self.fps = fps
        self.vertical_axis = vertical_axis
        self.backend = backend
        self.auto_groups = auto_groups

    # ----------------------------------------------------------------- fit
    def _check_params(self) -> None:
        _check_backend(self.backend)
        if self.keyframes not in ("all", "stride", "motion"):
            raise ParameterError(f"keyframes must be 'all', 'stride' or 'motion', got {self.keyframes!r}")
        if self.keyframes == "motion" and (self.n_keyframes is None or int(self.n_keyframes) < 1):
            raise ParameterError(f"keyframes='motion' needs n_keyframes >= 1, got {self.n_keyframes}")
        if self.keyframes == "stride" and int(self.stride) < 1:
            raise ParameterError(f"stride must be >= 1, got {self.stride}")
        if int(self.step) < 1:
            raise ParameterError(f"step must be >= 1 frame, got {self.step}")
        for name in ("n_position_groups", "n_displacement_groups"):
            if int(getattr(self, name)) < 0:
                raise ParameterError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.auto_groups is not None and self.auto_groups not in AUTO_GROUPS:
            raise ParameterError(
                f"auto_groups must be one of {AUTO_GROUPS} or None, got {self.auto_groups!r}"
            )

    def _default_counts(self) -> list[int]:
        """Group counts taken from the layout (kinds without user-given groups)."""
        out = []
        if self.position_groups is None:
            out.append(int(self.n_position_groups))
        if self.displacement_groups is None:
            out.append(int(self.n_displacement_groups))
        return [c for c in out if c > 0]

    def _plan(self, lay: JointLayout, C: int):
        infos: list[BlockInfo] = []
        groups: list[list[str]] = []
        ops: list[list[int]] = []
        dims: list[int] = []
        kinds = [
            ("position", self.position_groups, int(self.n_position_groups)),
            ("displacement", self.displacement_groups, int(self.n_displacement_groups)),
        ]
        if self.acceleration:
            kinds.append(("acceleration", self.displacement_groups, int(self.n_displacement_groups)))
        op_of = {"displacement": K.OP_DISP, "acceleration": K.OP_ACC}
        for kind, user, count in kinds:
            if user is not None:
                gnames, gjoints = _user_groups(user, lay, kind)
                if self.overlapping:
                    gjoints = [_expand(lay, g) for g in gjoints]
            elif count == 0:
                continue
            else:
                gnames, gjoints = joint_groups(lay, effective_count(lay, count), self.overlapping)
            for gname, g in zip(gnames, gjoints, strict=True):
                idx = [int(i) for i in lay.indices(g)]
                if kind == "position":
                    g_ops = [[K.OP_POS, i, 0] for i in idx]
                    if self.pairwise:
                        g_ops += [[K.OP_PAIR, i, j] for i, j in combinations(idx, 2)]
                else:
                    g_ops = [[op_of[kind], i, 0] for i in idx]
                infos.append(BlockInfo(kind, str(gname)))
                groups.append(list(g))
                ops.extend(g_ops)
                dims.append(len(g_ops) * C)
        if not ops:
            raise ParameterError("no feature groups: n_position_groups and n_displacement_groups are both 0")
        return infos, groups, np.array(ops, dtype=np.int64), dims

    def fit(self, X, y=None) -> JointFeatures:
        """Record the layout, coordinate count and group plan (no learning).

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays
        y : ignored
        """
        self._check_params()
        seqs = as_sequences(X, layout=self.layout, fps=self.fps)
        if not seqs:
            raise PoseDataError("fit needs at least one sequence")
        lay = get_layout(self.layout) if self.layout is not None else seqs[0].layout
        counts = self._default_counts()
        if self.auto_groups is not None and needs_groups(lay, counts):
            positions = [s.position for s in seqs]
            lay = derive_groups(lay, positions, method=self.auto_groups, max_groups=max(counts))
        self.layout_ = lay
        self.n_dims_ = seqs[0].n_dims
        self.block_info_, self.groups_, self._ops, self.dims_ = self._plan(lay, self.n_dims_)
        return self

    # ----------------------------------------------------------------- transform
    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            from sklearn.exceptions import NotFittedError  # scikit-learn's convention (ValueError)

            raise NotFittedError("this JointFeatures is not fitted yet; call fit(X) first")

    def transform(self, X) -> LocalDescriptors:
        """Local descriptors of every sequence of ``X``.

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays

        Returns
        -------
        LocalDescriptors
            Position blocks, then displacement (then acceleration) blocks
            (float64 views of one row-major array), ``frame_index`` = key
            frames, ``n_frames`` = sequence lengths, ``fps`` when known.
        """
        self._check_fitted()
        seqs = as_sequences(X, layout=self.layout_, fps=self.fps)
        lay = self.layout_
        C = self.n_dims_
        for i, s in enumerate(seqs):
            if s.layout.name != lay.name or s.layout.joints != lay.joints:
                raise LayoutError(
                    f"item {i}: layout {s.layout.name!r} differs from the fitted layout {lay.name!r}"
                )
            if s.n_dims != C:
                raise PoseDataError(
                    f"item {i}: expected {C} coordinates per joint (as in fit), found {s.n_dims}"
                )
        lengths = np.fromiter((s.n_frames for s in seqs), dtype=np.int64, count=len(seqs))
        off = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=off[1:])
        if seqs:
            Xc = np.concatenate([s.position for s in seqs], axis=0)
        else:
            Xc = np.zeros((0, lay.n_joints, C))
        fps = [s.fps for s in seqs]
        known = [f is not None for f in fps]
        if any(known) and not all(known):
            raise PoseDataError(
                f"{known.count(False)} of {len(seqs)} sequences have unknown fps while the others "
                "have one; displacement units would differ. Give every sequence its fps (or none)."
            )
        rate = np.array(fps, dtype=np.float64) if all(known) and seqs else np.ones(len(seqs))
        return self._transform_ragged(Xc, off, rate, fps_known=all(known) and bool(seqs))

    def _transform_ragged(
        self, Xc: np.ndarray, off: np.ndarray, rate: np.ndarray, fps_known: bool = False
    ) -> LocalDescriptors:
        rows, key_off = keyframe_indices(
            Xc,
            off,
            mode=self.keyframes,
            n_keyframes=self.n_keyframes,
            stride=self.stride,
            backend=self.backend,
            n_jobs=self.n_jobs,
        )
        fill = np.nan if self.fill_value is None else float(self.fill_value)
        out = _run_fused(
            Xc,
            off,
            rows,
            key_off,
            _layout_arrays(self.layout_),
            self._ops,
            normalize=self.normalize,
            rotate=self.rotate,
            vertical_axis=self.vertical_axis,
            step=int(self.step),
            rate=rate,
            fill=fill,
            backend=self.backend,
            n_jobs=self.n_jobs,
        )
        logger.debug(
            "joint features: %d sequences, %d frames -> %d rows x %d columns (backend %s)",
            len(off) - 1,
            off[-1],
            out.shape[0],
            out.shape[1],
            self.backend,
        )
        bounds = np.concatenate([[0], np.cumsum(self.dims_)])
        blocks = [out[:, bounds[g] : bounds[g + 1]] for g in range(len(self.dims_))]
        frame_index = rows - np.repeat(off[:-1], np.diff(key_off))
        return LocalDescriptors(
            blocks=blocks,
            offsets=key_off,
            frame_index=frame_index,
            n_frames=np.diff(off),
            block_info=list(self.block_info_),
            fps=rate if fps_known else None,
        )

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Column names of :meth:`LocalDescriptors.concat`, e.g. ``"position:head:head.x"``."""
        self._check_fitted()
        axes = "xyz"[: self.n_dims_]
        lay = self.layout_
        names = []
        ops_iter = iter(self._ops.tolist())
        for info, dim in zip(self.block_info_, self.dims_, strict=True):
            for _ in range(dim // self.n_dims_):
                kind, i, j = next(ops_iter)
                label = lay.joints[i] if kind != K.OP_PAIR else f"{lay.joints[i]}-{lay.joints[j]}"
                names.extend(f"{info}:{label}.{a}" for a in axes)
        return np.array(names, dtype=object)

    # ------------------------------------------------------------------ saving
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters of the fitted transformer (state protocol of :mod:`skelbehave.pipeline.persist`)."""
        self._check_fitted()
        params = dict(self.get_params(deep=False))
        if isinstance(params.get("layout"), JointLayout):
            params["layout"] = params["layout"].name
        return {"params": params, "n_dims": int(self.n_dims_), "layout": self.layout_.to_dict()}, {}

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> JointFeatures:
        """Rebuild the fitted transformer from :meth:`_get_state` output (refits the group plan).

        Raises
        ------
        ModelFileError
            Unknown or out-of-range parameters.
        """
        from ..errors import ModelFileError
        from ..io.archive import state_bool, state_float, state_int, state_layout

        p = params.get("params")
        if not isinstance(p, dict):
            raise ModelFileError("params must be an object")
        unknown = sorted(set(p) - set(cls._get_param_names()))
        if unknown:
            raise ModelFileError(f"unknown parameters {unknown}")
        n_dims = state_int(params, "n_dims", 2, 3)
        for name, hi in (("n_position_groups", 64), ("n_displacement_groups", 64), ("step", 1000)):
            if name in p:
                state_int(p, name, 0 if name != "step" else 1, hi)
        if "n_jobs" in p:
            state_int(p, "n_jobs", -1, 1024, none=True)
        for name in ("overlapping", "pairwise", "acceleration", "normalize", "rotate"):
            if name in p:
                state_bool(p, name)
        if "vertical_axis" in p:
            state_int(p, "vertical_axis", 0, 2)
        if p.get("fill_value") is not None:
            state_float(p, "fill_value")
        if p.get("auto_groups") is not None and p["auto_groups"] not in AUTO_GROUPS:
            raise ModelFileError(
                f"auto_groups must be one of {AUTO_GROUPS} or null, got {p['auto_groups']!r}"
            )
        layout = state_layout(params, "layout", max_joints=1000)
        if p.get("layout") is not None:
            p = {**p, "layout": layout}
        est = cls(**p)
        est.fit([PoseSequence(np.zeros((2, layout.n_joints, n_dims)), layout)])
        return est
