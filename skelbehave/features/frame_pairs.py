"""Per-frame relations between the individuals of a recording, pooled so that their order does not matter.

- :func:`relation_columns` - per frame, the relative descriptors of every
  ordered pair of individuals (key-point distances, relative position in each
  other's heading, closing and approach speeds): the kernels of
  :func:`skelbehave.features.interaction.relative_descriptors`, not a second copy.
- :func:`pool_individuals` - per-frame feature columns of several individuals
  (``i<k>:<feature>``) and of ordered pairs (``i<a>>i<b>:<feature>``) pooled
  over the individuals: the elementwise minimum and maximum of each feature
  (missing values left out), so that swapping the individuals gives the same
  columns, bit for bit.
- :func:`recording_features` - the per-frame features of one recording as the
  frame-level model uses them (``relations`` = ``"none"``, ``"ordered"`` or
  ``"symmetric"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError
from ..poses import PoseSequence
from .interaction import relative_descriptors

__all__ = ["RELATIONS", "pool_individuals", "recording_features", "relation_columns"]

#: how the frame-level model treats several individuals: ``"none"`` (per-individual and ordered pair
#: columns of :class:`~skelbehave.features.frame.FrameFeatures` only), ``"ordered"`` (plus
#: :func:`relation_columns`), ``"symmetric"`` (both, pooled by :func:`pool_individuals`)
RELATIONS = ("none", "ordered", "symmetric")


def relation_columns(seqs: Sequence[PoseSequence], step: int = 2) -> tuple[np.ndarray, list[str]]:
    """Relative descriptors of every ordered pair of individuals, one row per frame.

    For the pair (``i``, ``j``) the ``distance``, ``offset`` and ``approach``
    blocks of :func:`~skelbehave.features.interaction.relative_descriptors`
    (``j`` seen from ``i``), named ``i<i>>i<j>:rel<k>``; float32, NaN where a
    key point is missing. One individual: no column.

    Examples
    --------
    >>> from skelbehave.layouts import JointLayout
    >>> lay = JointLayout.from_names(["nose", "tail"])
    >>> a = PoseSequence(np.array([[[1.0, 0], [0, 0]]] * 5), lay, fps=10)
    >>> b = PoseSequence(a.position + [4.0, 0.0], lay, fps=10)
    >>> R, names = relation_columns([a, b])
    >>> R.shape, names[:2], names[13:15]
    ((5, 26), ['i0>i1:rel0', 'i0>i1:rel1'], ['i1>i0:rel0', 'i1>i0:rel1'])
    """
    cols, names = [], []
    for i, a in enumerate(seqs):
        for j, b in enumerate(seqs):
            if i == j:
                continue
            blocks, _ = relative_descriptors(a, b, int(step))
            block = np.concatenate(blocks, axis=1)
            cols.append(block)
            names.extend(f"i{i}>i{j}:rel{k}" for k in range(block.shape[1]))
    if not cols:
        return np.zeros((seqs[0].n_frames if seqs else 0, 0), dtype=np.float32), []
    R = np.concatenate(cols, axis=1).astype(np.float32)
    R[~np.isfinite(R)] = np.nan
    return R, names


def pool_individuals(F: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Pool per-individual and per-pair columns over the individuals: elementwise minimum and maximum.

    Columns ``i<k>:<feature>`` of the individuals ``k`` become ``lo:<feature>``
    and ``hi:<feature>`` (the smallest and largest value over the
    individuals, NaN left out); columns of ordered pairs
    ``i<a>>i<b>:<feature>`` become ``pair>lo:<feature>`` and
    ``pair>hi:<feature>`` over the pairs. A feature held by one column only
    (e.g. the root distance, computed once per unordered pair) stays as it
    is. The result does not depend on the order of the individuals.

    Examples
    --------
    >>> F = np.array([[1.0, 5.0, 2.0, 7.0, 9.0]], dtype=np.float32)
    >>> P, names = pool_individuals(F, ["i0:speed0", "i1:speed0", "i0>i1:pos0", "i1>i0:pos0", "i0>i1:dist0"])
    >>> names, P.tolist()
    (['lo:speed0', 'hi:speed0', 'pair>lo:pos0', 'pair>hi:pos0', 'i0>i1:dist0'], [[1.0, 5.0, 2.0, 7.0, 9.0]])
    >>> Q, _ = pool_individuals(F[:, [1, 0, 3, 2, 4]], ["i0:speed0", "i1:speed0", "i0>i1:pos0", "i1>i0:pos0",
    ...                                                  "i0>i1:dist0"])
    >>> bool((P == Q).all())
    True
    """
    names = list(names)
    if F.ndim != 2 or F.shape[1] != len(names):
        raise ParameterError(f"F has shape {F.shape} but {len(names)} column names")
    groups: dict[tuple[str, str], list[int]] = {}
    for c, name in enumerate(names):
        who, _, feat = name.partition(":")
        groups.setdefault(("pair" if ">" in who else "ind", feat), []).append(c)
    out_names: list[str] = []
    single: list[tuple[int, int]] = []  # (output column, input column)
    pooled: dict[int, list[tuple[int, list[int]]]] = {}  # group size -> (output column of lo, inputs)
    for (kind, feat), idx in groups.items():
        if len(idx) == 1:
            single.append((len(out_names), idx[0]))
            out_names.append(names[idx[0]])
            continue
        pooled.setdefault(len(idx), []).append((len(out_names), idx))
        pre = "pair>" if kind == "pair" else ""
        out_names.extend([f"{pre}lo:{feat}", f"{pre}hi:{feat}"])
    out = np.empty((F.shape[0], len(out_names)), dtype=F.dtype)
    if single:
        o, i = np.array(single).T
        out[:, o] = F[:, i]
    for members in pooled.values():  # every group of one size at once
        at = np.array([o for o, _ in members])
        block = F[:, np.array([idx for _, idx in members])]  # (N, groups, size)
        with np.errstate(invalid="ignore"):
            out[:, at] = np.fmin.reduce(block, axis=2)
            out[:, at + 1] = np.fmax.reduce(block, axis=2)
    return out, out_names


def recording_features(
    ff, rec: Sequence[PoseSequence], relations: str = "symmetric"
) -> tuple[np.ndarray, list[str]]:
    """Per-frame features of one recording: :class:`~skelbehave.features.frame.FrameFeatures`, plus relations.

    ``relations="none"``: the features of ``ff`` as they are; ``"ordered"``:
    plus :func:`relation_columns` of every ordered pair; ``"symmetric"``:
    both, pooled over the individuals by :func:`pool_individuals` (the same
    values whichever individual is listed first). A recording with one
    individual gets the features of ``ff`` in every case.

    Examples
    --------
    >>> from skelbehave.features.frame import FrameFeatures
    >>> from skelbehave.layouts import JointLayout
    >>> rng = np.random.default_rng(0)
    >>> lay = JointLayout.from_names(list("abc"))
    >>> a, b = (PoseSequence(rng.normal(size=(30, 3, 2)), lay, fps=30) for _ in range(2))
    >>> F, names = recording_features(FrameFeatures(), [a, b])
    >>> G, _ = recording_features(FrameFeatures(), [b, a])
    >>> F.shape == (30, len(names)), bool(np.array_equal(F, G, equal_nan=True))
    (True, True)
    """
    if relations not in RELATIONS:
        raise ParameterError(f"relations must be one of {RELATIONS}, got {relations!r}")
    F, names = ff.transform_recording(list(rec))
    if len(rec) < 2 or relations == "none":
        return F, names
    R, rnames = relation_columns(rec, ff.step)
    F, names = np.concatenate([F, R], axis=1), names + rnames
    if relations == "symmetric":
        F, names = pool_individuals(F, names)
    return F, names
