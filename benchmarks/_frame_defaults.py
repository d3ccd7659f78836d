"""Round 2 of the frame-level library default (issue 15, item 4): relations between animals, smoothing.

Used by ``python benchmarks/frame_level.py --defaults cv`` (grouped CV on the training ids 1-8
only, PRECOG and the rat dyads in one run). Each candidate is fitted once per fold; the smoothing
settings are post-processing, scored on the same probabilities of the held-out recordings.
"""

from __future__ import annotations

import time

import numpy as np

from skelbehave.evaluation import frame_report
from skelbehave.pipeline import FrameLevelModel

#: candidates: changes to FrameLevelModel's signature as it is now (each sets relations; smoothing per row)
ROUND2_CANDIDATES: dict[str, dict] = {
    "context stage, no relations (previous default)": {"relations": "none"},
    "+ relations, ordered pairs": {"relations": "ordered"},
    "+ relations, pooled over the animals": {"relations": "symmetric"},
}
#: smoothing settings scored on each candidate's held-out probabilities: (median, min_bout) frames
SMOOTHING = ((0, 0), (0, 9), (0, 15), (9, 9))

FOLDS = [(1, 2), (3, 4), (5, 6), (7, 8)]

#: round 3 (issue 16, a cheaper default at the same accuracy): changes to today's signature; keys that
#: start with ``_`` are class attributes of the model (``_WINDOW_HEAD``, ``_FOLD_HEAD``,
#: ``_CONTEXT_HEAD``: head parameters; ``_FOLD_STRIDE``: the fold models' share of the training windows)
_ET = {"n_estimators": 60, "min_samples_leaf": 5, "class_weight": "balanced"}
ROUND3_CANDIDATES: dict[str, dict] = {
    "current default": {},
    "max_features 0.015 (window, fold heads)": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": 0.015}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "max_features log2 (window, fold heads)": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "mf 0.015, fit_stride 6": {
        "fit_stride": 6, "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": 0.015}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "mf 0.015, folds every 3rd, context 40 trees": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": 0.015}}, "_FOLD_STRIDE": 3,
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 40}}},
    "40 trees, fit_stride 6": {"fit_stride": 6, "_WINDOW_HEAD": {"extra_trees": {**_ET, "n_estimators": 40}},
                               "_CONTEXT_HEAD": {"extra_trees": {"n_estimators": 60}}},
    "log2, 80 trees": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2", "n_estimators": 80}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 60}}},
    "log2 window head only (fold models sqrt)": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "log2, 80 trees, fold models 30": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2", "n_estimators": 80}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 30}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 60}}},
    "max_features 0.02": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": 0.02}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "bootstrap, half the windows per tree": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "bootstrap": True, "max_samples": 0.5}},
        "_CONTEXT_HEAD": {"extra_trees": {"bootstrap": False, "max_samples": None}}},
    "log2 window head, fold sqrt, context 40 trees": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 40}}},
    "log2 window head, fold sqrt on every 3rd window": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}}, "_FOLD_STRIDE": 3,
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
    "log2 window head, fold sqrt on every 3rd window, context 40 trees": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}}, "_FOLD_STRIDE": 3,
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 40}}},
    "log2 window head, fold sqrt, context log2": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2"}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "log2"}}},
    "log2 window head of 40 trees, fold sqrt": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": "log2", "n_estimators": 40}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt", "n_estimators": 60}}},
    "window head max_features 6, fold sqrt": {
        "_WINDOW_HEAD": {"extra_trees": {**_ET, "max_features": 6}},
        "_FOLD_HEAD": {"extra_trees": {"n_estimators": 20, "max_features": "sqrt"}},
        "_CONTEXT_HEAD": {"extra_trees": {"max_features": "sqrt"}}},
}  # fmt: skip


def _model(change: dict, **params) -> FrameLevelModel:
    """A FrameLevelModel with ``change``'s parameters; its ``_``-keys as class attributes of a subclass."""
    attrs = {k: v for k, v in change.items() if k.startswith("_")}
    cls = type("Candidate", (FrameLevelModel,), attrs) if attrs else FrameLevelModel
    return cls(**params, **{k: v for k, v in change.items() if not k.startswith("_")})


def _smoothed(model: FrameLevelModel, proba: list, median: int, min_bout: int) -> list[np.ndarray]:
    model.set_params(median=median, min_bout=min_bout)
    model.median_frames_, model.min_bout_frames_ = median, min_bout
    return [model.labels_of(model.smooth(p)[0]) for p in proba]


def defaults_cv2(sets, n_jobs: int, names_only=None, candidates=None, smoothing=SMOOTHING) -> dict:
    """Grouped CV (pairs of the training ids 1-8 held out) of :data:`ROUND2_CANDIDATES` x :data:`SMOOTHING`.

    ``sets``: the data sets of ``frame_level._default_sets`` (library defaults, ignored labels and seed
    only). Prints one table per data set and the mean over the data sets; returns
    ``{(candidate, smoothing): {data set: (frame F1, segment F1, fit s, predict s)}}``.
    ``candidates`` (default :data:`ROUND2_CANDIDATES`) and ``smoothing``: what to compare instead.
    """
    candidates = ROUND2_CANDIDATES if candidates is None else candidates
    table: dict[tuple[str, tuple[int, int]], dict[str, tuple]] = {}
    for name, ds, names, classes, ignore, base, _, _ in sets:
        print("=" * 100)
        print(f"{name}: round-2 candidates, grouped CV on training ids 1-8 (9-12 unused); "
              "(median, min_bout) in frames")  # fmt: skip
        print(f"{'variant':<48}{'smooth':>8}" + "".join(f"{f'{a}-{b}':>8}" for a, b in FOLDS)
              + f"{'mean':>8}{'seg F1':>8}{'fit s':>7}{'pred s':>7}  per-class F1 ({', '.join(map(str, classes))})")  # noqa: E501  # fmt: skip
        for label, change in candidates.items():
            if names_only and not any(label.strip().startswith(n) for n in names_only):
                continue
            params = dict(base, n_jobs=n_jobs)
            fit_t = pred_t = 0.0
            res = {s: ([], [], []) for s in smoothing}
            for held in FOLDS:
                tr = np.flatnonzero(np.isin(ds.subjects, [s for s in range(1, 9) if s not in held]))
                te = np.flatnonzero(np.isin(ds.subjects, held))
                t0 = time.perf_counter()
                model = _model(change, **params).fit([ds.sequences[i] for i in tr], [names[i] for i in tr])
                t1 = time.perf_counter()
                proba = model.predict_proba([ds.sequences[i] for i in te])
                fit_t, pred_t = fit_t + t1 - t0, pred_t + time.perf_counter() - t1
                truth = [names[i] for i in te]
                for sm in smoothing:
                    pred = _smoothed(model, proba, *sm)
                    rep = frame_report(truth, pred, labels=classes, ignore=ignore, iou_thresholds=(0.5,))
                    res[sm][0].append(rep.loc["macro", "frame_f1"])
                    res[sm][1].append(rep.loc["macro", "segment_f1@0.5"])
                    res[sm][2].append(rep.loc[[str(c) for c in classes], "frame_f1"].to_numpy())
            for sm, (f1s, segs, per) in res.items():
                table.setdefault((label, sm), {})[name] = (np.mean(f1s), np.mean(segs), fit_t, pred_t)
                print(f"{label:<48}{f'{sm[0]}/{sm[1]}':>8}" + "".join(f"{x:>8.4f}" for x in f1s)
                      + f"{np.mean(f1s):>8.4f}{np.mean(segs):>8.4f}{fit_t:>7.0f}{pred_t:>7.1f}  "
                      + " ".join(f"{x:.2f}" for x in np.mean(per, axis=0)), flush=True)  # fmt: skip
    if len(sets) > 1:
        print("\nmean over the data sets (frame macro F1 / segment F1@0.5; fit and prediction s summed):")
        for (label, sm), row in table.items():
            if len(row) == len(sets):
                f, sg, ft, pt = (np.mean([r[i] for r in row.values()]) for i in range(4))
                print(f"  {label:<48}{f'{sm[0]}/{sm[1]}':>8}{f:>8.4f}{sg:>8.4f}{ft * len(row):>7.0f}"
                      f"{pt * len(row):>7.1f}")  # fmt: skip
    return table
