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
    weights), ``"logreg"``, ``"cnn"``, ``"ensemble"`` (the VLAD model and the CNN, probabilities
    averaged: :mod:`skelbehave.pipeline.clip_ensemble`) or any scikit-learn classifier (see
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
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..encoding import encoder_threads, make_encoder
from ..errors import NoPoseError, ParameterError, ParameterTypeError, PoseDataError
from ..features.frame import check_sequence_list
from ..layouts import JointLayout, get_layout
from ..models.calibration import CALIBRATIONS, UNKNOWN, abstain, fit_calibrated, head_scores
from ..models.heads import head_predict_proba, is_sequence_model, make_head
from ..poses import PoseSequence, as_sequences, convert_layouts
from ..temporal.presence import NO_POSE
from . import persist
from .clip_defaults import (
    DEFAULT_CALIBRATION,
    DEFAULT_CLASSIFIER,
    DEFAULT_ENCODER,
    DEFAULT_FEATURES,
    calibration_groups,
    default_features,
    drop_no_pose,
    item_has_pose,
    missing_label,
    split_options,
)
from .clip_ensemble import EnsembleClassifier
from .clip_multi import as_recordings, check_kind, encode_recordings, fit_encode_recordings, is_recording_list
from .clip_state import behavior_model_from_state

__all__ = [
    "BehaviorModel",
    "DEFAULT_CALIBRATION",
    "DEFAULT_CLASSIFIER",
    "DEFAULT_ENCODER",
    "DEFAULT_FEATURES",
    "UNKNOWN",
    "fit",
]

logger = logging.getLogger(__name__)
persist.register_kind("Calibrator", "skelbehave.models.calibration:Calibrator")
persist.register_kind("EnsembleClassifier", "skelbehave.pipeline.clip_ensemble:EnsembleClassifier")

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
    calibration : {"temperature", "sigmoid"} or None
        How :meth:`predict_proba` turns the head's scores into calibrated
        probabilities (:func:`skelbehave.models.calibration.fit_calibrated`:
        a map fitted on out-of-fold scores of the training vectors, the head
        itself fitted on all of them). ``"temperature"`` (default) keeps the
        head's predictions; None gives the head's own probabilities (a
        softmax of decision scores for ``"ridge"`` and ``"svm"``).
        Sequence-level classifiers (the CNN) are not recalibrated.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    layout_ : JointLayout
        Layout of the training sequences.
    features_, encoder_, classifier_ : fitted components (``features_`` and
        ``encoder_`` are None for sequence-level classifiers).
    calibrator_ : Calibrator or None
        The fitted calibration map (None without calibration, for
        sequence-level classifiers, or when a class has a single example).
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
        calibration: str | None = DEFAULT_CALIBRATION,
    ) -> None:
        self.features = features
        self.encoder = encoder
        self.classifier = classifier
        self.layout = layout
        self.fps = fps
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.calibration = calibration

    # ------------------------------------------------------------ components
    def _make_components(self):
        rng = check_random_state(self.random_state)
        seeds = rng.randint(0, 2**31 - 1, size=3)
        if isinstance(self.classifier, str) and self.classifier == "ensemble":  # VLAD + CNN: clip_ensemble.py
            vlad = type(self)(
                features=self.features, encoder=self.encoder, n_jobs=self.n_jobs, random_state=int(seeds[2])
            )
            return None, None, EnsembleClassifier(vlad=vlad, random_state=int(seeds[2]))
        clf = make_head(self.classifier) if not isinstance(self.classifier, str) else None
        if clf is None:
            clf = make_head(self.classifier, random_state=int(seeds[2]))
        elif "random_state" in clf.get_params() and clf.get_params()["random_state"] is None:
            clf.set_params(random_state=int(seeds[2]))
        if is_sequence_model(clf):
            return None, None, clf
        feats = default_features() if self.features is None else clone(self.features)
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
        check_kind(self, is_recording_list(X))
        if is_recording_list(X):  # several individuals per clip (pipeline/clip_multi.py)
            return as_recordings(self, X)
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
        X : list of PoseSequence or (T, J, C) arrays, or list of recordings
            A recording (a list of PoseSequences, one per individual, same
            frames) makes a model of interactions (:mod:`.clip_multi`: shared
            codebook, relative descriptors, independent of the individuals' order).
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
        if self.calibration is not None and self.calibration not in CALIBRATIONS:
            raise ParameterError(
                f"calibration must be one of {CALIBRATIONS} or None, got {self.calibration!r}"
            )
        for attr in ("layout_", "n_dims_", "classes_", "interaction_"):
            if hasattr(self, attr):
                delattr(self, attr)
        seqs = self._sequences(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(seqs):
            raise ParameterError(
                f"y must hold one label per sequence: {len(seqs)} sequences, y of shape {y.shape}"
            )
        for i, (s, v) in enumerate(zip(seqs, y, strict=True)):
            if missing_label(v):
                raise PoseDataError(
                    f"item {i}: its label is missing ({v!r}); every label must be given",
                    path=s.meta.get("source"),
                )
            if isinstance(v, str) and v == NO_POSE:
                raise ParameterError(f"item {i}: {NO_POSE!r} is reserved for sequences without a pose")
        seqs, y = drop_no_pose(seqs, y)
        if len(np.unique(y)) < 2:
            raise ParameterError("y needs at least two classes")
        self.layout_ = seqs[0].layout
        self.n_dims_ = seqs[0].n_dims
        feats, enc, clf = self._make_components()
        self.calibrator_ = self.interaction_ = self.relation_encoder_ = None
        multi = is_recording_list(seqs)
        with encoder_threads(self.n_jobs):
            if enc is None and multi:
                raise ParameterError("a sequence-level classifier takes one individual per clip")
            if enc is None:
                self.features_, self.encoder_ = None, None
                self.classifier_ = clf.fit(seqs, y)
                self.n_features_out_ = 0
            else:
                if multi:
                    seed = int(enc.get_params()["random_state"]) + 1
                    F = fit_encode_recordings(self, feats, enc, seqs, seed)
                else:
                    self.features_ = feats.fit(seqs)
                    F = enc.fit_transform(self.features_.transform(seqs))
                    self.encoder_ = enc
                self.n_features_out_ = int(F.shape[1])
                if self.calibration is None:
                    self.classifier_ = clf.fit(F, y)
                else:
                    seed = int(self.random_state) if isinstance(self.random_state, int | np.integer) else 0
                    self.classifier_, self.calibrator_ = fit_calibrated(
                        clf, F, y, self.calibration, random_state=seed, groups=calibration_groups(seqs)
                    )
        self.classes_ = np.asarray(self.classifier_.classes_)
        self.training_data_sha256_ = persist.training_data_sha256(seqs, y)
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
            if getattr(self, "interaction_", None) is not None:
                return encode_recordings(self, seqs)
            return self.encoder_.transform(self.features_.transform(seqs))

    def _posed(self, X, no_pose: str) -> tuple[list[PoseSequence], np.ndarray]:
        """The sequences and which of them hold a pose (``no_pose="error"``: all must)."""
        check_is_fitted(self, "classes_")
        if no_pose not in ("mark", "error"):
            raise ParameterError(f"no_pose must be 'mark' or 'error', got {no_pose!r}")
        seqs = self._sequences(X)
        ok = np.array([item_has_pose(s) for s in seqs], dtype=bool)
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
                cal = getattr(self, "calibrator_", None)
                if method == "predict_proba" and cal is not None:
                    return cal.predict_proba(head_scores(self.classifier_, Z))
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

    def predict(self, X, no_pose: str = "mark", min_confidence: float | None = None) -> np.ndarray:
        """Predicted label of every sequence; :data:`~skelbehave.temporal.NO_POSE` for one without a pose.

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays
        no_pose : {"mark", "error"}
            ``"mark"``: a sequence with no valid frame gets the label
            ``"no_pose"`` (the result then holds strings, or objects when the
            classes are not strings); ``"error"``: raise
            :class:`~skelbehave.errors.NoPoseError`.
        min_confidence : float in [0, 1], optional
            Abstain: a sequence whose top (calibrated) probability of
            :meth:`predict_proba` is below it gets the label
            :data:`~skelbehave.models.calibration.UNKNOWN` (``"unknown"``).
            :func:`skelbehave.evaluation.coverage_accuracy` shows the
            accuracy and the share of sequences kept for each threshold.

        Examples
        --------
        >>> import numpy as np
        >>> from skelbehave.encoding import VLADEncoder
        >>> X = [np.random.default_rng(k).normal(size=(25, 20, 3)) for k in range(4)]
        >>> m = BehaviorModel(encoder=VLADEncoder(n_clusters=2, pyramid_levels=1), layout="msr20",
        ...                   random_state=0).fit(X, ["a", "b", "a", "b"])
        >>> m.predict([X[0], np.zeros((25, 20, 3))]).tolist()
        ['a', 'no_pose']
        >>> m.predict(X, min_confidence=1.0).tolist()  # no probability reaches 1
        ['unknown', 'unknown', 'unknown', 'unknown']
        """
        seqs, ok = self._posed(X, no_pose)
        cal = getattr(self, "calibrator_", None)
        if min_confidence is not None or (cal is not None and cal.method != "temperature"):
            return self._predict_from_proba(seqs, ok, min_confidence)
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

    def _predict_from_proba(self, seqs, ok: np.ndarray, min_confidence: float | None) -> np.ndarray:
        """Labels of the top (calibrated) probability; ``"unknown"`` below ``min_confidence``."""
        P = self._head_rows(seqs, ok, "predict_proba")
        if ok.all():
            out = self.classes_[np.argmax(P, axis=1)]
        else:
            kind = self.classes_.dtype.kind
            dtype = np.result_type(self.classes_.dtype, np.array(NO_POSE).dtype) if kind == "U" else object
            out = np.full(len(seqs), NO_POSE, dtype=dtype)
            if ok.any():
                out[ok] = self.classes_[np.argmax(P[ok], axis=1)]
        return out if min_confidence is None else abstain(out, P, min_confidence, classes=self.classes_)

    def predict_proba(self, X, no_pose: str = "mark") -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, columns in :attr:`classes_` order.

        Calibrated (``calibration``, default ``"temperature"``: a softmax of
        the head's decision scores at the temperature fitted on out-of-fold
        scores of the training data); with ``calibration=None`` the ``"ridge"``
        and ``"svm"`` heads give a plain softmax of their scores (they rank
        classes but are not calibrated). A sequence
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
        for role in ("features", "encoder", "classifier", "interaction", "relation_encoder"):
            params[role] = persist.nest(role, getattr(self, f"{role}_", None), arrays)
        params["calibration"] = self.calibration
        params["calibrator"] = persist.nest("calibrator", getattr(self, "calibrator_", None), arrays)
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
    X : list of PoseSequence or (T, J, C) arrays, or list of recordings
        Training sequences (arrays need ``layout``); a recording (a list of
        PoseSequences, one per individual) makes a model of interactions.
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
    model_kw = split_options(dict(options))
    if layout is not None and not isinstance(layout, JointLayout):
        layout = get_layout(layout).name
    return BehaviorModel(layout=layout, fps=fps, **model_kw).fit(X, y)
