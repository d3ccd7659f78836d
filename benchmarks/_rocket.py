"""aeon's MiniRocket and MultiRocket-Hydra on prepared arrays: the accuracy benchmark's baselines.

aeon 1.6 pins numba < 0.64 and pandas < 3.1, so it may not install next to
skelbehave; :mod:`benchmarks.accuracy` then runs this file with another
interpreter (``--rocket-python``). It needs numpy and aeon only. Input: an
``.npz`` with, per task ``t``, ``t/X_train`` (n, channels, time), ``t/y_train``,
``t/X_test`` and ``t/y_test``. Output: an ``.npz`` with ``t/method/pred`` and
``t/method/seconds`` (fit, predict: best of ``--repeats`` rounds; every round's
predictions must match). A warm-up fit on a few training series first fills
numba's compile caches, so the times compare work, not compilation.

Usage::

    python benchmarks/_rocket.py IN.npz OUT.npz [--repeats N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

METHODS = ("MiniRocket", "MultiRocket-Hydra")


def make(method: str, seed: int):
    from aeon.classification.convolution_based import MiniRocketClassifier, MultiRocketHydraClassifier

    if method == "MiniRocket":
        return MiniRocketClassifier(random_state=seed, n_jobs=1)
    return MultiRocketHydraClassifier(random_state=seed, n_jobs=1)


def run(tasks: dict[str, dict[str, np.ndarray]], repeats: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Fit and predict each method on each task; ``{"task/method/pred": ..., "task/method/seconds": ...}``."""
    out: dict[str, np.ndarray] = {}
    for name, t in tasks.items():
        ytr = t["y_train"]
        warm = np.concatenate([np.flatnonzero(ytr == c)[:2] for c in np.unique(ytr)])
        for method in METHODS:
            make(method, seed).fit(t["X_train"][warm], ytr[warm]).predict(t["X_test"][:3])
        best: dict[str, list] = {}
        for _ in range(repeats):  # rounds interleave the methods
            for method in METHODS:
                m = make(method, seed)
                t0 = time.perf_counter()
                m.fit(t["X_train"], ytr)
                t1 = time.perf_counter()
                pred = m.predict(t["X_test"])
                t2 = time.perf_counter()
                if method in best:
                    if not np.array_equal(best[method][0], pred):
                        raise AssertionError(f"{name} {method}: predictions changed between rounds")
                    best[method][1] = min(best[method][1], t1 - t0)
                    best[method][2] = min(best[method][2], t2 - t1)
                else:
                    best[method] = [pred, t1 - t0, t2 - t1]
        for method, (pred, fit_s, pred_s) in best.items():
            out[f"{name}/{method}/pred"] = np.asarray(pred).astype(str)
            out[f"{name}/{method}/seconds"] = np.array([fit_s, pred_s])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with np.load(a.inp, allow_pickle=False) as z:
        tasks: dict[str, dict[str, np.ndarray]] = {}
        for key in z.files:
            name, field = key.rsplit("/", 1)
            tasks.setdefault(name, {})[field] = z[key]
    np.savez(a.out, **run(tasks, a.repeats, a.seed))


if __name__ == "__main__":
    main()
