"""`BehaviorModel`: joint features, encoding and classifier as one estimator.

``skelbehave.fit(X, y, layout=..., fps=..., **options)`` builds and fits one;
``model.save(path)`` / ``skelbehave.load(path)`` store it without pickle (see
:mod:`skelbehave.pipeline.persist` and ``data_specs/model_file.md``).

Components
----------
A model chains three components:

``features``
    :class:`skelbehave.features.JointFeatures` (pose sequences ->
    :class:`~skelbehave.features.descriptors.LocalDescriptors`).
``encoder``
    :class:`~skelbehave.encoding.VLADEncoder` (default),
    :class:`~skelbehave.encoding.BoWEncoder` or
    :class:`~skelbehave.encoding.FisherEncoder` (descriptors -> one vector
    per sequence).
``classifier``
    ``"ridge"`` (RidgeClassifier, a linear least-squares SVM, balanced class
    weights; default), ``"svm"`` (LinearSVC, hinge loss, balanced class
    weights), ``"logreg"``, ``"cnn"`` or any scikit-learn classifier (see
    :mod:`skelbehave.models.heads`).

Hook for sequence-level classifiers: a classifier whose class has
``_skelbehave_sequence_input = True`` receives the list of
:class:`~skelbehave.PoseSequence` itself in ``fit``/``predict``/
``predict_proba`` and the features and encoder are skipped (the CNN does this).

Sequences without a pose
------------------------
A sequence with no valid frame (every frame NaN or all-zero, or no frame;
:func:`skelbehave.temporal.has_pose`) never gets a behaviour. Training leaves
it out with a :class:`~skelbehave.errors.NoPoseWarning` naming the items (all
of them without a pose: :class:`~skelbehave.errors.NoPoseError`). When
predicting, ``no_pose="mark"`` (default) gives it the label
:data:`skelbehave.temporal.NO_POSE` (``"no_pose"``) in :meth:`BehaviorModel.predict`
and a row of NaN in :meth:`~BehaviorModel.predict_proba`,
:meth:`~BehaviorModel.decision_function` and :meth:`~BehaviorModel.transform`,
so one call scores many files and the empty ones stand out;
``no_pose="error"`` raises :class:`~skelbehave.errors.NoPoseError` instead.

Saving: :meth:`BehaviorModel.save` and :func:`skelbehave.load` go through
:mod:`skelbehave.pipeline.persist` (one state protocol, ``_get_state`` /
``_from_state``, and one registry of kinds for every component).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..encoding import ENCODERS, encoder_threads, make_encoder
from ..errors import (
    NoPoseError,
    NoPoseWarning,
    ParameterError,
    ParameterTypeError,
    PoseDataError,
)
from ..features.frame import check_sequence_list
from ..layouts import JointLayout, get_layout
from ..models.heads import head_predict_proba, is_sequence_model, make_head
from ..poses import PoseSequence, as_sequences, convert_layouts
from ..temporal.presence import NO_POSE, has_pose
from . import persist
from .clip_state import behavior_model_from_state

__all__ = [
    "BehaviorModel",
    "DEFAULT_ENCODER",
    "DEFAULT_FEATURES",
    "fit",
]

logger = logging.getLogger(__name__)

#: Default JointFeatures parameters of :class:`BehaviorModel`. Chosen by
#: leave-one-subject-out CV on the *training* subjects of MSR Action3D and
#: UTD-MHAD (``python benchmarks/accuracy.py --tune``): 2 body parts (upper
#: body + arms, legs), each described by its root-relative positions, its
#: displacement and its acceleration (central differences with ``step`` 2,
#: :mod:`skelbehave.features.kinematics`), fused into one descriptor per part.
DEFAULT_FEATURES: dict[str, Any] = {
    "n_position_groups": 2,
    "n_displacement_groups": 2,
    "step": 2,
    "acceleration": True,
}

#: Default VLADEncoder parameters of :class:`BehaviorModel`: in each fused
#: body-part descriptor every block has unit total variance times the weight
#: of its kind (position 1, displacement 2, acceleration 3).
DEFAULT_ENCODER: dict[str, Any] = {
    "n_clusters": 16,
    "pyramid_levels": 3,
    "fuse": True,
    "kind_weights": {"displacement": 2.0, "acceleration": 3.0},
    "max_fit_samples": 20_000,
    "dtype": "float32",
}

#: Default head of :class:`BehaviorModel`: RidgeClassifier(alpha=0.1, balanced)
#: beat LinearSVC in the same training-subject CV on both data sets.
DEFAULT_CLASSIFIER = "ridge"


def _default_features():
    from ..features import JointFeatures

    return JointFeatures(**DEFAULT_FEATURES)


class BehaviorModel(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Skeleton behaviour classifier: joint features -> encoding -> classifier.

    A scikit-learn classifier whose samples are pose sequences: ``X`` is a
    list of :class:`~skelbehave.PoseSequence` or of ``(T, J, C)`` arrays
    (with ``layout``). Usable in :class:`~sklearn.pipeline.Pipeline`,
    :func:`~sklearn.base.clone` and
    :class:`~sklearn.model_selection.GridSearchCV` (nested parameters such
    as ``encoder__n_clusters`` work when the components are given as
    objects).

    Parameters
    ----------
    features : JointFeatures or None
        Local descriptor extractor; None uses :data:`DEFAULT_FEATURES`.
    encoder : {"vlad", "bow", "fisher"}, encoder object or None
        A name uses that encoder's defaults (``"vlad"``: :data:`DEFAULT_ENCODER`).
    classifier : {"ridge", "svm", "logreg", "cnn"} or scikit-learn classifier
        The head (see :mod:`skelbehave.models.heads`). A classifier with ``_skelbehave_sequence_input = True``
        gets the sequences directly (features and encoder unused).
    layout : str or JointLayout, optional
        Layout of plain arrays in ``X``.
    fps : float, optional
        Frame rate of plain arrays in ``X``.
    random_state : int, RandomState or None
        Seeds every component whose own ``random_state`` is None.
    n_jobs : int or None
        Threads for numba, BLAS and OpenMP (None = 1, -1 = all).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    layout_ : JointLayout
        Layout of the training sequences.
    features_, encoder_, classifier_ : fitted components (``features_`` and
        ``encoder_`` are None for sequence-level classifiers).
    n_features_out_ : int
        Length of the encoded vector (0 for sequence-level classifiers).
    fit_time_ : float
        Seconds spent in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = [np.cumsum(rng.normal(size=(30, 20, 3)), axis=0) * (1 + k % 2) for k in range(12)]
    >>> y = [k % 2 for k in range(12)]
    >>> from skelbehave.encoding import VLADEncoder
    >>> model = BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="msr20", random_state=0)
    >>> model.fit(X, y).predict(X[:2]).tolist()
    [0, 1]
    """

    def __init__(
        self,
        features=None,
        encoder="vlad",
        classifier="ridge",
        layout: str | JointLayout | None = None,
        fps: float | None = None,
        random_state=None,
        n_jobs: int | None = None,
    ) -> None:
        self.features = features
        self.encoder = encoder
        self.classifier = classifier
        self.layout = layout
        self.fps = fps
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ components
    def _make_components(self):
        rng = check_random_state(self.random_state)
        seeds = rng.randint(0, 2**31 - 1, size=3)
        clf = make_head(self.classifier) if not isinstance(self.classifier, str) else None
        if clf is None:
            clf = make_head(self.classifier, random_state=int(seeds[2]))
        elif "random_state" in clf.get_params() and clf.get_params()["random_state"] is None:
            clf.set_params(random_state=int(seeds[2]))
        if is_sequence_model(clf):
            return None, None, clf
        feats = _default_features() if self.features is None else clone(self.features)
        if self.encoder is None or isinstance(self.encoder, str):
            name = self.encoder or "vlad"
            enc = make_encoder(name, **(DEFAULT_ENCODER if name == "vlad" else {}))
        else:
            enc = clone(self.encoder)
        params = enc.get_params()
        if params.get("random_state") is None:
            enc.set_params(random_state=int(seeds[1]))
        if "n_jobs" in params and params["n_jobs"] is None and self.n_jobs is not None:
            enc.set_params(n_jobs=self.n_jobs)
        fparams = feats.get_params()
        if "n_jobs" in fparams and self.n_jobs is not None:
            feats.set_params(n_jobs=self.n_jobs)
        return feats, enc, clf

    def _sequences(self, X) -> list[PoseSequence]:
        if isinstance(X, PoseSequence):
            raise PoseDataError("X must be a list of sequences; wrap a single PoseSequence in a list")
        check_sequence_list(X)
        layout = getattr(self, "layout_", None) or self.layout
        seqs = as_sequences(X, layout=layout, fps=self.fps)
        if not seqs:
            raise PoseDataError("X holds no sequences")
        # another skeleton is converted to the model's layout (or, at fit, to ``layout``) through the
        # common skeleton; LayoutError names the joints it cannot provide
        ref = getattr(self, "layout_", None) or (get_layout(layout) if layout is not None else seqs[0].layout)
        dims = getattr(self, "n_dims_", None)
        for i, s in enumerate(seqs):
            if dims is not None and s.n_dims != dims:
                raise PoseDataError(
                    f"item {i}: {s.n_dims}-D coordinates, the model was trained on {dims}-D",
                    path=s.meta.get("source"),
                )
        return convert_layouts(seqs, ref)

    # ------------------------------------------------------------------- fit
    def fit(self, X, y) -> BehaviorModel:
        """Fit features, encoder and classifier.

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays
        y : array-like of shape (n,)
            One label per sequence; none may be missing (None, NaN).

        Returns
        -------
        self

        Raises
        ------
        PoseDataError
            No sequence, or a missing label (the message names the item).
        NoPoseError
            No sequence holds a pose (sequences without one are left out
            with a :class:`~skelbehave.errors.NoPoseWarning`).
        ParameterError
            Fewer than two classes, a label ``"no_pose"``, or ``y`` not one label per sequence.
        """
        t0 = time.perf_counter()
        for attr in ("layout_",):
            if hasattr(self, attr):
                delattr(self, attr)
        seqs = self._sequences(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(seqs):
            raise ParameterError(
                f"y must hold one label per sequence: {len(seqs)} sequences, y of shape {y.shape}"
            )
        for i, (s, v) in enumerate(zip(seqs, y, strict=True)):
            if _missing_label(v):
                raise PoseDataError(
                    f"item {i}: its label is missing ({v!r}); every label must be given",
                    path=s.meta.get("source"),
                )
            if isinstance(v, str) and v == NO_POSE:
                raise ParameterError(f"item {i}: {NO_POSE!r} is reserved for sequences without a pose")
        seqs, y = _drop_no_pose(seqs, y)
        if len(np.unique(y)) < 2:
            raise ParameterError("y needs at least two classes")
        self.layout_ = seqs[0].layout
        self.n_dims_ = seqs[0].n_dims
        feats, enc, clf = self._make_components()
        with encoder_threads(self.n_jobs):
            if enc is None:
                self.features_, self.encoder_ = None, None
                self.classifier_ = clf.fit(seqs, y)
                self.n_features_out_ = 0
            else:
                self.features_ = feats.fit(seqs)
                D = self.features_.transform(seqs)
                F = enc.fit_transform(D)
                self.encoder_ = enc
                self.n_features_out_ = int(F.shape[1])
                self.classifier_ = clf.fit(F, y)
        self.classes_ = np.asarray(self.classifier_.classes_)
        self.fit_time_ = time.perf_counter() - t0
        logger.info("fitted %s in %.2f s", type(self.classifier_).__name__, self.fit_time_)
        return self

    # --------------------------------------------------------------- predict
    def transform(self, X, no_pose: str = "mark") -> np.ndarray:
        """The encoded vector of every sequence, shape ``(n, n_features_out_)``.

        A sequence without a pose gets a row of NaN (``no_pose="error"``:
        raise :class:`~skelbehave.errors.NoPoseError`).

        Examples
        --------
        >>> import numpy as np
        >>> from skelbehave.encoding import VLADEncoder
        >>> X = [np.random.default_rng(k).normal(size=(25, 20, 3)) for k in range(4)]
        >>> m = BehaviorModel(encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), layout="msr20",
        ...                   random_state=0).fit(X, [0, 1, 0, 1])
        >>> m.transform(X).shape == (4, m.n_features_out_)
        True
        """
        check_is_fitted(self, "classes_")
        if self.encoder_ is None:
            raise ParameterTypeError(
                "this model's classifier takes sequences directly; it has no encoded vectors"
            )
        seqs, ok = self._posed(X, no_pose)
        keep = [s for s, k in zip(seqs, ok, strict=True) if k]
        return self._rows(ok, lambda: self._encode(keep), (int(self.n_features_out_),))

    def _encode(self, seqs: list[PoseSequence]) -> np.ndarray:
        with encoder_threads(self.n_jobs):
            return self.encoder_.transform(self.features_.transform(seqs))

    def _posed(self, X, no_pose: str) -> tuple[list[PoseSequence], np.ndarray]:
        """The sequences and which of them hold a pose (``no_pose="error"``: all must)."""
        check_is_fitted(self, "classes_")
        if no_pose not in ("mark", "error"):
            raise ParameterError(f"no_pose must be 'mark' or 'error', got {no_pose!r}")
        seqs = self._sequences(X)
        ok = np.array([has_pose(s) for s in seqs], dtype=bool)
        if no_pose == "error" and not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise NoPoseError(
                f"item {i}: no valid frame ({seqs[i].n_frames} frames, every one missing or all-zero)"
                + (f"; {int((~ok).sum())} such sequences in all" if (~ok).sum() > 1 else ""),
                path=seqs[i].meta.get("source"),
            )
        return seqs, ok

    def _head_rows(self, seqs: list[PoseSequence], ok: np.ndarray, method: str) -> np.ndarray:
        """``method`` of the head on the sequences with a pose; rows of NaN for the others."""

        def run() -> np.ndarray:
            keep = [s for s, k in zip(seqs, ok, strict=True) if k]
            Z = keep if self.encoder_ is None else self._encode(keep)
            with encoder_threads(self.n_jobs):
                if method == "predict_proba":
                    return head_predict_proba(self.classifier_, Z)
                return getattr(self.classifier_, method)(Z)

        n = len(self.classes_)
        return self._rows(ok, run, () if method == "decision_function" and n == 2 else (n,))

    @staticmethod
    def _rows(ok: np.ndarray, run, tail: tuple[int, ...]) -> np.ndarray:
        """``run()`` gives rows for the sequences with a pose; the others get rows of NaN (shape ``tail``)."""
        if ok.all():
            return np.asarray(run())
        if not ok.any():
            return np.full((len(ok), *tail), np.nan)
        part = np.asarray(run(), dtype=np.float64)
        out = np.full((len(ok), *part.shape[1:]), np.nan)
        out[ok] = part
        return out

    def predict(self, X, no_pose: str = "mark") -> np.ndarray:
        """Predicted label of every sequence; :data:`~skelbehave.temporal.NO_POSE` for one without a pose.

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays
        no_pose : {"mark", "error"}
            ``"mark"``: a sequence with no valid frame gets the label
            ``"no_pose"`` (the result then holds strings, or objects when the
            classes are not strings); ``"error"``: raise
            :class:`~skelbehave.errors.NoPoseError`.

        Examples
        --------
        >>> import numpy as np
        >>> from skelbehave.encoding import VLADEncoder
        >>> X = [np.random.default_rng(k).normal(size=(25, 20, 3)) for k in range(4)]
        >>> m = BehaviorModel(encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), layout="msr20",
        ...                   random_state=0).fit(X, ["a", "b", "a", "b"])
        >>> m.predict([X[0], np.zeros((25, 20, 3))]).tolist()
        ['a', 'no_pose']
        """
        seqs, ok = self._posed(X, no_pose)
        if ok.all():
            with encoder_threads(self.n_jobs):
                return self.classifier_.predict(self._encode(seqs) if self.encoder_ is not None else seqs)
        kind = self.classes_.dtype.kind
        dtype = np.result_type(self.classes_.dtype, np.array(NO_POSE).dtype) if kind == "U" else object
        out = np.full(len(seqs), NO_POSE, dtype=dtype)
        if ok.any():
            keep = [s for s, k in zip(seqs, ok, strict=True) if k]
            with encoder_threads(self.n_jobs):
                out[ok] = self.classifier_.predict(self._encode(keep) if self.encoder_ is not None else keep)
        return out

    def predict_proba(self, X, no_pose: str = "mark") -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, columns in :attr:`classes_` order.

        With the ``"ridge"`` (default) and ``"svm"`` heads these are a softmax
        of the decision scores (they rank classes but are not calibrated);
        use ``classifier="logreg"`` for calibrated probabilities. A sequence
        without a pose gets a row of NaN (``no_pose="error"``: raise
        :class:`~skelbehave.errors.NoPoseError`, see :meth:`predict`).
        """
        seqs, ok = self._posed(X, no_pose)
        return self._head_rows(seqs, ok, "predict_proba")

    def decision_function(self, X, no_pose: str = "mark") -> np.ndarray:
        """Decision scores of the head (linear heads); NaN rows for sequences without a pose."""
        seqs, ok = self._posed(X, no_pose)
        return self._head_rows(seqs, ok, "decision_function")

    # ------------------------------------------------------------ save/load
    def save(self, path) -> str:
        """Write the fitted model to ``path`` (a ``.skb`` file; JSON + arrays, no pickle).

        Goes through :func:`skelbehave.pipeline.persist.save`; load it back
        with :func:`skelbehave.load`.

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import numpy as np, tempfile, os, skelbehave
        >>> from skelbehave.encoding import VLADEncoder
        >>> X = [np.random.default_rng(k).normal(size=(25, 20, 3)) for k in range(4)]
        >>> m = BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="msr20", random_state=0)
        >>> _ = m.fit(X, [0, 1, 0, 1])
        >>> p = m.save(os.path.join(tempfile.mkdtemp(), "m.skb"))
        >>> (skelbehave.load(p).predict(X) == m.predict(X)).all()
        np.True_
        """
        check_is_fitted(self, "classes_")
        return str(persist.save(self, path))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters and arrays of the fitted model (the state protocol of :mod:`.persist`)."""
        check_is_fitted(self, "classes_")
        rs = self.random_state
        arrays: dict[str, np.ndarray] = {}
        params: dict[str, Any] = {
            "layout": self.layout_.to_dict(),
            "n_dims": int(self.n_dims_),
            "fps": None if self.fps is None else float(self.fps),
            "random_state": int(rs) if isinstance(rs, int | np.integer) else None,
            "n_jobs": None if self.n_jobs is None else int(self.n_jobs),
            "classes": [c.item() if isinstance(c, np.generic) else c for c in self.classes_],
            "n_features_out": int(self.n_features_out_),
        }
        for role in ("features", "encoder", "classifier"):
            params[role] = persist.nest(role, getattr(self, f"{role}_"), arrays)
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> BehaviorModel:
        """Rebuild a fitted model from :meth:`_get_state` output, checking every field
        (:func:`~skelbehave.pipeline.clip_state.behavior_model_from_state`)."""
        return behavior_model_from_state(cls, params, arrays)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


def _drop_no_pose(seqs: list[PoseSequence], y: np.ndarray) -> tuple[list[PoseSequence], np.ndarray]:
    """Training sequences without a pose are left out, with a :class:`~skelbehave.errors.NoPoseWarning`."""
    ok = np.array([has_pose(s) for s in seqs], dtype=bool)
    if ok.all():
        return seqs, y
    bad = np.flatnonzero(~ok)
    where = ", ".join(
        f"item {i}" + (f" ({seqs[i].meta['source']})" if seqs[i].meta.get("source") else "") for i in bad[:5]
    )
    if not ok.any():
        raise NoPoseError(f"no training sequence holds a pose (every frame missing or all-zero): {where}...")
    warnings.warn(
        f"{len(bad)} of {len(seqs)} training sequences have no valid frame (every frame missing or all-zero) "
        f"and are left out: {where}{', ...' if len(bad) > 5 else ''}",
        NoPoseWarning,
        stacklevel=3,
    )
    return [s for s, k in zip(seqs, ok, strict=True) if k], y[ok]


def _missing_label(v) -> bool:
    """A label that is not given: None, NaN or NaT."""
    if v is None:
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def _split_options(options: dict[str, Any]):
    """Route ``skelbehave.fit`` keyword options to the model and its components."""
    from ..features import JointFeatures

    model_keys = {"features", "encoder", "classifier", "random_state", "n_jobs"}
    model_kw = {k: options.pop(k) for k in list(options) if k in model_keys}
    enc = model_kw.get("encoder", "vlad")
    clf = model_kw.get("classifier", DEFAULT_CLASSIFIER)
    f_names = set(JointFeatures._get_param_names()) - {"n_jobs", "layout", "fps"}
    e_names = set(ENCODERS[enc].__init__.__code__.co_varnames[1:]) if isinstance(enc, str) else set()
    e_names -= {"random_state", "n_jobs"}
    fkw = {k: options.pop(k) for k in list(options) if k in f_names}
    ekw = {k: options.pop(k) for k in list(options) if k in e_names}
    ckw = {}
    if isinstance(clf, str) and options:
        probe = make_head(clf)
        c_names = set(probe.get_params()) - {"random_state"}
        ckw = {k: options.pop(k) for k in list(options) if k in c_names}
    if options:
        raise ParameterTypeError(
            f"unknown option(s) {sorted(options)}; options are BehaviorModel parameters "
            f"{sorted(model_keys)}, JointFeatures parameters {sorted(f_names)}, "
            f"encoder parameters {sorted(e_names)} or classifier parameters"
        )
    if fkw:
        if model_kw.get("features") is not None:
            raise ParameterTypeError(f"give feature options {sorted(fkw)} or features=..., not both")
        model_kw["features"] = JointFeatures(**{**DEFAULT_FEATURES, **fkw})
    if ekw:
        base = DEFAULT_ENCODER if enc == "vlad" else {}
        model_kw["encoder"] = make_encoder(enc, **{**base, **ekw})
    if ckw:
        model_kw["classifier"] = make_head(clf, **ckw)
    return model_kw


def fit(
    X: Sequence,
    y,
    layout: str | JointLayout | None = None,
    fps: float | None = None,
    **options,
) -> BehaviorModel:
    """Fit a :class:`BehaviorModel` on pose sequences and return it.

    Parameters
    ----------
    X : list of PoseSequence or (T, J, C) arrays
        Training sequences (arrays need ``layout``).
    y : array-like
        One label per sequence.
    layout : str or JointLayout, optional
        Layout of plain arrays, e.g. ``"msr20"``.
    fps : float, optional
        Frame rate of plain arrays.
    **options
        BehaviorModel parameters (``features``, ``encoder``, ``classifier``,
        ``random_state``, ``n_jobs``), or parameters of the default components
        by name: JointFeatures (``n_displacement_groups=3``), the encoder
        (``n_clusters=16``, ``pyramid_levels=2``) or the classifier head
        (``alpha=0.5`` for the default ridge head, ``C=0.5`` with
        ``classifier="svm"``).

    Returns
    -------
    BehaviorModel
        Fitted.

    Examples
    --------
    >>> import numpy as np, skelbehave
    >>> rng = np.random.default_rng(0)
    >>> X = [np.cumsum(rng.normal(size=(30, 20, 3)), axis=0) * (1 + k % 2) for k in range(12)]
    >>> y = ["slow" if k % 2 == 0 else "fast" for k in range(12)]
    >>> model = skelbehave.fit(X, y, layout="msr20", n_clusters=2, random_state=0)
    >>> model.classes_.tolist()
    ['fast', 'slow']
    """
    model_kw = _split_options(dict(options))
    if layout is not None and not isinstance(layout, JointLayout):
        layout = get_layout(layout).name
    return BehaviorModel(layout=layout, fps=fps, **model_kw).fit(X, y)
