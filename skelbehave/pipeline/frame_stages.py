"""The stages of :class:`~skelbehave.pipeline.FrameLevelModel`, shared as a mixin.

Per-frame features (:class:`~skelbehave.features.frame.FrameFeatures`), the
window descriptors (window statistics, the per-group VLAD of the windows,
or both), the window head from the one head registry, the optional context
stage, then smoothing, bouts and prediction tables. :class:`FrameStages`
holds no parameters of its own: it reads those of the model it is mixed into.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._util.parallel import thread_map
from .._util.threads import resolve_n_jobs
from ..encoding.windows import encode_windows
from ..errors import LayoutError, ParameterError, PoseDataError
from ..features.frame import (
    FrameFeatures,
    as_recording,
    frame_descriptors,
    window_blocks,
    window_statistics,
)
from ..features.frame_pairs import RELATIONS, recording_features
from ..models.heads import head_predict_proba, is_sequence_model, make_head
from ..poses import PoseSequence, convert_layouts
from ..temporal.context import CONTEXT_STATS, context_statistics, moving_mean
from ..temporal.presence import ABSENT, NO_POSE, present_frames, stretches
from ..temporal.segments import absent_labels, median_smooth, min_bout_length, segments
from ..temporal.windows import Windows, aggregate_windows, sliding_windows, to_frames

log = logging.getLogger("skelbehave.pipeline.frame")

__all__ = ["FrameStages", "timed"]

#: forests grow in about this many steps under the progress bar
_TREE_STEPS = 20
#: frames per block when the context stage's head is shared by threads
_CONTEXT_ROWS = 8192
#: heads (estimator class names) that serve as their own context-stage head
_TREE_HEADS = ("ExtraTreesClassifier", "RandomForestClassifier", "HistGradientBoostingClassifier")


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Log (INFO) how long a stage of fitting took: ``fit: <what> in <s> s``.

    Examples
    --------
    >>> with timed("nothing"):
    ...     pass
    """
    t0 = time.perf_counter()
    yield
    log.info("fit: %s in %.2f s", what, time.perf_counter() - t0)


class FrameStages:
    """Features, window descriptors, heads and context stage of a frame-level model (mixin)."""

    #: head parameters when ``classifier_params`` is None (set by the model class)
    _WINDOW_HEAD: ClassVar[dict[str, dict[str, Any]]] = {}
    #: changes to those for the context stage's fold models (set by the model class)
    _FOLD_HEAD: ClassVar[dict[str, dict[str, Any]]] = {}
    #: changes to those for the context stage's head (set by the model class)
    _CONTEXT_HEAD: ClassVar[dict[str, dict[str, Any]]] = {}
    #: the fold models train on every n-th training window
    _FOLD_STRIDE: ClassVar[int] = 2

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
            step=self.step,
            rotate=self.rotate,
            acceleration=self.acceleration,
            joint_speed=self.joint_speed,
        )
        blocks = []
        relations = getattr(self, "relations", "none")
        for r in tqdm(recs, desc="features", disable=not self.progress, leave=False):
            F, names = recording_features(ff, r, relations)
            blocks.append(F)
        self._feature_names = names
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        return np.concatenate(blocks, axis=0), lengths

    @staticmethod
    def _present(rec: list[PoseSequence]) -> np.ndarray:
        """Frames of a recording where somebody is present (any individual has a pose)."""
        out = np.zeros(rec[0].n_frames, dtype=bool)
        for s in rec:
            out |= present_frames(s)
        return out

    def labels_of(self, lab: np.ndarray) -> np.ndarray:
        """Class names of class indices; :data:`~skelbehave.temporal.ABSENT` becomes ``"no_pose"``.

        Examples
        --------
        >>> from skelbehave.pipeline import FrameLevelModel
        >>> m = FrameLevelModel()
        >>> m.classes_ = np.array(["rest", "walk"])
        >>> m.labels_of(np.array([1, -1, 0])).tolist()
        ['walk', 'no_pose', 'rest']
        """
        lab = np.asarray(lab, dtype=np.int64)
        absent = lab == ABSENT
        if not absent.any():
            return self.classes_[lab]
        kind = self.classes_.dtype.kind
        dtype = np.result_type(self.classes_.dtype, np.array(NO_POSE).dtype) if kind == "U" else object
        out = np.full(len(lab), NO_POSE, dtype=dtype)
        out[~absent] = self.classes_[lab[~absent]]
        return out

    @staticmethod
    def _training_pairs(recs: list, ys: list[np.ndarray]) -> tuple[list, list[np.ndarray]]:
        """Check every recording's frame labels (one per frame, none missing); drop 0-frame recordings."""
        for i, (r, v) in enumerate(zip(recs, ys, strict=True)):
            src = r[0].meta.get("source")
            if v.ndim != 1 or len(v) != r[0].n_frames:
                raise PoseDataError(
                    f"recording {i}: {r[0].n_frames} frames but labels of shape {v.shape}", path=src
                )
            miss = absent_labels(v) if v.dtype.kind not in "iub" else np.zeros(len(v), dtype=bool)
            if miss.any():
                raise PoseDataError(
                    f"recording {i}: {int(miss.sum())} frame label(s) missing or {NO_POSE!r}, the first at "
                    f"frame {int(np.argmax(miss))}; every frame needs a label (name unannotated frames, e.g. "
                    "'none', and leave them out with ignore_labels)",
                    path=src,
                )
        keep_rec = [i for i, r in enumerate(recs) if r[0].n_frames > 0]
        recs, ys = [recs[i] for i in keep_rec], [ys[i] for i in keep_rec]
        if not recs:
            raise PoseDataError("nothing to train on: every recording has 0 frames")
        return recs, ys

    def _to_model_layout(self, rec: list[PoseSequence]) -> list[PoseSequence]:
        """The individuals of a recording in the model's layout (converted through the common skeleton).

        A recording in another skeleton that maps onto the model's (see
        :func:`skelbehave.poses.convert_layouts`) is converted, logged once;
        one that cannot be raises :class:`~skelbehave.errors.PoseDataError`
        naming the joints with no counterpart.
        """
        if rec[0].layout.joints == self.layout_.joints:
            return rec
        try:
            return convert_layouts(rec, self.layout_)
        except LayoutError as exc:
            src = rec[0].meta.get("source")
            msg = (
                f"the model was trained on {self.n_individuals_} individual(s) in layout "
                f"{self.layout_.name!r}; this recording's layout cannot be converted: {exc}"
            )
            raise PoseDataError(msg, path=src) from None

    def _check_stage_params(self) -> None:
        cf = self.context_folds
        if isinstance(cf, bool) or not isinstance(cf, int | np.integer) or cf < 0 or cf == 1:
            raise ParameterError(f"context_folds must be 0 (one stage) or an integer >= 2, got {cf!r}")
        if self.relations not in RELATIONS:
            raise ParameterError(f"relations must be one of {RELATIONS}, got {self.relations!r}")
        cs = self.context_stats
        if isinstance(cs, str) or not cs or any(v not in CONTEXT_STATS for v in cs):
            raise ParameterError(f"context_stats must be a non-empty tuple of {CONTEXT_STATS}, got {cs!r}")
        for name in ("context_scales", "context_means"):
            v = getattr(self, name)
            if isinstance(v, str | int) or any(isinstance(x, bool) or not isinstance(x, int | np.integer)
                                               or x < 1 for x in v):  # fmt: skip
                raise ParameterError(f"{name} must be a tuple of frame counts >= 1, got {v!r}")
        if not self.context_scales:
            raise ParameterError("context_scales must hold at least one frame count")

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

    def _frame_input(self, F: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, Any]:
        """What windows are described from: the per-frame features and (VLAD) their blocks per body part."""
        if self.encoding == "statistics":
            return F, None
        return F, frame_descriptors(F, self._feature_names, lengths, self.layout_, self.n_dims_)

    def _window_X(self, frames: tuple[np.ndarray, Any], w: Windows) -> np.ndarray:
        """One descriptor per window: statistics of the frames, the VLAD of their descriptors, or both."""
        F, D = frames
        parts = []
        if self.encoding != "vlad":
            extra = [to_frames(v, self.fps_) for v in (self.extra_windows or ())]
            parts.append(window_statistics(F, w, self.pyramid, extra))
        if self.encoding != "statistics":
            parts.append(encode_windows(self.encoder_, D, w.global_start, w.global_stop))
        return parts[0] if len(parts) == 1 else np.hstack([p.astype(np.float32) for p in parts])

    def _new_classifier(self, nan_safe: bool = True, fold: bool = False, context: bool = False):
        """A new window head; ``fold``: a context-stage fold model (``_FOLD_HEAD`` over the defaults).

        ``context``: the context stage's head (``_CONTEXT_HEAD`` over the defaults).
        """
        params = self.classifier_params
        if isinstance(self.classifier, str) and self.classifier.lower() == "cnn":  # before torch is needed
            raise ParameterError(
                "classifier 'cnn' takes whole pose sequences, not window descriptors; "
                "use a window head (extra_trees, hgb, ridge, svm, logreg) or BehaviorModel for clips"
            )
        if params is None and isinstance(self.classifier, str):
            params = self._WINDOW_HEAD.get(self.classifier.lower())
            if fold:
                params = {**(params or {}), **self._FOLD_HEAD.get(self.classifier.lower(), {})}
            if context:
                params = {**(params or {}), **self._CONTEXT_HEAD.get(self.classifier.lower(), {})}
        est = make_head(
            self.classifier,
            random_state=self.random_state,
            nan_safe=nan_safe,
            n_jobs=self.n_jobs,
            **(params or {}),
        )
        if is_sequence_model(est):
            raise ParameterError(
                f"classifier {self.classifier!r} takes whole pose sequences, not window descriptors; "
                "use a window head (extra_trees, hgb, ridge, svm, logreg) or BehaviorModel for clips"
            )
        return est

    def _fit_head(self, clf, X: np.ndarray, y: np.ndarray, desc: str = "trees"):
        """Fit a window head; with ``progress``, a forest grows a few trees at a time under a bar.

        The forest grows by ``warm_start`` steps, which give the same trees as
        one fit (scikit-learn draws the seeds of the trees already grown again).
        """
        from tqdm.auto import tqdm

        est = clf.steps[-1][1] if hasattr(clf, "steps") else clf
        forest = type(est).__name__ in ("ExtraTreesClassifier", "RandomForestClassifier")
        if not (self.progress and forest and not est.warm_start and clf is est):
            return clf.fit(X, y)
        n = int(est.n_estimators)
        step = max(1, -(-n // _TREE_STEPS))
        with tqdm(total=n, desc=desc, unit="tree", leave=False) as bar, warnings.catch_warnings():
            # 'balanced' class weights with warm_start: the data are the same at every step here
            warnings.filterwarnings("ignore", message=".*warm_start.*", category=UserWarning)
            est.set_params(warm_start=True)
            try:
                grown = 0
                while grown < n:
                    k = min(n, grown + step)
                    est.set_params(n_estimators=k).fit(X, y)
                    bar.update(k - grown)
                    grown = k
            finally:
                est.set_params(warm_start=False, n_estimators=n)
        return est

    def _full_proba(self, clf, X: np.ndarray) -> np.ndarray:
        p = head_predict_proba(clf, X)
        cls = np.asarray(getattr(clf, "classes_", np.arange(len(self.classes_))), dtype=np.int64)
        if len(cls) != len(self.classes_):  # a class never seen as a window label
            full = np.zeros((len(p), len(self.classes_)))
            full[:, cls] = p
            p = full
        return p

    def _frame_proba_stage1(self, clf, F: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """First-stage frame probabilities of concatenated sequences."""
        w = sliding_windows(lengths, self.window_frames_, self.stride_frames_)
        frames = self._frame_input(F, lengths)

        def block_proba(idx: np.ndarray) -> np.ndarray:  # descriptors and head of one time block
            sub = Windows(w.seq[idx], w.center[idx], w.start[idx], w.stop[idx], w.offsets, w.length, w.stride)
            return self._full_proba(clf, self._window_X(frames, sub))

        blocks = window_blocks(w)
        p = np.empty((len(w), len(self.classes_)))
        parts = thread_map(block_proba, blocks, resolve_n_jobs(self.n_jobs))
        for idx, part in zip(blocks, parts, strict=True):
            p[idx] = part
        return np.concatenate(aggregate_windows(p, w, lengths, weights=self.weights))

    def _fit_context(self, F: np.ndarray, frames, lengths: np.ndarray, w_fit: Windows, y_fit: np.ndarray):
        """Second stage on out-of-fold first-stage probabilities (folds over recordings); None: no stage.

        The fold models are lighter than the first stage (``_FOLD_HEAD``, and
        every second training window): they only make the probabilities the
        second stage learns from.
        """
        with_windows = np.unique(w_fit.seq)  # recordings with a training window (not all absent / ignored)
        if len(with_windows) < 2:
            log.info("context stage skipped: fewer than 2 recordings with training windows")
            return None
        k = min(int(self.context_folds), len(with_windows))
        rng = np.random.default_rng(self.random_state)
        fold_of = np.full(len(lengths), -1)
        fold_of[with_windows] = rng.permutation(np.arange(len(with_windows)) % k)
        offsets = np.r_[0, np.cumsum(lengths)]
        P = np.zeros((int(offsets[-1]), len(self.classes_)))
        from tqdm.auto import tqdm

        for f in tqdm(range(k), desc="context folds", disable=not self.progress, leave=False):
            held = np.flatnonzero(fold_of == f)
            tr = np.flatnonzero(~np.isin(w_fit.seq, held))
            tr = tr[:: self._FOLD_STRIDE]
            sub = Windows(
                w_fit.seq[tr], w_fit.center[tr], w_fit.start[tr], w_fit.stop[tr], w_fit.offsets, w_fit.length,
                w_fit.stride,
            )  # fmt: skip
            clf = self._new_classifier(nan_safe=self.encoding != "vlad", fold=True)
            self._fit_head(clf, self._window_X(frames, sub), y_fit[tr], desc=f"fold {f + 1}/{k} trees")
            rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in held])
            P[rows] = self._frame_proba_stage1(clf, F[rows], lengths[held])
            log.info("context stage: fold %d/%d done", f + 1, k)
        C = self._context_input(P, F, lengths, rows=w_fit.global_center)  # the training windows' frames only
        ctx = self._fit_head(self._new_context_head(), C, y_fit, desc="context trees")
        return ctx

    def _new_context_head(self):
        """The context stage's head: the window head when it is a tree ensemble, else the default forest.

        Trees learn the rises, peaks and plateaus of the probabilities; a linear
        head on them lost the actions (PRECOG subjects 1-4 -> 9-10, ridge window
        head: frame macro F1 0.26 with a ridge context head).
        """
        est = self._new_classifier(context=True)
        final = est.steps[-1][1] if hasattr(est, "steps") else est
        if type(final).__name__ in _TREE_HEADS:
            return est
        name = next(iter(self._WINDOW_HEAD), "extra_trees")
        params = {**self._WINDOW_HEAD.get(name, {}), **self._CONTEXT_HEAD.get(name, {})}
        return make_head(name, random_state=self.random_state, nan_safe=True, n_jobs=self.n_jobs, **params)

    def _context_proba(self, C: np.ndarray) -> np.ndarray:
        """The context stage's frame probabilities, in row blocks shared by the ``n_jobs`` threads.

        Each row is predicted on its own, so the blocks give the probabilities of one call.
        """
        rows = np.arange(len(C))
        blocks = [rows[i : i + _CONTEXT_ROWS] for i in range(0, len(C), _CONTEXT_ROWS)] or [rows]
        threads = resolve_n_jobs(self.n_jobs)
        parts = thread_map(lambda idx: self._full_proba(self.context_, C[idx]), blocks, threads)
        return np.concatenate(parts, axis=0)

    def _context_input(self, P: np.ndarray, F: np.ndarray, lengths: np.ndarray, rows=None) -> np.ndarray:
        """What the context stage sees per frame: statistics of the probabilities, feature means, features.

        ``rows``: only those frames (at fit, the training windows' centres).
        """
        parts = [context_statistics(P, lengths, self.context_scales, self.context_stats, rows=rows)]
        if self.context_means:
            parts.append(moving_mean(F, lengths, self.context_means, rows=rows))
        if self.context_raw:
            parts.append((F if rows is None else F[rows]).astype(np.float32))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    # ------------------------------------------------------------------ output
    def score(self, X, y) -> float:
        """Frame-level macro F1 over the model's classes (frames with ignored labels or no pose left out).

        Makes the model usable with scikit-learn model selection on lists of
        recordings (e.g. ``GroupKFold`` over recordings).
        """
        from sklearn.metrics import f1_score

        ys = [np.asarray(v) for v in y]
        pred = self.predict(X)
        t = np.concatenate(ys) if ys else np.zeros(0)
        p = np.concatenate(pred) if pred else np.zeros(0)
        keep = ~np.isin(t, list(self.ignore_labels or ())) & ~absent_labels(p)  # absent frames: not scored
        pk = p[keep].astype(self.classes_.dtype)
        macro = f1_score(t[keep], pk, labels=self.classes_.tolist(), average="macro", zero_division=0)
        return float(macro)

    def smooth(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median filter then minimum bout length: returns (class indices, smoothed probabilities).

        Rows of NaN (frames where nobody is present) get the class index
        :data:`~skelbehave.temporal.ABSENT` (-1) and stay NaN; each stretch
        between them is smoothed on its own.
        """
        absent = np.isnan(proba).all(axis=1) if len(proba) else np.zeros(0, dtype=bool)
        if absent.any():
            lab = np.full(len(proba), ABSENT, dtype=np.int64)
            ps = np.full(proba.shape, np.nan)
            for a, b in stretches(~absent):
                lab[a:b], ps[a:b] = self.smooth(proba[a:b])
            return lab, ps
        p = median_smooth(proba, self.median_frames_) if self.median_frames_ > 1 else proba
        lab = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=np.int64)
        if self.min_bout_frames_ > 1:
            lab = min_bout_length(lab, self.min_bout_frames_, p)
        return lab, p

    def predict_table(self, recording) -> pd.DataFrame:
        """One recording's predictions: frame, time, label, absent, ``proba_<class>`` per class.

        Where nobody is present (no pose), ``absent`` is True, ``label`` is
        empty (None) and the probabilities are NaN.

        ``frame`` is the file's frame number (``meta["start_frame"]`` + row);
        ``time`` = frame / fps in seconds when the frame rate is known, else NaN.
        """
        rec = as_recording(recording, fps=self.fps)
        p = self.predict_proba([rec])[0]
        lab, ps = self.smooth(p)
        fps = rec[0].fps or self.fps
        T = len(p)
        frame = int(rec[0].meta.get("start_frame", 0) or 0) + np.arange(T)
        df = pd.DataFrame(
            {
                "frame": frame,
                "time": frame / fps if fps else np.full(T, np.nan),
                "label": np.where(lab == ABSENT, None, self.classes_[np.maximum(lab, 0)].astype(object)),
                "absent": lab == ABSENT,
            }
        )
        for k, c in enumerate(self.classes_):
            df[f"proba_{c}"] = ps[:, k]
        return df

    def segments(self, recording) -> pd.DataFrame:
        """Bouts of one recording: start, end, label, score (mean probability); absent frames form no bout."""
        rec = as_recording(recording, fps=self.fps)
        lab, ps = self.smooth(self.predict_proba([rec])[0])
        return segments(lab, ps, fps=rec[0].fps or self.fps, classes=self.classes_)
