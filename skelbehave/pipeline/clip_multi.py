"""Clips of several individuals (interactions) in :class:`~skelbehave.pipeline.BehaviorModel`.

``BehaviorModel.fit(X, y)`` where every ``X[i]`` is a *recording*: a list of
:class:`~skelbehave.PoseSequence`, one per individual (same layout, same
frames). The encoded vector of a recording is, side by side:

1. each individual's local descriptors (the model's ``features``) through
   the *same* encoder (one shared codebook, fitted on every individual),
   pooled over individuals by the mean and the maximum;
2. the relative descriptors of every ordered pair of individuals
   (:class:`~skelbehave.features.interaction.InteractionFeatures`:
   inter-individual key-point distances, relative displacement, approach
   speeds) through a second VLAD encoder (:data:`RELATION_ENCODER`),
   pooled over the pairs (both orders of each) by the mean and the maximum.
   A recording of one individual has zeros there.

Mean and maximum are taken over the values sorted per column, so the vector,
and every prediction, is exactly the same whatever the order in which the
individuals are listed.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

import numpy as np

from ..encoding import make_encoder
from ..errors import ParameterError, PoseDataError
from ..features.interaction import InteractionFeatures
from ..layouts import get_layout
from ..poses import PoseSequence, as_sequences, convert_layouts
from . import persist

__all__ = [
    "RELATION_ENCODER",
    "Recording",
    "as_recordings",
    "check_kind",
    "encode_recordings",
    "fit_encode_recordings",
    "is_recording_list",
    "pool",
]

persist.register_kind("InteractionFeatures", "skelbehave.features.interaction:InteractionFeatures")

#: VLADEncoder parameters of the relative descriptors of a multi-individual model. Chosen by
#: grouped CV on the *training* recordings (1-8) of the rat dyad clip task
#: (``python benchmarks/interactions.py --tune``: 4 folds of 2 recordings; n_clusters 8 or 16,
#: pyramid_levels 2 or 3, approach speeds weighted 1 or 2): macro F1 0.651-0.697, best this one.
RELATION_ENCODER: dict[str, Any] = {
    "n_clusters": 8,
    "pyramid_levels": 3,
    "fuse": True,
    "kind_weights": {"approach": 2.0},
    "max_fit_samples": 20_000,
    "dtype": "float32",
}


class Recording(tuple):
    """The individuals of one clip: a tuple of PoseSequences with the first one's ``meta``, ``layout``.

    Examples
    --------
    >>> import numpy as np
    >>> r = Recording([PoseSequence(np.zeros((4, 20, 3)), "msr20", meta={"source": "x"})] * 2)
    >>> len(r), r.n_frames, r.n_dims, r.layout.name, r.meta["source"]
    (2, 4, 3, 'msr20', 'x')
    """

    @property
    def meta(self) -> dict:
        return self[0].meta

    @property
    def layout(self):
        return self[0].layout

    @property
    def n_frames(self) -> int:
        return int(self[0].n_frames)

    @property
    def n_dims(self) -> int:
        return int(self[0].n_dims)


def is_recording_list(X) -> bool:
    """Whether ``X`` is a list of recordings (each a list or tuple of individuals) rather than of sequences.

    Examples
    --------
    >>> import numpy as np
    >>> is_recording_list([[np.zeros((3, 20, 3))]]), is_recording_list([np.zeros((3, 20, 3))])
    (True, False)
    """
    return isinstance(X, list | tuple) and len(X) > 0 and isinstance(X[0], list | tuple)


def as_recordings(model, X) -> list[Recording]:
    """The recordings of ``X`` in the model's layout (individuals converted through the common skeleton).

    Raises
    ------
    PoseDataError
        A recording that is not a non-empty list of individuals, individuals of
        one recording with different frame counts, or another coordinate count
        than the model's.
    """
    layout = getattr(model, "layout_", None) or model.layout
    recs: list[list[PoseSequence]] = []
    for i, rec in enumerate(X):
        if not isinstance(rec, list | tuple) or len(rec) == 0:
            raise PoseDataError(
                f"item {i}: a recording must be a non-empty list of individuals (PoseSequence or "
                f"(T, J, C) arrays), got {type(rec).__name__}"
            )
        try:
            recs.append(as_sequences(list(rec), layout=layout, fps=model.fps))
        except PoseDataError as exc:  # name the recording as well as the individual
            msg = str(exc)
            msg = f"individual {msg[5:]}" if msg.startswith("item ") else msg
            raise PoseDataError(f"recording {i}, {msg}") from None
    flat = [p for rec in recs for p in rec]
    ref = getattr(model, "layout_", None) or (get_layout(layout) if layout is not None else flat[0].layout)
    dims = getattr(model, "n_dims_", None) or flat[0].n_dims
    for i, rec in enumerate(recs):
        for p in rec:
            if p.n_dims != dims:
                raise PoseDataError(
                    f"item {i}: {p.n_dims}-D coordinates, expected {dims}-D", path=p.meta.get("source")
                )
            if p.n_frames != rec[0].n_frames:
                raise PoseDataError(
                    f"item {i}: its individuals have {p.n_frames} and {rec[0].n_frames} frames; "
                    "individuals of one recording need the same frames",
                    path=p.meta.get("source"),
                )
    flat = convert_layouts(flat, ref)
    out, k = [], 0
    for rec in recs:
        out.append(Recording(flat[k : k + len(rec)]))
        k += len(rec)
    return out


def pool(V: np.ndarray) -> np.ndarray:
    """Mean and maximum over rows (individuals or pairs), order-independent: ``(n, d) -> (2 d,)``.

    The rows are sorted per column first, so any order of the rows gives the
    same bits.

    Examples
    --------
    >>> import numpy as np
    >>> V = np.array([[0.1, 3.0], [0.2, -1.0], [0.7, 0.5]])
    >>> (pool(V) == pool(V[::-1])).all(), pool(V).round(3).tolist()
    (np.True_, [0.333, 0.833, 0.7, 3.0])
    """
    S = np.sort(np.asarray(V), axis=0)
    return np.concatenate([S.sum(axis=0) / len(S), S[-1]])


def _pairs(recs: list[Recording]) -> tuple[list[tuple[PoseSequence, PoseSequence]], list[int]]:
    """Every ordered pair of individuals of each recording, and the recording of each pair."""
    pairs, owner = [], []
    for i, rec in enumerate(recs):
        for a, b in permutations(range(len(rec)), 2):
            pairs.append((rec[a], rec[b]))
            owner.append(i)
    return pairs, owner


def _pooled(recs: list[Recording], V: np.ndarray, R: np.ndarray, owner: list[int], width: int) -> np.ndarray:
    """Per recording: pooled individual vectors, then pooled pair vectors (zeros without a pair)."""
    owner_arr = np.asarray(owner, dtype=np.int64)
    rows, k = [], 0
    for i, rec in enumerate(recs):
        ind = pool(V[k : k + len(rec)])
        k += len(rec)
        sel = np.flatnonzero(owner_arr == i)
        rel = pool(R[sel]) if len(sel) else np.zeros(2 * width, dtype=ind.dtype)
        rows.append(np.concatenate([ind, rel.astype(ind.dtype, copy=False)]))
    return np.vstack(rows)


def fit_encode_recordings(model, feats, enc, recs: list[Recording], seed: int) -> np.ndarray:
    """Fit the shared features and encoder, the relative descriptors and their encoder; the vectors.

    Sets ``model.features_``, ``model.encoder_``, ``model.interaction_`` and
    ``model.relation_encoder_``.

    Raises
    ------
    ParameterError
        No recording holds two individuals (the relative descriptors need one).
    """
    flat = [p for rec in recs for p in rec]
    model.features_ = feats.fit(flat)
    V = enc.fit_transform(model.features_.transform(flat))
    model.encoder_ = enc
    pairs, owner = _pairs(recs)
    if not pairs:
        raise ParameterError(
            "a model of several individuals needs at least one training recording with two or more "
            "individuals (pass lists of PoseSequences, one per individual)"
        )
    inter = InteractionFeatures(step=int(getattr(feats, "step", 2))).fit(recs)
    rel = make_encoder("vlad", **RELATION_ENCODER, random_state=seed)
    if getattr(model, "n_jobs", None) is not None:
        rel.set_params(n_jobs=model.n_jobs)
    R = rel.fit_transform(inter.transform(pairs))
    model.interaction_, model.relation_encoder_ = inter, rel
    return _pooled(recs, np.asarray(V), np.asarray(R), owner, int(rel.n_features_out_))


def encode_recordings(model, recs: list[Recording]) -> np.ndarray:
    """The encoded vectors of recordings with the fitted components (see the module documentation)."""
    flat = [p for rec in recs for p in rec]
    V = np.asarray(model.encoder_.transform(model.features_.transform(flat)))
    pairs, owner = _pairs(recs)
    rel = model.relation_encoder_
    if pairs:
        R = np.asarray(rel.transform(model.interaction_.transform(pairs)))
    else:
        R = np.zeros((0, int(rel.n_features_out_)), dtype=V.dtype)
    return _pooled(recs, V, R, owner, int(rel.n_features_out_))


def check_kind(model, multi: bool) -> None:
    """A model fitted on recordings takes recordings, one fitted on sequences takes sequences."""
    if not hasattr(model, "classes_"):
        return
    fitted_multi = getattr(model, "interaction_", None) is not None
    if multi != fitted_multi:
        want = "recordings (lists of PoseSequences, one per individual)" if fitted_multi else "sequences"
        got = "recordings" if multi else "sequences"
        raise PoseDataError(f"this model was trained on {want}; X holds {got}")
