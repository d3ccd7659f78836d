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

from ..encoding import ENCODERS, make_encoder
from ..encoding.encoders import _numba_threads
from ..errors import LayoutError, ModelFileError, PoseDataError
from ..io.archive import state_classes, state_float, state_int, state_layout
from ..layouts import JointLayout, get_layout
from ..models.heads import head_predict_proba, is_sequence_model, make_head
from ..poses import PoseSequence, as_sequences
from . import persist

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
        layout = getattr(self, "layout_", None) or self.layout
        seqs = as_sequences(X, layout=layout, fps=self.fps)
        if not seqs:
            raise PoseDataError("X holds no sequences")
        ref = getattr(self, "layout_", None) or seqs[0].layout
        for i, s in enumerate(seqs):
            if s.layout.joints != ref.joints:
                raise LayoutError(
                    f"item {i}: layout {s.layout.name!r} differs from {ref.name!r} "
                    f"(expected joints {list(ref.joints)[:3]}..., found {list(s.layout.joints)[:3]}...)"
                )
        return seqs

    # ------------------------------------------------------------------- fit
    def fit(self, X, y) -> BehaviorModel:
        """Fit features, encoder and classifier.

        Parameters
        ----------
        X : list of PoseSequence or (T, J, C) arrays
        y : array-like of shape (n,)
            One label per sequence.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        for attr in ("layout_",):
            if hasattr(self, attr):
                delattr(self, attr)
        seqs = self._sequences(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(seqs):
            raise ValueError(
                f"y must hold one label per sequence: {len(seqs)} sequences, y of shape {y.shape}"
            )
        if len(np.unique(y)) < 2:
            raise ValueError("y needs at least two classes")
        self.layout_ = seqs[0].layout
        self.n_dims_ = seqs[0].n_dims
        feats, enc, clf = self._make_components()
        with _numba_threads(self.n_jobs):
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
    def transform(self, X) -> np.ndarray:
        """The encoded vector of every sequence, shape ``(n, n_features_out_)``.

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
            raise TypeError("this model's classifier takes sequences directly; it has no encoded vectors")
        seqs = self._sequences(X)
        with _numba_threads(self.n_jobs):
            return self.encoder_.transform(self.features_.transform(seqs))

    def _head_input(self, X):
        check_is_fitted(self, "classes_")
        if self.encoder_ is None:
            return self._sequences(X)
        return self.transform(X)

    def predict(self, X) -> np.ndarray:
        """Predicted label of every sequence."""
        Z = self._head_input(X)
        with _numba_threads(self.n_jobs):
            return self.classifier_.predict(Z)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, columns in :attr:`classes_` order.

        With the ``"ridge"`` (default) and ``"svm"`` heads these are a softmax
        of the decision scores (they rank classes but are not calibrated);
        use ``classifier="logreg"`` for calibrated probabilities.
        """
        Z = self._head_input(X)
        with _numba_threads(self.n_jobs):
            return head_predict_proba(self.classifier_, Z)

    def decision_function(self, X) -> np.ndarray:
        """Decision scores of the head (linear heads)."""
        Z = self._head_input(X)
        return self.classifier_.decision_function(Z)

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
        """Rebuild a fitted model from :meth:`_get_state` output, checking every field.

        Raises
        ------
        ModelFileError
            A parameter of the wrong type or out of range, or components
            that do not fit together (layout, coordinate count, vector
            length, classes).
        """
        layout = state_layout(params)
        try:  # prefer the registered object when it is the same layout
            known = get_layout(layout.name)
            layout = known if known.joints == layout.joints else layout
        except LayoutError:
            pass
        n_dims = state_int(params, "n_dims", 2, 3)
        classes = state_classes(params)
        if len(classes) < 2:
            raise ModelFileError(f"classes: a model needs at least 2 classes, got {classes.tolist()}")
        n_out = state_int(params, "n_features_out", 0, 100_000_000)
        fitted = {
            "features": persist.unnest("features", params.get("features"), arrays, ("JointFeatures",)),
            "encoder": persist.unnest(
                "encoder", params.get("encoder"), arrays, ("VLADEncoder", "BoWEncoder", "FisherEncoder")
            ),
            "classifier": persist.unnest("classifier", params.get("classifier"), arrays),
        }
        clf = fitted["classifier"]
        if clf is None:
            raise ModelFileError("classifier is missing")
        if not np.array_equal(np.asarray(clf.classes_), classes):
            raise ModelFileError(
                f"classifier: its classes {np.asarray(clf.classes_).tolist()} differ from the model's "
                f"{classes.tolist()}"
            )
        if is_sequence_model(clf):
            if fitted["features"] is not None or fitted["encoder"] is not None or n_out != 0:
                raise ModelFileError("a sequence classifier takes no features, encoder or encoded vector")
        else:
            feats, enc = fitted["features"], fitted["encoder"]
            if feats is None or enc is None:
                raise ModelFileError("features and encoder are missing")
            if feats.layout_.joints != layout.joints or feats.n_dims_ != n_dims:
                raise ModelFileError(
                    f"features: fitted for {feats.layout_.n_joints} joints x {feats.n_dims_} coordinates, "
                    f"the model for {layout.n_joints} x {n_dims}"
                )
            made = [(str(b), int(d)) for b, d in zip(feats.block_info_, feats.dims_, strict=True)]
            seen = [(str(b), int(d)) for b, d in zip(enc.input_blocks_, enc.input_dims_, strict=True)]
            if made != seen:
                raise ModelFileError(f"features: its blocks {made} differ from the encoder's {seen}")
            if enc.n_features_out_ != n_out or int(clf.n_features_in_) != n_out:
                raise ModelFileError(
                    f"n_features_out is {n_out}, the encoder gives {enc.n_features_out_} values and the "
                    f"classifier expects {clf.n_features_in_}"
                )
        fps = state_float(params, "fps", 1e-3, 1e5, none=True) if "fps" in params else None
        rs = state_int(params, "random_state", 0, 2**32 - 1, none=True) if "random_state" in params else None
        n_jobs = state_int(params, "n_jobs", -1, 1024, none=True) if "n_jobs" in params else None
        model = cls(
            features=fitted["features"],
            encoder=fitted["encoder"] if fitted["encoder"] is not None else "vlad",
            classifier=clf,
            layout=layout.name,
            fps=fps,
            random_state=rs,
            n_jobs=n_jobs,
        )
        model.layout_ = layout
        model.n_dims_ = n_dims
        model.features_ = fitted["features"]
        model.encoder_ = fitted["encoder"]
        model.classifier_ = clf
        model.classes_ = classes
        model.n_features_out_ = n_out
        model.fit_time_ = float("nan")
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


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
        raise TypeError(
            f"unknown option(s) {sorted(options)}; options are BehaviorModel parameters "
            f"{sorted(model_keys)}, JointFeatures parameters {sorted(f_names)}, "
            f"encoder parameters {sorted(e_names)} or classifier parameters"
        )
    if fkw:
        if model_kw.get("features") is not None:
            raise TypeError(f"give feature options {sorted(fkw)} or features=..., not both")
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
