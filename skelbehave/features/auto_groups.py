"""Body-part groups for layouts that have none (skeletons built from keypoint names).

A layout built with :meth:`~skelbehave.JointLayout.from_names` (every
DeepLabCut file, every user skeleton) has one group, ``"all"``, so the
default model, which describes 2 body parts, could not use it.
:func:`derive_groups` gives such a layout a hierarchy of body-part groups:

1. **Distances.** With training data, the distance between two joints is the
   median over frames of their distance in a frame divided by the mean
   distance over all joint pairs of that frame (so it does not depend on the
   animal's size, the camera zoom or the body's orientation: a rat that turns
   round keeps its shape, whereas mean root-relative positions would
   collapse to the root). Up to ``max_frames`` frames, spread evenly over all
   sequences, are read; frames with fewer than two joints are skipped.
   Without data the distance is the number of bones between the joints
   (layouts with bones), or the layout order (joint ``i`` and ``j`` are
   ``|i - j|`` apart: files list body parts head to tail).
2. **Clustering.** Average-linkage agglomerative clustering
   (:class:`sklearn.cluster.AgglomerativeClustering`, distances
   precomputed), without a connectivity constraint: joints that stay close
   together form a part even when no bone joins them. On MSR Action3D
   (``msr20`` joint names, no groups) the 2-part cut of the training poses is
   the built-in one (upper body and arms, legs), the hips going with the
   upper body, and the model as accurate (0.95 on 6 actions), while merges
   constrained to follow the bones split one leg from the rest of the body
   (the two legs meet only through the hips), so bones are used only when
   there are no poses to measure.
3. **Hierarchy.** The cuts of one tree are nested: the finest cut gives the
   layout's ``groups`` and every coarser cut a ``partitions[n]`` entry, as for
   the built-in layouts. Counts above the joint count give one joint per
   group.

The derived layout keeps the name, joints, bones, root and conventions of the
original, so sequences of the original layout are accepted unchanged.

Why not "use the one group the layout offers": on the rat dyad clips one
group mixes head and tail motion in one descriptor; the derived groups
(head and body, tail) give the encoder the same body-part structure the
default was chosen with on human skeletons.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import LayoutError, ParameterError
from ..layouts import JointLayout

__all__ = ["AUTO_GROUPS", "derive_groups", "effective_count", "group_distances", "needs_groups"]

logger = logging.getLogger(__name__)

#: accepted values of ``JointFeatures(auto_groups=...)``
AUTO_GROUPS = ("auto", "trajectories", "bones", "order")


def needs_groups(layout: JointLayout, counts: Sequence[int]) -> bool:
    """Whether ``layout`` lacks body-part groups for one of the requested group ``counts``.

    True only for layouts without body-part groups (one partition, as from
    :meth:`~skelbehave.JointLayout.from_names`) asked for more than one group.

    Examples
    --------
    >>> needs_groups(JointLayout.from_names(["nose", "body", "tail"]), [2, 2])
    True
    >>> from skelbehave.layouts import get_layout
    >>> needs_groups(get_layout("msr20"), [2, 4])
    False
    """
    want = [int(c) for c in counts if int(c) > 0]
    return layout.max_groups == 1 and layout.n_joints > 1 and any(c > 1 for c in want)


def effective_count(layout: JointLayout, count: int) -> int:
    """The group count used for ``count``: ``count``, or the joint count for a larger count
    when the layout splits down to single joints (derived layouts).

    Examples
    --------
    >>> lay = derive_groups(JointLayout.from_names(["a", "b", "c"]), method="order", max_groups=6)
    >>> effective_count(lay, 6), effective_count(lay, 2)
    (3, 2)
    """
    count = int(count)
    if count in layout.partitions or count <= layout.n_joints:
        return count
    return layout.n_joints if layout.n_joints in layout.partitions else count


def _hop_distances(layout: JointLayout) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    J = layout.n_joints
    b = layout.bone_indices
    adj = coo_matrix((np.ones(len(b)), (b[:, 0], b[:, 1])), shape=(J, J))
    D = shortest_path(adj, directed=False, unweighted=True)
    finite = D[np.isfinite(D)]
    D[~np.isfinite(D)] = (finite.max() if finite.size else 0.0) + 1.0
    return D


def group_distances(positions: Sequence[np.ndarray], max_frames: int = 4000) -> np.ndarray:
    """Scale-free median distance between every two joints over the frames of ``positions``.

    Parameters
    ----------
    positions : list of arrays (T, J, C)
        Joint positions, NaN where missing.
    max_frames : int
        At most this many frames (spread evenly) are read; fewer for many
        joints (the work grows with J squared).

    Returns
    -------
    ndarray (J, J)
        Symmetric, zero diagonal; a pair never seen together gets the
        largest distance found (NaN everywhere when no frame holds two joints).

    Examples
    --------
    >>> t = np.linspace(0, 6, 50)[:, None]
    >>> head = np.hstack([np.cos(t), np.sin(t)])  # the body turns round; shape stays
    >>> X = np.stack([head, 1.1 * head, -head, -1.1 * head], axis=1)
    >>> D = group_distances([X])
    >>> bool(D[0, 1] < D[0, 2] and D[2, 3] < D[1, 3])
    True
    """
    P = np.concatenate([np.asarray(p, dtype=np.float64) for p in positions], axis=0)
    J = P.shape[1]
    budget = max(100, min(int(max_frames), 4_000_000 // max(J * J, 1)))
    present = np.isfinite(P).all(axis=2)
    keep = np.flatnonzero(present.sum(axis=1) >= 2)
    if keep.size > budget:
        keep = keep[np.linspace(0, keep.size - 1, budget).round().astype(np.int64)]
    if keep.size == 0:
        return np.full((J, J), np.nan)
    Q = P[keep]
    d = np.sqrt(((Q[:, :, None, :] - Q[:, None, :, :]) ** 2).sum(axis=-1))  # (n, J, J), NaN propagates
    off = ~np.eye(J, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: pairs never seen together
        unit = np.nanmean(np.where(off, d, np.nan), axis=(1, 2))
        ok = np.isfinite(unit) & (unit > 0)
        D = np.nanmedian(d[ok] / unit[ok, None, None], axis=0) if ok.any() else np.full((J, J), np.nan)
    if np.isfinite(D[off]).any():
        D[~np.isfinite(D)] = np.nanmax(D[off])
    np.fill_diagonal(D, 0.0)
    return D


def _cut(D: np.ndarray, n: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    est = AgglomerativeClustering(
        n_clusters=n, metric="precomputed", linkage="average", compute_full_tree=True
    )
    return est.fit(D).labels_


def derive_groups(
    layout: JointLayout,
    positions: Sequence[np.ndarray] | None = None,
    method: str = "auto",
    max_groups: int = 6,
) -> JointLayout:
    """The layout with a hierarchy of body-part groups (``partitions`` 1 .. ``max_groups``).

    Parameters
    ----------
    layout : JointLayout
        A layout without body-part groups (one partition).
    positions : list of arrays (T, J, C), optional
        Training poses of this layout (``PoseSequence.position``); used by
        ``"trajectories"`` (and by ``"auto"`` when given).
    method : {"auto", "trajectories", "bones", "order"}
        Distances between joints (see the module documentation):
        ``"auto"`` uses the poses when given, else the bones, else the joint
        order.
    max_groups : int
        Finest group count (capped at the joint count).

    Returns
    -------
    JointLayout
        Same name, joints, bones and root; ``groups`` = the finest cut,
        named after their first joint (``"<joint>_part"``, or the joint's
        own name for a group of one).

    Raises
    ------
    ParameterError
        Unknown ``method``, ``"trajectories"`` without poses, ``"bones"``
        on a layout without bones.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = np.array([[0, 0], [1, 0], [5, 0], [6, 0]], dtype=float)
    >>> X = base + rng.normal(scale=0.05, size=(40, 4, 2))
    >>> lay = derive_groups(JointLayout.from_names(["nose", "neck", "hip", "tail"]), [X])
    >>> lay.partition(2)
    [['nose', 'neck'], ['hip', 'tail']]
    >>> sorted(lay.partitions)
    [1, 2, 3, 4]
    """
    if method not in AUTO_GROUPS:
        raise ParameterError(f"auto_groups must be one of {AUTO_GROUPS} or None, got {method!r}")
    J = layout.n_joints
    has_bones = len(layout.bones) > 0
    if method == "bones" and not has_bones:
        raise ParameterError(f"auto_groups='bones': layout {layout.name!r} has no bones")
    D = None
    source = method
    if method in ("auto", "trajectories") and positions is not None and len(positions):
        D = group_distances(positions)
        if not np.isfinite(D).all():
            D = None
        source = "trajectories"
    if D is None and method == "trajectories":
        raise ParameterError(
            f"auto_groups='trajectories': no frame of layout {layout.name!r} holds two joints to measure"
        )
    if D is None and has_bones and method != "order":
        D, source = _hop_distances(layout), "bones"
    if D is None:
        idx = np.arange(J, dtype=np.float64)
        D, source = np.abs(idx[:, None] - idx[None, :]), "order"
    n_max = max(1, min(int(max_groups), J))
    labels = {n: np.zeros(J, dtype=np.int64) if n == 1 else _cut(D, n) for n in range(1, n_max + 1)}
    fine = labels[n_max]
    order = list(dict.fromkeys(fine.tolist()))  # fine groups in the order of their first joint
    names, groups = {}, {}
    for lab in order:
        members = tuple(layout.joints[i] for i in np.flatnonzero(fine == lab))
        name = members[0] if len(members) == 1 else f"{members[0]}_part"
        names[lab] = name
        groups[name] = members
    partitions = {}
    for n, lab_n in labels.items():
        parts: dict[int, list[str]] = {}
        for lab in order:
            coarse = lab_n[fine == lab]
            if len(set(coarse.tolist())) != 1:  # cuts of one tree are nested; a change in sklearn shows here
                raise LayoutError(f"derived body-part groups of layout {layout.name!r} are not nested at {n}")
            parts.setdefault(int(coarse[0]), []).append(names[lab])
        partitions[n] = tuple(tuple(p) for p in parts.values())
    logger.info(
        "layout %r: %d body-part groups derived from %s: %s",
        layout.name, n_max, source, [list(g) for g in groups.values()],
    )  # fmt: skip
    return JointLayout(
        name=layout.name,
        joints=layout.joints,
        bones=layout.bones,
        root=layout.root,
        groups=groups,
        partitions=partitions,
        facing=layout.facing,
        size=layout.size,
        description=(layout.description + "; " if layout.description else "")
        + f"body-part groups derived from {source}",
        common=layout.common,
        convention=layout.convention,
    )
