"""Joint layouts: joint names, bones, root, body-part groups, as data.

The built-in layouts live in ``skelbehave/_data/layouts.json``; this module
only turns that table into :class:`JointLayout` objects. Layouts for files
that name their own keypoints (DeepLabCut) are built with
:meth:`JointLayout.from_names`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from .errors import LayoutError

__all__ = ["JointLayout", "get_layout", "list_layouts", "register_layout"]


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

    Examples
    --------
    >>> lay = get_layout("kinect_v1")
    >>> lay.n_joints, lay.root
    (20, ('hip_center',))
    >>> lay.index("head")
    3
    >>> [len(g) for g in lay.partition(4)]
    [4, 4, 4, 8]
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
    def from_names(cls, joints, name: str = "custom", root=None) -> JointLayout:
        """A layout for a file that names its own keypoints (DeepLabCut).

        Every joint forms one group; the root is the mean of all joints unless
        ``root`` names joints.

        Examples
        --------
        >>> lay = JointLayout.from_names(["nose", "body", "tail"], name="rat")
        >>> lay.n_joints, lay.partition(1)
        (3, [['nose', 'body', 'tail']])
        """
        joints = tuple(str(j) for j in joints)
        if not joints:
            raise LayoutError("a layout needs at least one joint")
        root_t = tuple(root) if root is not None else joints
        return cls(
            name=name,
            joints=joints,
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
            )
        except (KeyError, TypeError) as exc:
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
