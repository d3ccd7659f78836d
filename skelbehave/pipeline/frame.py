"""`FrameLevelModel`: per-frame behaviour labels from sliding windows, built from the shared parts.

Windows come from :mod:`skelbehave.temporal.windows`, per-frame features and
window statistics from :mod:`skelbehave.features.frame`, smoothing and bouts
from :mod:`skelbehave.temporal.segments`, and saved tree ensembles from
:mod:`skelbehave.models.trees`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..errors import PoseDataError
from ..features.frame import (
    FrameFeatures,
    _as_recording,
    as_recordings,
    context_features,
    window_statistics,
)
from ..layouts import JointLayout
from ..models.trees import FlatTrees
from ..poses import PoseSequence
from ..temporal.segments import median_smooth, min_bout_length, segments
from ..temporal.windows import Windows, aggregate_windows, sliding_windows, to_frames, window_labels

log = logging.getLogger(__name__)

__all__ = ["FrameLevelModel", "load_frame_model"]


def _make_classifier(kind, n_estimators, learning_rate, class_weight, random_state, n_jobs):
    if not isinstance(kind, str):
        from sklearn.base import clone

        return clone(kind)
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=n_estimators,
            learning_rate=learning_rate,
            max_leaf_nodes=31,
            l2_regularization=1.0,
            class_weight=class_weight,
            early_stopping=False,
            random_state=random_state,
        )
    if kind == "extra_trees":
        from sklearn.ensemble import ExtraTreesClassifier

        return ExtraTreesClassifier(
            n_estimators=n_estimators,
            min_samples_leaf=2,
            max_features="sqrt",
            class_weight=class_weight,
            random_state=random_state,
            n_jobs=n_jobs,
        )
    if kind == "logistic":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=0.1, max_iter=500, class_weight=class_weight),
        )
    raise ValueError(f"classifier must be 'hgb', 'extra_trees', 'logistic' or an estimator, got {kind!r}")


class FrameLevelModel(BaseEstimator):
    """Per-frame behaviour labels from sliding windows over long recordings.

    Every window (centred on a frame, ``window`` long, one every ``stride``
    frames) is described by statistics of :class:`FrameFeatures` over the
    window (mean, standard deviation, a temporal pyramid of part means, and
    the centre frame) and classified; frame probabilities average the
    windows containing the frame (kernel ``weights``), are median-filtered
    (``median``), and bouts shorter than ``min_bout`` are merged away.

    Parameters
    ----------
    window : int or str or float
        Window length: frames (int), or seconds (``"1s"``, or a float with fps).
    stride : int or str
        Step between window centres when predicting.
    fit_stride : int or str, optional
        Step when training (default ``stride``); > 1 saves time on long recordings.
    label_mode : {"center", "majority"}
        How a training window is labelled from per-frame labels (see :func:`window_labels`).
    pyramid : tuple of int
        Temporal pyramid levels: part means over halves, quarters, ... (relative to the window mean).
    weights : {"gaussian", "triangular", "uniform", "center"}
        Kernel for aggregating overlapping windows to frames.
    median : int or str
        Median filter length over frame probabilities (0 = off).
    min_bout : int or str
        Minimum bout length (0 = off).
    velocity_step : int
        Central-difference half-width for velocities.
    rotate : {"auto", True, False}
        Body-frame rotation (see :class:`FrameFeatures`).
    acceleration, joint_speed : bool
        Extra per-frame features (see :class:`FrameFeatures`).
    extra_windows : tuple of int or str
        Further window lengths around the same centres whose mean and
        standard deviation are appended to each window's descriptor
        (two or more time scales at once).
    classifier : {"hgb", "extra_trees", "logistic"} or estimator
        Window classifier; an estimator is cloned.
    n_estimators, learning_rate : int, float
        Boosting rounds / trees, and boosting learning rate.
    class_weight : None or "balanced"
    context_folds : int
        0: one stage. k >= 2: a second stage (stacking, "auto-context")
        learns from the temporal context of the first stage's frame
        probabilities (means over ``context_scales`` frames centred, before
        and after each frame); it is trained on out-of-fold first-stage
        probabilities from k folds over the training recordings, so training
        costs k + 1 first-stage fits.
    context_scales : tuple of int
        Context window lengths in frames for the second stage.
    context_raw : bool
        The second stage also sees the frame's own per-frame features
        (:class:`FrameFeatures`), not only the first stage's probabilities.
    ignore_labels : list, optional
        Frame labels that are not behaviours (e.g. ``"base"``, unannotated):
        windows centred on them are not used for training.
    fps : float, optional
        Frame rate used when the sequences do not carry one.
    random_state : int, optional
    n_jobs : int
        Threads for classifiers that take them.
    progress : bool
        Show a progress bar over recordings.

    Examples
    --------
    >>> from skelbehave.layouts import JointLayout
    >>> rng = np.random.default_rng(0)
    >>> lay = JointLayout.from_names(["a", "b", "c"])
    >>> x = np.cumsum(rng.normal(size=(200, 3, 2)), axis=0)
    >>> y = (np.arange(200) // 50) % 2
    >>> x[y == 1] += rng.normal(scale=5, size=(100, 3, 2))
    >>> m = FrameLevelModel(window=9, n_estimators=20, random_state=0)
    >>> m = m.fit([PoseSequence(x, lay, fps=30)], [y])
    >>> m.predict([PoseSequence(x, lay, fps=30)])[0].shape
    (200,)
    """

    def __init__(
        self,
        window: int | str | float = 31,
        stride: int | str = 1,
        fit_stride: int | str | None = None,
        label_mode: str = "center",
        pyramid: tuple[int, ...] = (2, 4),
        weights: str = "gaussian",
        median: int | str = 0,
        min_bout: int | str = 0,
        velocity_step: int = 2,
        rotate: bool | str = "auto",
        acceleration: bool = False,
        joint_speed: bool = False,
        extra_windows: tuple[int, ...] = (),
        classifier: Any = "extra_trees",
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        class_weight: str | None = None,
        context_folds: int = 0,
        context_scales: tuple[int, ...] = (9, 31, 91),
        context_raw: bool = False,
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
        self.velocity_step = velocity_step
        self.rotate = rotate
        self.acceleration = acceleration
        self.joint_speed = joint_speed
        self.extra_windows = extra_windows
        self.classifier = classifier
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.context_folds = context_folds
        self.context_scales = context_scales
        self.context_raw = context_raw
        self.ignore_labels = ignore_labels
        self.fps = fps
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    # ------------------------------------------------------------------ helpers
    def _fps_of(self, recs: list[list[PoseSequence]]) -> float | None:
        for r in recs:
            if r[0].fps is not None:
                return r[0].fps
        return self.fps

    def _frames(self, value, fps) -> int:
        return to_frames(value, fps) if value not in (None, 0, "0") else 0

    def _features(self, recs: list[list[PoseSequence]]) -> tuple[np.ndarray, np.ndarray]:
        from tqdm.auto import tqdm

        ff = FrameFeatures(
            velocity_step=self.velocity_step,
            rotate=self.rotate,
            acceleration=self.acceleration,
            joint_speed=self.joint_speed,
        )
        blocks = []
        for r in tqdm(recs, desc="features", disable=not self.progress, leave=False):
            F, names = ff.transform_recording(r)
            blocks.append(F)
        self._feature_names = names
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        return np.concatenate(blocks, axis=0), lengths

    def _check_layout(self, recs) -> None:
        lay = recs[0][0].layout
        n_ind = len(recs[0])
        for r in recs:
            if r[0].layout.joints != lay.joints or len(r) != n_ind or r[0].n_dims != recs[0][0].n_dims:
                raise PoseDataError(
                    f"every recording needs the same layout and number of individuals: expected "
                    f"{n_ind} x {lay.n_joints} joints {list(lay.joints)[:6]}..., found {len(r)} x "
                    f"{r[0].n_joints} joints {list(r[0].layout.joints)[:6]}...",
                    path=r[0].meta.get("source"),
                )

    # ------------------------------------------------------------------ API
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
        if len(ys) != len(recs):
            raise ValueError(f"got {len(recs)} recordings but {len(ys)} label arrays")
        for i, (r, v) in enumerate(zip(recs, ys, strict=True)):
            if len(v) != r[0].n_frames:
                raise PoseDataError(
                    f"recording {i}: {r[0].n_frames} frames but {len(v)} labels", path=r[0].meta.get("source")
                )
        self._check_layout(recs)
        ignore = set(self.ignore_labels or ())
        allv = np.concatenate(ys)
        classes = np.array(sorted({v.item() if hasattr(v, "item") else v for v in np.unique(allv)} - ignore))
        if len(classes) < 2:
            raise ValueError(f"need at least 2 classes to train, found {classes.tolist()}")
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
        F, lengths = self._features(recs)
        w = sliding_windows(lengths, self.window_frames_, self.fit_stride_frames_)
        wl = window_labels(yi, w, how=self.label_mode, n_classes=len(classes))
        keep = wl >= 0
        w = Windows(w.seq[keep], w.center[keep], w.start[keep], w.stop[keep], w.offsets, w.length, w.stride)
        Xw = self._wstats(F, w)
        log.info("training on %d windows x %d features, %d classes", len(Xw), Xw.shape[1], len(classes))
        clf = self._new_classifier()
        clf.fit(Xw, wl[keep])
        self.n_features_in_ = Xw.shape[1]
        del Xw
        self.context_ = None
        if self.context_folds and self.context_folds >= 2 and len(recs) >= 2:
            self.context_ = self._fit_context(F, lengths, w, wl[keep])
        del F
        self.classifier_ = clf
        self.feature_names_ = list(self._feature_names)
        return self

    def _wstats(self, F: np.ndarray, w: Windows) -> np.ndarray:
        extra = [to_frames(v, self.fps_) for v in (self.extra_windows or ())]
        return window_statistics(F, w, self.pyramid, extra)

    def _new_classifier(self):
        return _make_classifier(
            self.classifier,
            self.n_estimators,
            self.learning_rate,
            self.class_weight,
            self.random_state,
            self.n_jobs,
        )

    def _full_proba(self, clf, X: np.ndarray) -> np.ndarray:
        p = clf.predict_proba(X)
        cls = np.asarray(getattr(clf, "classes_", np.arange(len(self.classes_))), dtype=np.int64)
        if len(cls) != len(self.classes_):  # a class never seen as a window label
            full = np.zeros((len(p), len(self.classes_)))
            full[:, cls] = p
            p = full
        return p

    def _frame_proba_stage1(self, clf, F: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """First-stage frame probabilities of concatenated sequences."""
        w = sliding_windows(lengths, self.window_frames_, self.stride_frames_)
        p = self._full_proba(clf, self._wstats(F, w))
        return np.concatenate(aggregate_windows(p, w, lengths, weights=self.weights))

    def _fit_context(self, F: np.ndarray, lengths: np.ndarray, w_fit: Windows, y_fit: np.ndarray):
        """Second stage on out-of-fold first-stage probabilities (folds over recordings)."""
        n_rec = len(lengths)
        k = min(int(self.context_folds), n_rec)
        rng = np.random.default_rng(self.random_state)
        fold_of = rng.permutation(np.arange(n_rec) % k)
        offsets = np.r_[0, np.cumsum(lengths)]
        P = np.zeros((int(offsets[-1]), len(self.classes_)))
        for f in range(k):
            held = np.flatnonzero(fold_of == f)
            tr = ~np.isin(w_fit.seq, held)
            sub = Windows(
                w_fit.seq[tr], w_fit.center[tr], w_fit.start[tr], w_fit.stop[tr], w_fit.offsets, w_fit.length,
                w_fit.stride,
            )  # fmt: skip
            clf = self._new_classifier()
            clf.fit(self._wstats(F, sub), y_fit[tr])
            rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in held])
            P[rows] = self._frame_proba_stage1(clf, F[rows], lengths[held])
            log.info("context stage: fold %d/%d done", f + 1, k)
        C = self._context_input(P, F, lengths)
        ctx = self._new_classifier()
        ctx.fit(C[w_fit.global_center], y_fit)
        return ctx

    def _context_input(self, P: np.ndarray, F: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        C = context_features(P, lengths, self.context_scales)
        return np.concatenate([C, F.astype(np.float32)], axis=1) if self.context_raw else C

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifier_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this FrameLevelModel is not fitted yet; call fit() first")

    def predict_proba(self, X) -> list[np.ndarray]:
        """Per-frame class probabilities ``(T, n_classes)`` per recording, before smoothing."""
        self._check_fitted()
        recs = as_recordings(X, fps=self.fps)
        out = []
        for r in recs:
            if r[0].layout.joints != self.layout_.joints or len(r) != self.n_individuals_:
                raise PoseDataError(
                    f"the model was trained on {self.n_individuals_} individual(s) with joints "
                    f"{list(self.layout_.joints)}; this recording has {len(r)} with joints "
                    f"{list(r[0].layout.joints)}",
                    path=r[0].meta.get("source"),
                )
            F, lengths = self._features([r])
            P = self._frame_proba_stage1(self.classifier_, F, lengths)
            if self.context_ is not None:
                P = self._full_proba(self.context_, self._context_input(P, F, lengths))
            out.append(P)
        return out

    def smooth(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median filter then minimum bout length: returns (class indices, smoothed probabilities)."""
        p = median_smooth(proba, self.median_frames_) if self.median_frames_ > 1 else proba
        lab = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=np.int64)
        if self.min_bout_frames_ > 1:
            lab = min_bout_length(lab, self.min_bout_frames_, p)
        return lab, p

    def predict(self, X) -> list[np.ndarray]:
        """Per-frame labels (after smoothing), one array per recording."""
        return [self.classes_[self.smooth(p)[0]] for p in self.predict_proba(X)]

    def score(self, X, y) -> float:
        """Frame-level macro F1 over the model's classes (frames with ignored labels left out).

        Makes the model usable with scikit-learn model selection on lists of
        recordings (e.g. ``GroupKFold`` over recordings).
        """
        from sklearn.metrics import f1_score

        ys = [np.asarray(v) for v in y]
        pred = self.predict(X)
        t = np.concatenate(ys) if ys else np.zeros(0)
        p = np.concatenate(pred) if pred else np.zeros(0)
        keep = ~np.isin(t, list(self.ignore_labels or ()))
        macro = f1_score(t[keep], p[keep], labels=self.classes_.tolist(), average="macro", zero_division=0)
        return float(macro)

    def predict_table(self, recording) -> pd.DataFrame:
        """One recording's predictions: frame, time, label, ``proba_<class>`` per class.

        ``frame`` is the file's frame number (``meta["start_frame"]`` + row);
        ``time`` = frame / fps in seconds when the frame rate is known, else NaN.
        """
        rec = _as_recording(recording, fps=self.fps)
        p = self.predict_proba([rec])[0]
        lab, ps = self.smooth(p)
        fps = rec[0].fps or self.fps
        T = len(p)
        frame = int(rec[0].meta.get("start_frame", 0) or 0) + np.arange(T)
        df = pd.DataFrame(
            {
                "frame": frame,
                "time": frame / fps if fps else np.full(T, np.nan),
                "label": self.classes_[lab],
            }
        )
        for k, c in enumerate(self.classes_):
            df[f"proba_{c}"] = ps[:, k]
        return df

    # ------------------------------------------------------------------ saving
    _FITTED_SCALARS = (
        "window_frames_", "stride_frames_", "fit_stride_frames_", "median_frames_", "min_bout_frames_",
        "n_individuals_", "n_dims_", "n_features_in_", "fps_",
    )  # fmt: skip

    def save(self, path) -> Any:
        """Save to a ``.skb`` model file (JSON + arrays, checksummed; no pickle).

        Tree-ensemble classifiers (``"hgb"``, ``"extra_trees"``, or such an
        estimator) can be saved.

        Examples
        --------
        >>> # model.save("behaviours.skb"); load_frame_model("behaviours.skb")
        """
        from ..io.archive import write_archive

        self._check_fitted()
        clf = self.classifier_
        if not isinstance(clf, FlatTrees):
            clf = FlatTrees.from_sklearn(clf)
        params = self.get_params()
        if not isinstance(params["classifier"], str):
            params["classifier"] = "extra_trees" if clf.kind == "forest" else "hgb"
        params["pyramid"] = list(params["pyramid"])
        params["extra_windows"] = list(params["extra_windows"] or ())
        params["context_scales"] = list(params["context_scales"])
        params["ignore_labels"] = None if params["ignore_labels"] is None else list(params["ignore_labels"])
        cparams, carrays = clf.get_state()
        arrays = {f"classifier.{k}": v for k, v in carrays.items()}
        xparams = None
        if getattr(self, "context_", None) is not None:
            ctx = (
                self.context_
                if isinstance(self.context_, FlatTrees)
                else FlatTrees.from_sklearn(self.context_)
            )
            xparams, xarrays = ctx.get_state()
            arrays.update({f"context.{k}": v for k, v in xarrays.items()})
        doc = {
            "kind": "FrameLevelModel",
            "params": params,
            "fitted": {k: getattr(self, k) for k in self._FITTED_SCALARS},
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "layout": self.layout_.to_dict(),
            "feature_names": list(self.feature_names_),
            "classifier": cparams,
            "context": xparams,
        }
        return write_archive(path, doc, arrays)

    @classmethod
    def _from_doc(cls, doc: dict, arrays: dict, path) -> FrameLevelModel:
        from ..errors import ModelFileError

        if doc.get("kind") != "FrameLevelModel":
            raise ModelFileError(f"{path}: holds a {doc.get('kind')!r}, not a FrameLevelModel")
        try:
            params = dict(doc["params"])
            params["pyramid"] = tuple(params["pyramid"])
            params["extra_windows"] = tuple(params.get("extra_windows") or ())
            params["context_scales"] = tuple(params["context_scales"])
            m = cls(**params)
            for k in cls._FITTED_SCALARS:
                setattr(m, k, doc["fitted"][k])
            m.classes_ = np.asarray(doc["classes"])
            m.layout_ = JointLayout.from_dict(doc["layout"])
            m.feature_names_ = list(doc["feature_names"])
            sub = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("classifier.")}
            m.classifier_ = FlatTrees.from_state(doc["classifier"], sub)
            m.context_ = None
            if doc.get("context") is not None:
                sub = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("context.")}
                m.context_ = FlatTrees.from_state(doc["context"], sub)
            m.manifest_ = doc.get("_manifest", {})
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{path}: inconsistent frame-level model file ({type(exc).__name__}: {exc})"
            ) from None
        return m

    def segments(self, recording) -> pd.DataFrame:
        """Bouts of one recording: start, end, label, score (mean probability)."""
        rec = _as_recording(recording, fps=self.fps)
        lab, ps = self.smooth(self.predict_proba([rec])[0])
        return segments(lab, ps, fps=rec[0].fps or self.fps, classes=self.classes_)


def load_frame_model(path) -> FrameLevelModel:
    """Load a :class:`FrameLevelModel` saved with :meth:`FrameLevelModel.save`.

    Raises :class:`~skelbehave.errors.ModelFileError` for a truncated,
    altered, newer-format or non-frame-level file.

    Examples
    --------
    >>> # model = load_frame_model("behaviours.skb")
    """
    from ..io.archive import read_archive

    doc, arrays = read_archive(path)
    return FrameLevelModel._from_doc(doc, arrays, path)
