"""Joint layouts: joint names, bones, root, body-part groups, as data.

The built-in layouts live in ``skelbehave/_data/layouts.json``; this module
only turns that table into :class:`JointLayout` objects. Layouts for files
that name their own keypoints (DeepLabCut) are built with
:meth:`JointLayout.from_names`.

Skeletons that map onto each other
----------------------------------
Every body layout declares, as data, how its joints give the 15 joints of the
common body skeleton :data:`COMMON_LAYOUT` (``"common15"``: head, neck =
shoulder centre, shoulders, elbows, wrists, hips, hip centre, knees, ankles);
a common joint a layout lacks is the mean of the joints listed for it (hip
centre = mean of the hips for COCO and MediaPipe). Each layout also declares
its coordinate convention: the direction of each axis as seen from the camera
(``left``/``right``, ``up``/``down``, ``away``/``towards``) and the unit.
Kinect camera space (x to the camera's left, y up, z away from the camera,
metres) is :data:`CANONICAL_CONVENTION`; MediaPipe world landmarks are x right,
y down, z away, metres (checked on the extracted KTH clips: the left shoulder
of a person facing the camera has the larger x, the nose a smaller y than the
hips, the toes a smaller z than the heels), so bringing them to Kinect space
is a rotation by 180 degrees about z, never a mirror image.
:func:`layout_mapping` and :func:`convention_transform` are the two pieces
:meth:`skelbehave.PoseSequence.to_layout` puts together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from .errors import LayoutError

__all__ = [
    "CANONICAL_CONVENTION",
    "COMMON_LAYOUT",
    "JointLayout",
    "convention_transform",
    "get_layout",
    "layout_mapping",
    "list_layouts",
    "register_layout",
]

#: name of the common body skeleton every built-in body layout maps onto
COMMON_LAYOUT = "common15"
#: Kinect camera space: the convention of the common skeleton (and of every Kinect data set)
CANONICAL_CONVENTION: dict[str, str] = {"x": "left", "y": "up", "z": "away", "unit": "m"}

_AXIS_WORDS = {"left": (0, 1.0), "right": (0, -1.0), "up": (1, 1.0), "down": (1, -1.0),
               "away": (2, 1.0), "towards": (2, -1.0)}
_UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}


@dataclass(frozen=True)
class JointLayout:
    """How the joints of a skeleton are named and connected.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"msr20"``.
    joints : tuple of str
        Joint names in array order (axis 1 of a ``(T, J, C)`` position array).
    bones : tuple of (str, str)
        Connected joint pairs, used for drawing and for group attachment.
    root : tuple of str
        Joints whose mean is the root (hip / spine base). One joint for Kinect
        layouts, the two hips for MediaPipe and COCO.
    groups : dict of str to tuple of str
        Named, non-overlapping body parts covering every joint (the finest
        partition): e.g. head, torso, arm_left, arm_right, leg_left, leg_right.
    partitions : dict of int to tuple of tuple of str
        For a group count ``n``, which fine groups merge into each of the
        ``n`` coarser groups. ``partitions[len(groups)]`` is the fine partition.
    facing : tuple of (tuple of str, tuple of str) or None
        Left-side and right-side joints whose difference gives the body's
        left-right axis (used to rotate to a canonical facing direction).
    size : tuple of (tuple of str, tuple of str) or None
        Two joint sets whose mean distance is the body-size measure
        (e.g. hip centre to shoulder centre).
    description : str
        Where the order comes from.
    common : dict of str to tuple of str
        How the joints give the common body skeleton (:data:`COMMON_LAYOUT`):
        for each common joint, the joints whose mean it is. Empty for layouts
        that are not human bodies (a rat, a DeepLabCut file).
    convention : dict or None
        Axis directions and unit of the coordinates, e.g. ``{"x": "left",
        "y": "up", "z": "away", "unit": "m"}`` (see
        :func:`convention_transform`); None when unknown.

    Examples
    --------
    >>> lay = get_layout("kinect_v1")
    >>> lay.n_joints, lay.root
    (20, ('hip_center',))
    >>> lay.index("head")
    3
    >>> [len(g) for g in lay.partition(4)]
    [4, 4, 4, 8]
    >>> get_layout("mediapipe33").common["hip_center"]
    ('left_hip', 'right_hip')
    """

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[str, str], ...] = ()
    root: tuple[str, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    partitions: dict[int, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    facing: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    size: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    description: str = ""
    common: dict[str, tuple[str, ...]] = field(default_factory=dict)
    convention: dict[str, str] | None = None

    def __post_init__(self) -> None:
        names = self.joints
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise LayoutError(f"layout {self.name!r}: duplicate joint names {dup}")
        known = set(names)
        used: list[str] = []
        for gname, members in self.groups.items():
            for j in members:
                if j not in known:
                    raise LayoutError(
                        f"layout {self.name!r}: group {gname!r} names joint {j!r}, "
                        f"which is not one of its {len(names)} joints"
                    )
            used.extend(members)
        if self.groups and sorted(used) != sorted(names):
            missing = sorted(known - set(used))
            twice = sorted({j for j in used if used.count(j) > 1})
            raise LayoutError(
                f"layout {self.name!r}: groups must cover every joint exactly once; "
                f"missing {missing}, repeated {twice}"
            )
        for a, b in self.bones:
            if a not in known or b not in known:
                raise LayoutError(f"layout {self.name!r}: bone ({a!r}, {b!r}) names an unknown joint")
        for j in self.root:
            if j not in known:
                raise LayoutError(f"layout {self.name!r}: root joint {j!r} is not a joint")
        for cj, members in self.common.items():
            bad = [j for j in members if j not in known]
            if not members or bad:
                raise LayoutError(
                    f"layout {self.name!r}: common joint {cj!r} must be the mean of joints of the "
                    f"layout, found {list(members)} (unknown: {bad})"
                )
        if self.convention is not None:
            _check_convention(self.convention, f"layout {self.name!r}")
        for n, parts in self.partitions.items():
            flat = [g for part in parts for g in part]
            if len(parts) != n or sorted(flat) != sorted(self.groups):
                raise LayoutError(
                    f"layout {self.name!r}: partition {n} must merge all {len(self.groups)} groups "
                    f"into {n} parts, found {len(parts)} parts over {sorted(flat)}"
                )

    # ------------------------------------------------------------------ access
    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return len(self.joints)

    @property
    def max_groups(self) -> int:
        """Largest group count a partition is defined for."""
        return max(self.partitions) if self.partitions else 1

    def index(self, joint: str | int) -> int:
        """Array index of a joint given by name (or index, checked)."""
        if isinstance(joint, (int, np.integer)):
            if not 0 <= int(joint) < self.n_joints:
                raise LayoutError(
                    f"layout {self.name!r} has joints 0..{self.n_joints - 1}, got index {joint}"
                )
            return int(joint)
        try:
            return self.joints.index(joint)
        except ValueError:
            raise LayoutError(
                f"layout {self.name!r} has no joint {joint!r}; joints are {list(self.joints)}"
            ) from None

    def indices(self, joints) -> np.ndarray:
        """Array indices (int64) of several joints given by name or index."""
        return np.array([self.index(j) for j in joints], dtype=np.int64)

    @property
    def root_indices(self) -> np.ndarray:
        """Indices of the root joints (their mean is the root)."""
        return self.indices(self.root) if self.root else np.arange(self.n_joints)

    @property
    def bone_indices(self) -> np.ndarray:
        """Bones as an (n_bones, 2) int64 array of joint indices."""
        pairs = [[self.index(a), self.index(b)] for a, b in self.bones]
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)

    def partition(self, n_groups: int) -> list[list[str]]:
        """Joint names of each group when the body is split into ``n_groups`` parts.

        Parameters
        ----------
        n_groups : int
            1 up to :attr:`max_groups`.

        Returns
        -------
        list of list of str
            Non-overlapping joint groups, in layout order inside each group.
        """
        if n_groups not in self.partitions:
            raise LayoutError(
                f"layout {self.name!r} defines group counts {sorted(self.partitions)}, not {n_groups}"
            )
        out = []
        for part in self.partitions[n_groups]:
            members = {j for g in part for j in self.groups[g]}
            out.append([j for j in self.joints if j in members])
        return out

    def group_names(self, n_groups: int) -> list[str]:
        """Names of the parts of :meth:`partition` (fine group names joined by '+')."""
        if n_groups not in self.partitions:
            raise LayoutError(
                f"layout {self.name!r} defines group counts {sorted(self.partitions)}, not {n_groups}"
            )
        return ["+".join(part) for part in self.partitions[n_groups]]

    # ------------------------------------------------------------ construction
    @classmethod
    def from_names(cls, joints, name: str = "custom", root=None, bones=()) -> JointLayout:
        """A layout for a file that names its own keypoints (DeepLabCut).

        Every joint forms one group; the root is the mean of all joints unless
        ``root`` names joints. ``bones`` (joint-name pairs, e.g. a DeepLabCut
        project's skeleton) are optional; the clip model's body-part groups
        for such a layout are derived when it is fitted (along the bones when
        given; :func:`skelbehave.features.auto_groups.derive_groups`).

        Examples
        --------
        >>> lay = JointLayout.from_names(["nose", "body", "tail"], name="rat")
        >>> lay.n_joints, lay.partition(1)
        (3, [['nose', 'body', 'tail']])
        >>> JointLayout.from_names(["nose", "body", "tail"], bones=[("nose", "body")]).bones
        (('nose', 'body'),)
        """
        joints = tuple(str(j) for j in joints)
        if not joints:
            raise LayoutError("a layout needs at least one joint")
        root_t = tuple(root) if root is not None else joints
        return cls(
            name=name,
            joints=joints,
            bones=tuple((str(a), str(b)) for a, b in bones),
            root=root_t,
            groups={"all": joints},
            partitions={1: (("all",),)},
            description="built from the keypoint names of a file",
        )

    def to_dict(self) -> dict:
        """A JSON-serialisable description (inverse of :meth:`from_dict`)."""
        return {
            "name": self.name,
            "joints": list(self.joints),
            "bones": [list(b) for b in self.bones],
            "root": list(self.root),
            "groups": {k: list(v) for k, v in self.groups.items()},
            "partitions": {str(k): [list(p) for p in v] for k, v in self.partitions.items()},
            "facing": None if self.facing is None else [list(s) for s in self.facing],
            "size": None if self.size is None else [list(s) for s in self.size],
            "description": self.description,
            **({"common": {k: list(v) for k, v in self.common.items()}} if self.common else {}),
            **({"convention": dict(self.convention)} if self.convention is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> JointLayout:
        """Build a layout from :meth:`to_dict` output."""
        try:
            return cls(
                name=str(d["name"]),
                joints=tuple(d["joints"]),
                bones=tuple(tuple(b) for b in d.get("bones", ())),
                root=tuple(d.get("root", ())),
                groups={k: tuple(v) for k, v in d.get("groups", {}).items()},
                partitions={int(k): tuple(tuple(p) for p in v) for k, v in d.get("partitions", {}).items()},
                facing=None if d.get("facing") is None else tuple(tuple(s) for s in d["facing"]),
                size=None if d.get("size") is None else tuple(tuple(s) for s in d["size"]),
                description=str(d.get("description", "")),
                common={str(k): tuple(v) for k, v in (d.get("common") or {}).items()},
                convention=None if d.get("convention") is None else dict(d["convention"]),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise LayoutError(f"layout description is missing or has a malformed field: {exc}") from None

    def __repr__(self) -> str:
        return f"JointLayout({self.name!r}, {self.n_joints} joints, groups={list(self.groups)})"

    def __hash__(self) -> int:
        return hash((self.name, self.joints))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JointLayout) and self.to_dict() == other.to_dict()


_USER_LAYOUTS: dict[str, JointLayout] = {}


@cache
def _builtin() -> dict[str, JointLayout]:
    raw = json.loads(resources.files("skelbehave._data").joinpath("layouts.json").read_text())
    templates = raw["partition_templates"]
    out = {}
    for name, d in raw["layouts"].items():
        d = dict(d, name=name)
        if isinstance(d.get("partitions"), str):
            d["partitions"] = templates[d["partitions"]]
        out[name] = JointLayout.from_dict(d)
    return out


def list_layouts() -> list[str]:
    """Names of all registered layouts.

    Examples
    --------
    >>> {"msr20", "kinect_v1", "ntu25", "mediapipe33", "coco17"} <= set(list_layouts())
    True
    """
    return sorted({*_builtin(), *_USER_LAYOUTS})


def get_layout(layout: str | JointLayout) -> JointLayout:
    """Look a layout up by name (a :class:`JointLayout` is returned as is).

    Examples
    --------
    >>> get_layout("mediapipe33").n_joints
    33
    """
    if isinstance(layout, JointLayout):
        return layout
    if layout in _USER_LAYOUTS:
        return _USER_LAYOUTS[layout]
    try:
        return _builtin()[layout]
    except (KeyError, TypeError):
        raise LayoutError(f"unknown layout {layout!r}; known layouts: {list_layouts()}") from None


def register_layout(layout: JointLayout) -> None:
    """Make a user-defined layout available by name to :func:`get_layout`."""
    if not isinstance(layout, JointLayout):
        raise LayoutError(f"expected a JointLayout, got {type(layout).__name__}")
    _USER_LAYOUTS[layout.name] = layout


# ------------------------------------------------------------------ common skeleton and conventions
def _check_convention(conv, where: str) -> None:
    if not isinstance(conv, dict):
        raise LayoutError(f"{where}: a convention is a mapping of axes and unit, got {conv!r}")
    axes = [conv.get(a) for a in ("x", "y", "z") if a in conv]
    if not {"x", "y"} <= set(conv) or not all(a in _AXIS_WORDS for a in axes):
        raise LayoutError(
            f"{where}: convention needs x, y (and z) among {sorted(_AXIS_WORDS)}, got {conv!r}"
        )
    if len({_AXIS_WORDS[a][0] for a in axes}) != len(axes):
        raise LayoutError(f"{where}: convention {conv!r} names one direction twice")
    if not isinstance(conv.get("unit", "m"), str):
        raise LayoutError(f"{where}: convention unit must be a string, got {conv.get('unit')!r}")


def convention_transform(source: dict, target: dict | None = None, n_dims: int = 3):
    """Matrix and scale that bring coordinates from one convention to another.

    A convention names, for each axis, the direction it points as seen from
    the camera (``left``/``right``, ``up``/``down``, ``away``/``towards``) and
    the unit (``m``, ``cm``, ``mm``; any other unit, e.g. ``px``, is kept).
    ``new = scale * old @ matrix.T``.

    Parameters
    ----------
    source, target : dict
        Conventions; ``target`` defaults to :data:`CANONICAL_CONVENTION`.
    n_dims : int
        2 or 3 coordinates.

    Returns
    -------
    matrix : ndarray, shape (n_dims, n_dims)
        Signed permutation (a rotation when both conventions are right-handed).
    scale : float
        Unit factor (1 when either unit is not a length unit the package knows).
    unit : str
        Unit of the result.

    Examples
    --------
    >>> m, s, u = convention_transform(get_layout("mediapipe33").convention)
    >>> m.tolist(), s, u  # x right -> x left, y down -> y up: a turn by 180 degrees about z
    ([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]], 1.0, 'm')
    >>> convention_transform({"x": "left", "y": "up", "z": "away", "unit": "mm"})[1]
    0.001
    """
    target = CANONICAL_CONVENTION if target is None else target
    _check_convention(source, "source")
    _check_convention(target, "target")
    axes = ("x", "y", "z")[:n_dims]
    if any(a not in source or a not in target for a in axes):
        raise LayoutError(f"conventions {source!r} and {target!r} do not name all {n_dims} axes")
    m = np.zeros((n_dims, n_dims))
    for i, ta in enumerate(axes):
        t_axis, t_sign = _AXIS_WORDS[target[ta]]
        for k, sa in enumerate(axes):
            s_axis, s_sign = _AXIS_WORDS[source[sa]]
            if s_axis == t_axis:
                m[i, k] = t_sign * s_sign
        if not m[i].any():
            raise LayoutError(f"convention {source!r} has no axis along {target[ta]!r}")
    su, tu = source.get("unit", "m"), target.get("unit", "m")
    if su in _UNITS and tu in _UNITS:
        return m, _UNITS[su] / _UNITS[tu], tu
    return m, 1.0, su


def layout_mapping(source: str | JointLayout, target: str | JointLayout) -> list[np.ndarray]:
    """For each joint of ``target``, the ``source`` joint indices whose mean it is.

    Both layouts meet through the common body skeleton: a target joint that is
    one common joint (``common[c] == (joint,)``) takes the source's definition
    of that common joint. Other joints, between two body layouts (both with a
    common mapping), take the joint of the same name (``msr20``, ``kinect_v1``
    and ``ntu25`` name the Kinect joints alike; the common ``neck`` of
    ``ntu25`` is its ``spine_shoulder``, not its own ``neck``). The same
    layout maps joint to joint.

    Raises
    ------
    LayoutError
        Listing the target joints that have no counterpart: common joints the
        source cannot provide, or target joints outside the common skeleton
        (hands, feet, spine of Kinect layouts).

    Examples
    --------
    >>> m = layout_mapping("mediapipe33", "common15")
    >>> [get_layout("mediapipe33").joints[i] for i in m[0]]  # hip centre = mean of the hips
    ['left_hip', 'right_hip']
    >>> layout_mapping("mediapipe33", "kinect_v1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skelbehave.errors.LayoutError: cannot map layout 'mediapipe33' onto 'kinect_v1': no counterpart for ...
    """
    src, tgt = get_layout(source), get_layout(target)
    if src.joints == tgt.joints:
        return [np.array([j]) for j in range(src.n_joints)]
    own = {members[0]: c for c, members in tgt.common.items() if len(members) == 1}
    out, missing = [], []
    for j in tgt.joints:
        c = own.get(j)
        if c is not None and c in src.common:
            out.append(src.indices(src.common[c]))
            continue
        if j in src.joints and src.common and tgt.common:  # Kinect v1 / v2 orders share joint names
            out.append(src.indices([j]))
            continue
        missing.append(j if c is None or c == j else f"{j} (common {c})")
    if missing:
        hint = "" if src.common else f"; layout {src.name!r} declares no mapping to the common skeleton"
        raise LayoutError(
            f"cannot map layout {src.name!r} onto {tgt.name!r}: no counterpart for {missing}{hint}. "
            f"Layouts that map onto the common skeleton meet in {COMMON_LAYOUT!r} "
            f"(joints {list(get_layout(COMMON_LAYOUT).joints)})"
        )
    return out
