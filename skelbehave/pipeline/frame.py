"""`FrameLevelModel`: per-frame behaviour labels from sliding windows, built from the shared parts.

Windows come from :mod:`skelbehave.temporal.windows`, per-frame features and
window statistics from :mod:`skelbehave.features.frame`, smoothing and bouts
from :mod:`skelbehave.temporal.segments`, and saved tree ensembles from
:mod:`skelbehave.models.trees`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from ..encoding.encoders import VLADEncoder
from ..errors import ModelFileError, ParameterError, PoseDataError
from ..features.frame import (
    as_recordings,
)
from ..io.archive import state_classes, state_float, state_int, state_layout
from ..poses import PoseSequence  # noqa: F401  (the examples use it)
from ..temporal.windows import Windows, sliding_windows, to_frames, window_labels
from .frame_stages import FrameStages, timed
from .frame_state import _HEAD_NAMES, _check_widths, _checked_init, _jsonable, _registered_layout
from .persist import load as _persist_load
from .persist import nest, training_data_sha256, unnest
from .persist import save as _persist_save

log = logging.getLogger(__name__)

__all__ = ["CONTEXT_HEAD", "ENCODINGS", "FOLD_HEAD", "WINDOW_HEAD", "WINDOW_VLAD", "FrameLevelModel",
           "load_frame_model"]  # fmt: skip

#: how a window is described: statistics of the per-frame features, or their per-group VLAD
ENCODINGS = ("statistics", "vlad", "vlad+statistics")

#: VLAD settings for windows (``encoding="vlad"``; ``encoder_params`` overrides them): a short
#: window holds few frames, so a small codebook and two pyramid levels (whole, halves); without
#: intra-normalisation (PRECOG subjects 1-6 -> 7-8, forest head: frame macro F1 0.754 vs 0.699)
WINDOW_VLAD: dict[str, Any] = {"n_clusters": 8, "pyramid_levels": 2, "intra_norm": False, "dtype": "float32"}

#: window-head parameters when ``classifier_params`` is None (over the head registry's defaults): a
#: small, shallow, class-balanced forest, chosen by grouped CV on training ids 1-8 (``python
#: benchmarks/frame_level.py --defaults cv1``, its docstring). Issue 16: 40 trees trying
#: ``max_features="log2"`` columns at a split (10 of the rats' 1,341) instead of 60 trying sqrt (36);
#: CV on ids 1-8, PRECOG and rat S1 (``--defaults cv3``): mean frame F1 0.7521 vs 0.7516, segment F1
#: 0.553 vs 0.556; fit on 16 rat recordings 0.60x (19.8 vs 32.8 s). Fold models, context head: sqrt
WINDOW_HEAD: dict[str, dict[str, Any]] = {
    "extra_trees": {"n_estimators": 40, "min_samples_leaf": 5, "class_weight": "balanced",
                    "max_features": "log2"},
}  # fmt: skip

#: changes to the :data:`WINDOW_HEAD` parameters for the context stage's fold models (which train on
#: every second training window): they only make the out-of-fold probabilities the second stage learns
#: from (CV on ids 1-8: 0.734 with 20 trees, 0.737 with 60); sqrt, not log2 (CV segment F1 0.540 vs 0.553)
FOLD_HEAD: dict[str, dict[str, Any]] = {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}}

#: changes to the :data:`WINDOW_HEAD` parameters for the context stage's head: 60 trees, sqrt, as
#: before issue 16 (CV with 40 trees: mean frame F1 0.7463; with log2: 0.7498, segment F1 0.538)
CONTEXT_HEAD: dict[str, dict[str, Any]] = {"extra_trees": {"n_estimators": 60, "max_features": "sqrt"}}


class FrameLevelModel(FrameStages, BaseEstimator):
    """Per-frame behaviour labels from sliding windows over long recordings.

    Every window (centred on a frame, ``window`` long, one every ``stride``
    frames) is described from the per-frame :class:`FrameFeatures` and
    classified by a head of the one head registry
    (:func:`skelbehave.models.heads.make_head`). ``encoding="statistics"``
    describes a window by statistics over it (mean, standard deviation, a
    temporal pyramid of part means, and the centre frame);
    ``encoding="vlad"`` by the method of the package: the per-group VLAD
    (:class:`~skelbehave.encoding.VLADEncoder`, with its temporal pyramid) of
    the frames' features grouped by body part
    (:func:`~skelbehave.features.frame.frame_descriptors`), computed for all
    windows at once by :func:`~skelbehave.encoding.windows.encode_windows`.
    Frame probabilities average the
    windows containing the frame (kernel ``weights``); by default a second
    stage then relabels every frame from the temporal context of these
    probabilities (``context_folds``, :data:`FOLD_HEAD`); they are
    median-filtered (``median``), and bouts shorter than ``min_bout`` are
    merged away.

    Parameters
    ----------
    window : int or str or float
        Window length: frames (int), or seconds (``"1s"``, or a float with fps).
    stride : int or str
        Step between window centres when predicting: frames (int), or a
        string with a unit (``"100ms"``, ``"0.5s"``). Every frame still gets
        probabilities (the mean of the overlapping windows, see ``weights``);
        the default, 2, halves the cost of scoring for the same frame F1 in
        the grouped CV (see :data:`WINDOW_HEAD`).
    fit_stride : int or str or None
        Step between training windows (None: ``stride``). The default, 4
        frames, trains on every fourth window: neighbouring windows are
        nearly the same, and the fit is about 4 times cheaper.
    label_mode : {"center", "majority"}
        How a training window is labelled from per-frame labels (see :func:`window_labels`).
    pyramid : tuple of int
        Temporal pyramid levels: part means over halves, quarters, ... (relative to the window mean).
    weights : {"gaussian", "triangular", "uniform", "center"}
        Kernel for aggregating overlapping windows to frames.
    median : int or str
        Median filter length over frame probabilities (0 = off).
    min_bout : int or str
        Minimum bout length (0 = off). The defaults, 9 frames each (0.3 s at
        30 fps), were chosen by the grouped CV on training ids 1-8 of PRECOG
        and the rat dyads (``python benchmarks/frame_level.py --defaults
        cv``): mean frame macro F1 0.7495 without smoothing, 0.7502 with
        ``min_bout=9``, 0.7516 with both, 0.7464 with ``min_bout=15``;
        segment F1@0.5 0.465 -> 0.556 (PRECOG 0.811 -> 0.913, rat 0.119 ->
        0.199). Files saved before keep their own values.
    step : int
        Central-difference half-width for velocities, in frames.
    rotate : {"auto", True, False}
        Body-frame rotation (see :class:`FrameFeatures`).
    acceleration, joint_speed : bool
        Extra per-frame features (see :class:`FrameFeatures`).
    extra_windows : tuple of int or str
        Further window lengths around the same centres whose mean and
        standard deviation are appended to each window's descriptor
        (two or more time scales at once).
    encoding : {"statistics", "vlad", "vlad+statistics"}
        How a window is described (see above); ``"vlad+statistics"``
        concatenates both (grouped CV on training subjects, the default's
        reason: ``benchmarks/frame_level.py --encodings``).
    encoder_params : dict, optional
        :class:`~skelbehave.encoding.VLADEncoder` parameters for
        ``encoding="vlad"``, over the window defaults :data:`WINDOW_VLAD`.
    classifier : str or estimator
        Window head: a name of the head registry (``"extra_trees"``,
        ``"hgb"``, ``"ridge"``, ``"svm"``, ``"logreg"``) or a scikit-learn
        classifier (cloned). On window statistics (which hold NaN for
        missing joints) and in the context stage, heads that do not accept
        NaN get an imputer and a scaler in front
        (``make_head(..., nan_safe=True)``); VLAD vectors go to the head as
        they are.
        ``"cnn"`` (a sequence model) is not a window head.
    classifier_params : dict, optional
        Parameters of the head over the registry's defaults, e.g.
        ``{"n_estimators": 100, "class_weight": "balanced"}``; also used for
        the context stage when the head is a tree ensemble (other heads get
        the default forest as their context head). None:
        :data:`WINDOW_HEAD` for the head named there (``"extra_trees"``:
        40 trees, ``min_samples_leaf=5``, balanced class weights,
        ``max_features="log2"``; the context stage's fold models and head:
        :data:`FOLD_HEAD`, :data:`CONTEXT_HEAD`), the registry's defaults
        for the others.
    context_folds : int
        0: one stage. k >= 2: a second stage (stacking, "auto-context")
        learns from the temporal context of the first stage's frame
        probabilities (:func:`~skelbehave.temporal.context_statistics`:
        ``context_stats`` over ``context_scales`` frames around each frame);
        it is trained on out-of-fold first-stage probabilities from k folds
        over the training recordings (fold models: :data:`FOLD_HEAD`, every
        second training window). A model fitted on fewer than 2 recordings
        with training windows has no context stage. The default (3 folds
        and the context settings below) was chosen by grouped CV on the
        training ids 1-8 of PRECOG and the rat dyads at once, pairs held
        out (``python benchmarks/frame_level.py --defaults cv``, whose
        docstring has the table): mean frame macro F1 over both 0.668 with
        one stage, 0.734 with this context stage (PRECOG 0.745 -> 0.820,
        rat S1 0.590 -> 0.648); 2 folds 0.697 and 4 folds 0.719 (too few
        recordings per fold for the rare rat aggression). Once on the test
        ids 9-12 (trained on 1-8): PRECOG 0.853 -> 0.870, rat S1 0.607 ->
        0.692 (aggression 0.27 -> 0.44); fit 1.3-1.7x, scoring 1.8-2.0x
        the one-stage model's time.
    context_scales : tuple of int
        Context window lengths in frames for the second stage (default 0.3
        to 9 s at 30 fps: PRECOG actions last about 1 s, rat bouts 5 s;
        9-271 rather than 9-91: CV 0.728 vs 0.714 with means alone).
    context_stats : tuple of str
        Statistics of the probabilities over each context window:
        ``"mean"`` (centred, before, after), ``"max"`` (centred, first
        three scales), ``"diff"`` (after minus before). All three rather
        than means alone: a tie in the CV (0.725 vs 0.728 without feature
        means, 0.733 vs 0.730 in a screen on cached probabilities), with a
        higher segment F1 (0.465 vs 0.456).
    context_means : tuple of int
        Window lengths (frames) over which the means of the per-frame
        features (NaN left out) are also given to the second stage: slow
        changes a one-second window does not see (CV: 0.725 -> 0.734;
        rat S1 0.638 -> 0.648, PRECOG 0.812 -> 0.820; 91 and 271: 0.734).
    context_raw : bool
        The second stage also sees the frame's own per-frame features
        (:class:`FrameFeatures`), not only the first stage's probabilities.
    relations : {"symmetric", "ordered", "none"}
        Recordings with several individuals (a list of PoseSequences per
        recording, or a layout of several copies of one animal's joints such
        as ``rat_dyad``, split by
        :func:`~skelbehave.features.frame.split_individuals`): ``"none"``
        gives the per-individual and ordered-pair columns of
        :class:`FrameFeatures`; ``"ordered"`` adds the relative descriptors
        of every ordered pair (:func:`~skelbehave.features.frame_pairs.relation_columns`:
        key-point distances, relative position in each other's heading,
        closing and approach speeds); ``"symmetric"`` adds them and pools
        every column over the individuals (elementwise minimum and maximum,
        :func:`~skelbehave.features.frame_pairs.pool_individuals`), so that
        the labels do not depend on which individual is listed first. One
        individual: no difference. Files saved before this parameter load
        with ``"none"``. Chosen by the grouped CV on training ids 1-8 (rat
        S1 frame macro F1 0.648 none, 0.662 ordered, 0.679 symmetric; PRECOG
        the same; rat fit 1.4-1.6x, scoring 1.5-1.8x), see ``benchmarks/frame_level.py``.
    ignore_labels : list, optional
        Frame labels that are not behaviours (e.g. ``"base"``, unannotated):
        windows centred on them are not used for training.
    fps : float, optional
        Frame rate used when the sequences do not carry one.
    random_state : int, optional
    n_jobs : int
        Threads: for classifiers that take them (fitting a forest), and
        for scoring, where the windows of a recording go in time blocks
        (:func:`~skelbehave.features.frame.window_blocks`) shared by the
        threads, so that one long recording uses several cores; the labels
        do not depend on the thread count.
    progress : bool
        Show progress bars: per-frame features over recordings, the trees of
        a forest head as they grow (the same trees as without the bar), the
        folds of the context stage. Stage timings are logged (``logging``,
        INFO: ``skelbehave -v``) whether or not bars are shown.

    Examples
    --------
    >>> from skelbehave.layouts import JointLayout
    >>> rng = np.random.default_rng(0)
    >>> lay = JointLayout.from_names(["a", "b", "c"])
    >>> x = np.cumsum(rng.normal(size=(200, 3, 2)), axis=0)
    >>> y = (np.arange(200) // 50) % 2
    >>> x[y == 1] += rng.normal(scale=5, size=(100, 3, 2))
    >>> m = FrameLevelModel(window=9, classifier_params={"n_estimators": 20}, random_state=0)
    >>> m = m.fit([PoseSequence(x, lay, fps=30)], [y])
    >>> m.predict([PoseSequence(x, lay, fps=30)])[0].shape
    (200,)
    """

    _WINDOW_HEAD = WINDOW_HEAD
    _FOLD_HEAD = FOLD_HEAD
    _CONTEXT_HEAD = CONTEXT_HEAD

    def __init__(
        self,
        window: int | str | float = 31,
        stride: int | str = 2,
        fit_stride: int | str | None = 4,
        label_mode: str = "center",
        pyramid: tuple[int, ...] = (2, 4),
        weights: str = "gaussian",
        median: int | str = 9,
        min_bout: int | str = 9,
        step: int = 2,
        rotate: bool | str = "auto",
        acceleration: bool = False,
        joint_speed: bool = False,
        extra_windows: tuple[int, ...] = (),
        encoding: str = "statistics",
        encoder_params: dict[str, Any] | None = None,
        classifier: Any = "extra_trees",
        classifier_params: dict[str, Any] | None = None,
        context_folds: int = 3,
        context_scales: tuple[int, ...] = (9, 31, 91, 271),
        context_stats: tuple[str, ...] = ("mean", "max", "diff"),
        context_means: tuple[int, ...] = (91,),
        context_raw: bool = False,
        relations: str = "symmetric",
        ignore_labels: Sequence[Any] | None = None,
        fps: float | None = None,
        random_state: int | None = None,
        n_jobs: int = 1,
        progress: bool = False,
    ) -> None:
        self.window = window
        self.stride = stride
        self.fit_stride = fit_stride
        self.label_mode = label_mode
        self.pyramid = pyramid
        self.weights = weights
        self.median = median
        self.min_bout = min_bout
        self.step = step
        self.rotate = rotate
        self.acceleration = acceleration
        self.joint_speed = joint_speed
        self.extra_windows = extra_windows
        self.encoding = encoding
        self.encoder_params = encoder_params
        self.classifier = classifier
        self.classifier_params = classifier_params
        self.context_folds = context_folds
        self.context_scales = context_scales
        self.context_stats = context_stats
        self.context_means = context_means
        self.context_raw = context_raw
        self.relations = relations
        self.ignore_labels = ignore_labels
        self.fps = fps
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    # ------------------------------------------------------------------ API
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X: pose sequences (PoseSequence or (T, J, C) arrays)
        tags.input_tags.three_d_array = True
        return tags

    def fit(self, X, y) -> FrameLevelModel:
        """Train on recordings ``X`` with per-frame labels ``y`` (one array per recording).

        Parameters
        ----------
        X : list of recordings
            Each a PoseSequence, a list of PoseSequences (individuals of one
            recording, equal length), or an array ``(T, J, C)``.
        y : list of array-like
            Per-frame labels, one array of length T per recording.
        """
        recs = as_recordings(X, fps=self.fps)
        ys = [np.asarray(v) for v in (y if isinstance(y, (list, tuple)) else list(y))]
        if not recs:
            raise PoseDataError("nothing to train on: X holds no recordings")
        if len(ys) != len(recs):
            raise ParameterError(f"got {len(recs)} recordings but {len(ys)} label arrays")
        recs, ys = self._training_pairs(recs, ys)
        self._check_layout(recs)
        ignore = set(self.ignore_labels or ())
        allv = np.concatenate(ys)
        classes = np.array(sorted({v.item() if hasattr(v, "item") else v for v in np.unique(allv)} - ignore))
        if len(classes) < 2:
            raise ParameterError(f"need at least 2 classes to train, found {classes.tolist()}")
        fps = self._fps_of(recs)
        self.fps_ = fps
        self.window_frames_ = to_frames(self.window, fps)
        self.stride_frames_ = to_frames(self.stride, fps)
        self.fit_stride_frames_ = to_frames(
            self.fit_stride if self.fit_stride is not None else self.stride, fps
        )
        self.median_frames_ = self._frames(self.median, fps)
        self.min_bout_frames_ = self._frames(self.min_bout, fps)
        self.classes_ = classes
        lay = recs[0][0].layout
        self.layout_ = lay
        self.n_individuals_ = len(recs[0])
        self.n_dims_ = recs[0][0].n_dims
        index = {c: k for k, c in enumerate(classes.tolist())}
        yi = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in allv], dtype=np.int64)
        yi[~np.concatenate([self._present(r) for r in recs])] = -1  # no window centred where nobody is
        self._check_stage_params()
        if self.encoding not in ENCODINGS:
            raise ParameterError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        self._new_classifier()  # a bad head name or parameter fails before the features are computed
        t_fit = time.perf_counter()
        with timed(f"per-frame features of {len(recs)} recordings"):
            F, lengths = self._features(recs)
        w = sliding_windows(lengths, self.window_frames_, self.fit_stride_frames_)
        wl = window_labels(yi, w, how=self.label_mode, n_classes=len(classes))
        keep = wl >= 0
        if not keep.any():
            raise PoseDataError("no training window: every frame is absent (no pose) or has an ignored label")
        w = Windows(w.seq[keep], w.center[keep], w.start[keep], w.stop[keep], w.offsets, w.length, w.stride)
        self.encoder_ = None
        frames = self._frame_input(F, lengths)
        if self.encoding != "statistics":
            params = {**WINDOW_VLAD, **(self.encoder_params or {})}
            params.setdefault("random_state", self.random_state)
            params.setdefault("n_jobs", self.n_jobs)
            with timed("window VLAD codebook"):
                self.encoder_ = VLADEncoder(**params).fit(frames[1])
        with timed(f"descriptors of {len(w)} training windows"):
            Xw = self._window_X(frames, w)
        log.info("training on %d windows x %d features, %d classes", len(Xw), Xw.shape[1], len(classes))
        clf = self._new_classifier(nan_safe=self.encoding != "vlad")
        with timed(f"window head ({type(clf).__name__})"):
            clf = self._fit_head(clf, Xw, wl[keep])
        self.n_features_in_ = Xw.shape[1]
        del Xw
        self.context_ = None
        if self.context_folds and self.context_folds >= 2 and len(recs) >= 2:
            with timed(f"context stage ({self.context_folds} folds)"):
                self.context_ = self._fit_context(F, frames, lengths, w, wl[keep])
        del F, frames
        log.info("fit: %.2f s in all", time.perf_counter() - t_fit)
        self.classifier_ = clf
        self.feature_names_ = list(self._feature_names)
        self.training_data_sha256_ = training_data_sha256(recs, ys)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this FrameLevelModel is not fitted yet; call fit() first")

    def predict_proba(self, X) -> list[np.ndarray]:
        """Per-frame class probabilities ``(T, n_classes)`` per recording, before smoothing.

        Rows of frames where nobody is present (no individual of the
        recording has a pose: :func:`skelbehave.temporal.present_frames`) are NaN.
        """
        self._check_fitted()
        recs = [self._to_model_layout(r) for r in as_recordings(X, fps=self.fps)]
        out = []
        for r in recs:
            if (
                r[0].layout.joints != self.layout_.joints
                or len(r) != self.n_individuals_
                or any(s.n_dims != self.n_dims_ for s in r)
            ):
                raise PoseDataError(
                    f"the model was trained on {self.n_individuals_} individual(s) with joints "
                    f"{list(self.layout_.joints)} in {self.n_dims_}-D; this recording has {len(r)} with "
                    f"joints {list(r[0].layout.joints)} in {r[0].n_dims}-D",
                    path=r[0].meta.get("source"),
                )
            present = self._present(r)
            if not present.any():  # nobody in the whole recording (or no frame): no behaviour anywhere
                out.append(np.full((r[0].n_frames, len(self.classes_)), np.nan))
                continue
            F, lengths = self._features([r])
            P = self._frame_proba_stage1(self.classifier_, F, lengths)
            if self.context_ is not None:
                P = self._context_proba(self._context_input(P, F, lengths))
            P = np.asarray(P, dtype=np.float64)
            P[~present] = np.nan
            out.append(P)
        return out

    def predict(self, X, min_confidence: float | None = None) -> list[np.ndarray]:
        """Per-frame labels (after smoothing), one array per recording.

        Frames where nobody is present get :data:`skelbehave.temporal.NO_POSE`
        (the array then holds strings, or objects when the classes are not strings).
        With ``min_confidence`` (in [0, 1]), a frame whose top smoothed
        probability (the ``proba_<class>`` of :meth:`predict_table`) is below
        it gets ``"unknown"`` (see :func:`skelbehave.models.calibration.abstain`).

        Examples
        --------
        >>> from skelbehave.layouts import JointLayout
        >>> lay, x = JointLayout.from_names(["a", "b", "c"]), np.random.default_rng(0).random((120, 3, 2))
        >>> y = np.where((np.arange(120) // 30) % 2, "walk", "rest")
        >>> m = FrameLevelModel(classifier_params={"n_estimators": 3}, random_state=0)
        >>> m = m.fit([PoseSequence(x, lay)], [y])
        >>> x[:3] = np.nan
        >>> m.predict([PoseSequence(x, lay)])[0][:3].tolist()
        ['no_pose', 'no_pose', 'no_pose']
        >>> sure = m.predict([PoseSequence(x, lay)], min_confidence=0.9)[0]  # "unknown" below 0.9
        >>> sorted(set(sure.tolist()) - {"rest", "walk"})
        ['no_pose', 'unknown']
        """
        if min_confidence is None:
            return [self.labels_of(self.smooth(p)[0]) for p in self.predict_proba(X)]
        from ..models.calibration import abstain

        out = []
        for p in self.predict_proba(X):
            lab, ps = self.smooth(p)
            out.append(abstain(self.labels_of(lab), ps, min_confidence, classes=self.classes_))
        return out

    # ------------------------------------------------------------------ saving
    _FITTED_SCALARS = (
        "window_frames_", "stride_frames_", "fit_stride_frames_", "median_frames_", "min_bout_frames_",
        "n_individuals_", "n_dims_", "n_features_in_", "fps_",
    )  # fmt: skip
    #: range of every fitted scalar a file may hold (checked on load; None = may be None)
    _FITTED_RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        "window_frames_": (1, 100_000), "stride_frames_": (1, 100_000), "fit_stride_frames_": (1, 100_000),
        "median_frames_": (0, 100_000), "min_bout_frames_": (0, 1_000_000), "n_individuals_": (1, 64),
        "n_dims_": (2, 3), "n_features_in_": (1, 10_000_000),
    }  # fmt: skip

    def save(self, path) -> Any:
        """Save to a ``.skb`` model file (JSON + arrays, checksummed; no pickle).

        Goes through :func:`skelbehave.pipeline.persist.save`; load it back
        with :func:`skelbehave.load`. Tree heads (``"extra_trees"``,
        ``"hgb"``, RandomForest) and the linear heads of the registry can be
        saved.

        Examples
        --------
        >>> import tempfile, os, skelbehave
        >>> from skelbehave.layouts import JointLayout
        >>> rng = np.random.default_rng(0)
        >>> lay = JointLayout.from_names(["a", "b", "c"])
        >>> rec = PoseSequence(np.cumsum(rng.normal(size=(120, 3, 2)), 0), lay)
        >>> y = (np.arange(120) // 30) % 2
        >>> m = FrameLevelModel(window=9, classifier_params={"n_estimators": 5}, random_state=0)
        >>> m = m.fit([rec], [y])
        >>> back = skelbehave.load(m.save(os.path.join(tempfile.mkdtemp(), "f.skb")))
        >>> bool((back.predict([rec])[0] == m.predict([rec])[0]).all())
        True
        """
        self._check_fitted()
        return _persist_save(self, path)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters and arrays of the fitted model (the state protocol of :mod:`.persist`)."""
        self._check_fitted()
        init = {k: _jsonable(v) for k, v in self.get_params(deep=False).items()}
        if not isinstance(self.classifier, str):
            init["classifier"] = _HEAD_NAMES.get(type(self.classifier).__name__, "extra_trees")
        arrays: dict[str, np.ndarray] = {}
        params = {
            "init": init,
            "fitted": {k: _jsonable(getattr(self, k)) for k in self._FITTED_SCALARS},
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "layout": self.layout_.to_dict(),
            "feature_names": [str(n) for n in self.feature_names_],
            "encoder": nest("encoder", getattr(self, "encoder_", None), arrays),
            "classifier": nest("classifier", self.classifier_, arrays),
            "context": nest("context", getattr(self, "context_", None), arrays),
        }
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> FrameLevelModel:
        """Rebuild a fitted model from :meth:`_get_state` output, checking every field.

        Raises
        ------
        ModelFileError
            A parameter of the wrong type or out of range, or components
            that do not match the model (feature count, classes).
        """
        m = cls(**_checked_init(cls, params.get("init")))
        fitted = params.get("fitted")
        if not isinstance(fitted, dict):
            raise ModelFileError("fitted must be an object")
        for k in cls._FITTED_SCALARS:
            if k == "fps_":
                m.fps_ = state_float(fitted, k, 1e-3, 1e5, none=True)
            else:
                lo, hi = cls._FITTED_RANGES[k]
                setattr(m, k, state_int(fitted, f"{k}", lo, hi))
        if m.window_frames_ < 1 or m.stride_frames_ < 1:
            raise ModelFileError("window_frames_ and stride_frames_ must be at least 1")
        m.classes_ = state_classes(params)
        if len(m.classes_) < 2:
            raise ModelFileError(f"classes: a model needs at least 2 classes, got {m.classes_.tolist()}")
        m.layout_ = _registered_layout(state_layout(params))
        fn = params.get("feature_names")
        if not isinstance(fn, list) or not all(isinstance(n, str) for n in fn):
            raise ModelFileError("feature_names must be a list of strings")
        m.feature_names_ = list(fn)
        m.encoder_ = unnest("encoder", params.get("encoder"), arrays, ("VLADEncoder",))
        if (m.encoder_ is None) != (m.encoding == "statistics"):
            raise ModelFileError(f"encoding {m.encoding!r} does not match the saved encoder ({m.encoder_!r})")
        if m.encoding == "vlad" and m.encoder_.n_features_out_ != m.n_features_in_:
            raise ModelFileError(
                f"the encoder gives {m.encoder_.n_features_out_} values per window, n_features_in_ is "
                f"{m.n_features_in_}"
            )
        heads = ("FlatTrees", "LinearHead")
        if params.get("classifier") is None:
            raise ModelFileError("classifier is missing")
        m.classifier_ = unnest("classifier", params["classifier"], arrays, heads)
        m.context_ = unnest("context", params.get("context"), arrays, heads)
        for role, clf in (("classifier", m.classifier_), ("context", m.context_)):
            if clf is None:
                continue
            cl = np.asarray(clf.classes_)
            if cl.dtype.kind not in "iu" or cl.min() < 0 or cl.max() >= len(m.classes_):
                raise ModelFileError(
                    f"{role}: classes must be indices into the {len(m.classes_)} model classes, "
                    f"got {cl.tolist()}"
                )
        if int(m.classifier_.n_features_in_) != m.n_features_in_:
            raise ModelFileError(
                f"classifier: expects {m.classifier_.n_features_in_} features, "
                f"n_features_in_ is {m.n_features_in_}"
            )
        _check_widths(m)
        return m


def load_frame_model(path) -> FrameLevelModel:
    """Load a :class:`FrameLevelModel` file (:func:`skelbehave.load`, refusing other kinds).

    Raises :class:`~skelbehave.errors.ModelFileError` for a truncated,
    altered, newer-format or non-frame-level file.

    Examples
    --------
    >>> load_frame_model("no_such_model.skb")
    Traceback (most recent call last):
    ...
    skelbehave.errors.ModelFileError: no_such_model.skb: no such model file
    """
    m = _persist_load(path)
    if not isinstance(m, FrameLevelModel):
        raise ModelFileError(f"{path}: holds a {type(m).__name__}, not a FrameLevelModel")
    return m
