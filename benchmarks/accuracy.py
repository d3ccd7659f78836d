"""Accuracy benchmark: the default clip model, the CNN, the ensemble, MiniRocket and MultiRocket-Hydra.

Run from the repository root::

    python benchmarks/accuracy.py                  # the test table, every clip task, one run
    python benchmarks/accuracy.py --tune           # first: how the defaults were chosen (CV, training clips)
    python benchmarks/accuracy.py --tasks msr_action3d,utd_mhad --no-cnn

Tasks (``benchmarks/_clip_tasks.py``): MSR Action3D, UTD-MHAD, the trimmed
PRECOG action segments (cross-subject, the datasets' training subjects) and
two-rat clips cut from the rat dyads (train recordings 1-8, test 9-12).

Methods, each fitted on the training clips and scored once on the test clips:

- ``default``: ``BehaviorModel()`` as a user gets it (VLAD + ridge); on the
  rat clips it takes each clip as a recording of two individuals;
- ``cnn``: ``BehaviorModel(classifier="cnn")`` (needs torch); ``ensemble``:
  ``classifier="ensemble"`` where the package offers it. Both get one
  sequence per clip (the two rats in one layout);
- ``MiniRocket`` and ``MultiRocket-Hydra``: aeon's classifiers on sequences
  resampled to 64 frames and root-centred (channels = joints x coordinates).
  aeon 1.6 pins numba < 0.64 and pandas < 3.1, which may not install next to
  skelbehave; then it runs in its own environment, given by
  ``--rocket-python`` or ``$SKELBEHAVE_ROCKET_PYTHON``::

      python -m venv /tmp/aeonenv
      /tmp/aeonenv/bin/pip install aeon==1.6.0 torch==2.13.0   # Hydra needs torch

Everything runs on one thread. Warm-up fits on a few clips first fill the
numba caches, so fit times compare work, not compilation; the Rockets'
resampling is not timed. Times are of this run on a shared machine: compare
the ratios. ``--tune`` runs :func:`_clip_cv.select`: grouped CV over the
training clips of all four tasks at once, with a leave-one-dataset-out view.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from _clip_tasks import TASKS, ClipTask, load_task, rocket_python, run_rockets

from skelbehave.pipeline import BehaviorModel

SEED = 0
ROCKETS = ("MiniRocket", "MultiRocket-Hydra")


def _has_torch() -> bool:
    from skelbehave._util.optional import missing

    return not missing(("torch",))


def _offers_ensemble() -> bool:
    try:
        from skelbehave.pipeline import clip_ensemble  # noqa: F401
    except ImportError:
        return False
    return True


def ours(task: ClipTask, classifier: str | None) -> tuple[np.ndarray, float, float]:
    """Fit on the training clips and predict the test clips; (pred, fit s, predict s)."""
    kw = {} if classifier is None else {"classifier": classifier}
    Xtr, Xte = (task.X_train, task.X_test) if classifier is None else (task.flat_train, task.flat_test)
    warm = np.concatenate([np.flatnonzero(task.y_train == c)[:2] for c in np.unique(task.y_train)])
    if classifier is None:  # numba caches and imports; the CNN's warm-up would be a training of its own
        BehaviorModel(random_state=SEED, n_jobs=1).fit([Xtr[i] for i in warm], task.y_train[warm])
    model = BehaviorModel(random_state=SEED, n_jobs=1, **kw)
    t0 = time.perf_counter()
    model.fit(Xtr, task.y_train)
    t1 = time.perf_counter()
    pred = model.predict(Xte)
    return np.asarray(pred).astype(str), t1 - t0, time.perf_counter() - t1


def run(tasks: list[ClipTask], methods: list[str], python: str | None) -> dict[str, dict[str, tuple]]:
    res: dict[str, dict[str, tuple]] = {}
    for task in tasks:
        res[task.name] = {}
        for m in methods:
            print(f"  {task.name}: {m} ...", flush=True)
            res[task.name][m] = ours(task, None if m == "default" else m)
    if python:
        print("  MiniRocket, MultiRocket-Hydra ...", flush=True)
        got = run_rockets({t.name: (t.flat_train, t.y_train, t.flat_test) for t in tasks}, python, seed=SEED)
        for name, by_method in got.items():
            res[name].update(by_method)
    return res


def report(tasks: list[ClipTask], res: dict[str, dict[str, tuple]]) -> None:
    for task in tasks:
        y = task.y_test.astype(str)
        print(f"\n{task.name}: {len(task.y_train)} train / {len(y)} test clips, {len(np.unique(y))} classes")
        cols = f"{'accuracy':>8s} {'macroF1':>8s} {'fit s':>8s} {'pred s':>8s} {'clips/s':>9s}"
        print(f"  {'method':20s} {cols}")
        for m, (pred, fit_s, pred_s) in res[task.name].items():
            acc, f1 = accuracy_score(y, pred), f1_score(y, pred, average="macro")
            print(f"  {m:20s} {acc:8.4f} {f1:8.4f} {fit_s:8.2f} {pred_s:8.2f} {len(y) / pred_s:9.1f}")
    methods = list(next(iter(res.values())))
    print("\naccuracy (macro F1), test clips")
    print(f"  {'task':14s} " + " ".join(f"{m:>19s}" for m in methods))
    for task in tasks:
        y = task.y_test.astype(str)
        cells = []
        for m in methods:
            pred = res[task.name][m][0]
            cells.append(f"{accuracy_score(y, pred):.4f} ({f1_score(y, pred, average='macro'):.4f})")
        print(f"  {task.name:14s} " + " ".join(f"{c:>19s}" for c in cells))
    if not all(r in methods for r in ROCKETS):
        return
    print("\ndoes the default lead both Rockets? (accuracy, and macro F1)")
    for task in tasks:
        y = task.y_test.astype(str)
        d = res[task.name]["default"][0]
        for r in ROCKETS:
            p = res[task.name][r][0]
            da = 100 * (accuracy_score(y, d) - accuracy_score(y, p))
            df = 100 * (f1_score(y, d, average="macro") - f1_score(y, p, average="macro"))
            fit_x = res[task.name]["default"][1] / res[task.name][r][1]
            pred_x = res[task.name]["default"][2] / res[task.name][r][2]
            print(f"  {task.name:14s} vs {r:18s}: accuracy {da:+5.1f} pp, macro F1 {df:+5.1f} pp; "
                  f"default's fit time {fit_x:.2f}x, predict time {pred_x:.2f}x the Rocket's")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true", help="first run the CV that chose the defaults")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)}")
    ap.add_argument("--rocket-python", help="an interpreter that can import aeon (see the docstring)")
    ap.add_argument("--no-cnn", action="store_true", help="leave out the CNN and the ensemble")
    args = ap.parse_args(argv)
    import sklearn

    from skelbehave.pipeline.clip_defaults import DEFAULT_CLASSIFIER, DEFAULT_ENCODER, DEFAULT_FEATURES

    print(f"skelbehave accuracy benchmark (seed {SEED}, one thread; numpy {np.__version__}, "
          f"scikit-learn {sklearn.__version__})")  # fmt: skip
    print(f"default: features {DEFAULT_FEATURES}; VLAD {DEFAULT_ENCODER}; head {DEFAULT_CLASSIFIER!r}")
    tasks = [load_task(t) for t in args.tasks.split(",")]
    python = rocket_python(args.rocket_python)
    if python is None:
        print("MiniRocket / MultiRocket-Hydra left out: aeon cannot be imported; see --rocket-python")
    if args.tune:
        import _clip_cv

        _clip_cv.select(tasks, python)
    methods = ["default"]
    if not args.no_cnn and _has_torch():
        methods.append("cnn")
        if _offers_ensemble():
            methods.append("ensemble")
    print("\ntest run")
    report(tasks, run(tasks, methods, python))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
