"""Choosing the clip-level defaults: grouped CV on the training clips of every clip task at once.

Each candidate (a :class:`~skelbehave.pipeline.BehaviorModel` configuration)
is fitted on the training subjects (recordings) of each task with one held
out at a time (:func:`_clip_tasks.cv_folds`); its out-of-fold predictions of
all training clips give the task's accuracy and macro F1. The test clips are
never touched. Printed: a candidate x task table, the mean over tasks and
the mean rank, then the leave-one-dataset-out view: for each task, the
candidate that the *other* tasks choose, and where it ranks on the one left
out — a default chosen on some datasets must hold on the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from _clip_tasks import ClipTask, cv_folds, run_rockets
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import accuracy_score, f1_score

from skelbehave.encoding import VLADEncoder
from skelbehave.features import JointFeatures
from skelbehave.pipeline import BehaviorModel
from skelbehave.pipeline.clip_defaults import DEFAULT_CLASSIFIER, DEFAULT_ENCODER, DEFAULT_FEATURES

SEED = 0


def candidate(features: dict | None = None, encoder: dict | None = None, classifier=None):
    """A factory of BehaviorModels: the defaults with some parameters replaced."""
    f = {**DEFAULT_FEATURES, **(features or {})}
    e = {**DEFAULT_ENCODER, **(encoder or {})}

    def make() -> BehaviorModel:
        return BehaviorModel(
            features=JointFeatures(**f),
            encoder=VLADEncoder(**e),
            classifier=DEFAULT_CLASSIFIER if classifier is None else classifier,
            random_state=SEED,
            n_jobs=1,
        )

    return make


#: What was compared when the defaults were chosen (the first is the library default).
CANDIDATES: dict[str, Callable[[], BehaviorModel]] = {
    "default": candidate(),
    "k=8": candidate(encoder={"n_clusters": 8}),
    "k=32": candidate(encoder={"n_clusters": 32}),
    "pyramid 2": candidate(encoder={"pyramid_levels": 2}),
    "kind weights 1/1/1": candidate(encoder={"kind_weights": {"displacement": 1.0, "acceleration": 1.0}}),
    "no acceleration": candidate(features={"acceleration": False}),
    "rotate (view-normalised)": candidate(features={"rotate": True}),
    "head logreg": candidate(classifier="logreg"),
    "head svm": candidate(classifier="svm"),
}
ROT = {"rotate": True}


def _ridge(alpha: float) -> RidgeClassifier:
    return RidgeClassifier(alpha=alpha, class_weight="balanced")

#: The second round: variations around the first round's winner (rotation).
CANDIDATES.update(
    {
        "rotate, k=8": candidate(ROT, {"n_clusters": 8}),
        "rotate, k=32": candidate(ROT, {"n_clusters": 32}),
        "rotate, pyramid 2": candidate(ROT, {"pyramid_levels": 2}),
        "rotate, pyramid 4": candidate(ROT, {"pyramid_levels": 4}),
        "rotate, pairwise": candidate({**ROT, "pairwise": True}),
        "rotate, overlapping": candidate({**ROT, "overlapping": True}),
        "rotate, weights 2/2": candidate(ROT, {"kind_weights": {"displacement": 2.0, "acceleration": 2.0}}),
        "rotate, weights 3/4": candidate(ROT, {"kind_weights": {"displacement": 3.0, "acceleration": 4.0}}),
        "rotate, step 1": candidate({**ROT, "step": 1}),
        "rotate, head svm": candidate(ROT, classifier="svm"),
        # the third round: the encoder's PCA, its normalisation, the ridge penalty
        "rotate, PCA 0.99": candidate(ROT, {"n_components": 0.99}),
        "rotate, PCA 0.95 whiten": candidate(ROT, {"n_components": 0.95, "whiten": True}),
        "rotate, no intra-norm": candidate(ROT, {"intra_norm": False}),
        "rotate, ridge alpha 0.01": candidate(ROT, classifier=_ridge(0.01)),
        "rotate, ridge alpha 1": candidate(ROT, classifier=_ridge(1.0)),
    }
)


def _scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    return float(accuracy_score(y, pred)), float(f1_score(y, pred, average="macro"))


def oof(task: ClipTask, make: Callable[[], BehaviorModel]) -> np.ndarray:
    pred = np.empty(len(task.y_train), dtype=object)
    for val in cv_folds(task):
        fit = np.setdiff1d(np.arange(len(task.y_train)), val)
        m = make().fit([task.X_train[i] for i in fit], task.y_train[fit])
        pred[val] = m.predict([task.X_train[i] for i in val])
    return pred.astype(str)


def rocket_oof(task: ClipTask, python: str) -> dict[str, np.ndarray]:
    folds = cv_folds(task)
    jobs = {}
    for k, val in enumerate(folds):
        fit = np.setdiff1d(np.arange(len(task.y_train)), val)
        flat = task.flat_train
        jobs[f"f{k}"] = ([flat[i] for i in fit], task.y_train[fit], [flat[i] for i in val])
    got = run_rockets(jobs, python)
    out: dict[str, np.ndarray] = {}
    for k, val in enumerate(folds):
        for method, (pred, _, _) in got[f"f{k}"].items():
            out.setdefault(method, np.empty(len(task.y_train), dtype=object))[val] = pred
    return {m: p.astype(str) for m, p in out.items()}


def select(tasks: list[ClipTask], python: str | None, names: list[str] | None = None) -> str:
    """Print the CV tables; return the name of the candidate with the best mean macro F1."""
    names = names or list(CANDIDATES)
    table: dict[str, dict[str, tuple[float, float]]] = {n: {} for n in names}
    for task in tasks:
        y = task.y_train.astype(str)
        n_folds = len(cv_folds(task))
        print(f"\n{task.name}: {len(y)} training clips, {n_folds} folds (groups held out)", flush=True)
        for n in names:
            t0 = time.perf_counter()
            table[n][task.name] = _scores(y, oof(task, CANDIDATES[n]))
            a, f = table[n][task.name]
            print(f"  {n:28s} acc {a:.4f}  macro F1 {f:.4f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        if python:
            for method, pred in rocket_oof(task, python).items():
                table.setdefault(method, {})[task.name] = _scores(y, pred)
                a, f = table[method][task.name]
                print(f"  {method:28s} acc {a:.4f}  macro F1 {f:.4f}", flush=True)
    rows = list(table)
    tn = [t.name for t in tasks]
    F = np.array([[table[r][t][1] for t in tn] for r in rows])
    ranks = (-F).argsort(axis=0).argsort(axis=0) + 1
    print("\nmacro F1 of the out-of-fold predictions (training clips only)")
    head = " ".join(f"{t[:12]:>12s}" for t in tn)
    print(f"  {'candidate':28s} {head} {'mean':>7s} {'mean rank':>9s}")
    for i, r in enumerate(rows):
        cells = " ".join(f"{v:12.4f}" for v in F[i])
        print(f"  {r:28s} {cells} {F[i].mean():7.4f} {ranks[i].mean():9.2f}")
    ours = [i for i, r in enumerate(rows) if r in CANDIDATES]
    print("\nleave one dataset out: the candidate the other datasets choose (best mean macro F1 there), "
          "and how it does on the one left out")  # fmt: skip
    for j, t in enumerate(tn):
        rest = [k for k in range(len(tn)) if k != j]
        pick = max(ours, key=lambda i: F[i, rest].mean())
        best = max(ours, key=lambda i: F[i, j])
        print(f"  left out {t:14s}: chosen '{rows[pick]}' -> {F[pick, j]:.4f} (rank {ranks[pick, j]} of "
              f"{len(rows)}); best there '{rows[best]}' {F[best, j]:.4f}")  # fmt: skip
    chosen = max(ours, key=lambda i: F[i].mean())
    print(f"\nchosen on all datasets: '{rows[chosen]}' (mean macro F1 {F[chosen].mean():.4f})")
    return rows[chosen]
