"""CNN accuracy on MSR Action3D and UTD-MHAD: old vs new CNN defaults, the VLAD model and the ensemble.

Run from the repository root::

    python benchmarks/cnn_accuracy.py             # selection validation, then the test table (3 seeds)
    python benchmarks/cnn_accuracy.py --quick     # 1 seed, MSR only, short schedules (a smoke run)
    python benchmarks/cnn_accuracy.py --levers    # also each lever alone in the validation

Two parts, one run:

1. **Selection validation, training subjects only**, two folds. MSR
   Action3D: train subjects 1,3,5 / validate 7,9, and train 5,7,9 / validate
   1,3; UTD-MHAD: train 1,3,5 / validate 7, and train 3,5,7 / validate 1. The
   candidates: the CNN with its old defaults (``OLD``), with the new ones
   (``CNNClassifier()``), each lever alone (``--levers``) and the ensemble
   ``p = w p_cnn + (1 - w) p_vlad`` for ``w`` in 0.5 / 0.7 / 0.8 / 0.9 from the same
   fitted networks. This is how the defaults were chosen.
2. **Test table**, the test subjects used once: cross-subject (MSR train
   1,3,5,7,9 / test 2,4,6,8,10; UTD train 1,3,5,7 / test 2,4,6,8); per
   dataset the default VLAD model (``BehaviorModel()``), the CNN with old and
   new settings and ``classifier="ensemble"`` (its members are exactly the
   VLAD model and new CNN of the row above, fitted once: the ensemble's fit
   time is the sum of theirs), accuracy mean +- sd over the seeds, fit and
   predict seconds (one thread, this run, a shared machine: compare ratios).

Everything runs on one torch thread, one fit at a time.

Full run of 2026-12-01 (3 seeds; test accuracy %, MSR / UTD): VLAD default
89.9 / 96.1, CNN old settings 91.3 / 95.7, CNN new defaults (angles, vertical
rotation) 90.0 / 94.9, ensemble (CNN weight 0.7) 91.7 / 97.5. The ensemble
meets the UTD-MHAD target (96 %), not the MSR Action3D one (93 %); the new
CNN defaults, ahead on the two validation folds by 0.5 (MSR) and 1.1 (UTD)
points, are behind on the test subjects: the validation folds (53-114
sequences, seed sd 1-3 points) cannot separate such small differences.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from skelbehave.datasets import load_msr_action3d, load_utd_mhad
from skelbehave.models.cnn import CNNClassifier
from skelbehave.models.cnn.inputs import OLD_AUGMENT
from skelbehave.pipeline import BehaviorModel
from skelbehave.pipeline.clip_ensemble import DEFAULT_CNN_WEIGHT, EnsembleClassifier

#: name, loader, validation folds (held-out TRAINING subjects of each fold)
DATASETS = {
    "msr": ("MSR Action3D", load_msr_action3d, ([7, 9], [1, 3])),
    "utd": ("UTD-MHAD", load_utd_mhad, ([7], [1])),
}

#: the CNN defaults before this benchmark (README: 90.6 % MSR, 94.7 % UTD)
OLD: dict = {"angles": False, "augment": dict(OLD_AUGMENT)}

#: each lever alone, on top of the old settings (``--levers``)
LEVERS: dict[str, dict] = {
    "angles": {"angles": True},
    "rotate_vertical 30": {"augment": {**OLD_AUGMENT, "rotate_vertical": 30.0}},
    "time_warp 0.3": {"augment": {**OLD_AUGMENT, "time_warp": 0.3}},
    "joint_dropout 0.1": {"augment": {**OLD_AUGMENT, "joint_dropout": 0.1}},
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fit_timed(model, X, y):
    t0 = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - t0


def proba_timed(model, X):
    t0 = time.perf_counter()
    p = model.predict_proba(X)
    return p, time.perf_counter() - t0


def accuracy(classes, proba, y) -> float:
    return float(np.mean(np.asarray(classes)[proba.argmax(1)] == y))


def cnn(settings: dict, seed: int, quick: bool) -> CNNClassifier:
    extra = {"max_epochs": 15, "patience": 15} if quick else {}
    return CNNClassifier(random_state=seed, n_jobs=1, **settings, **extra)


def split(key: str, validation: bool, fold: int = 0):
    _, loader, folds = DATASETS[key]
    held = folds[fold]
    ds = loader()
    tr, te = ds.train_test_split()
    if validation:
        subj = np.asarray(ds.subjects)
        te = tr[np.isin(subj[tr], held)]
        tr = tr[~np.isin(subj[tr], held)]
    y = np.asarray(ds.labels)
    subj = np.asarray(ds.subjects)
    return (
        [ds.sequences[i] for i in tr],
        y[tr],
        [ds.sequences[i] for i in te],
        y[te],
        sorted(set(subj[tr].tolist())),
        sorted(set(subj[te].tolist())),
    )


def fmt(accs: list[float]) -> str:
    a = 100 * np.asarray(accs)
    return f"{a.mean():5.1f} +- {a.std():3.1f}"


def validation(keys, seeds, levers: bool, quick: bool, folds) -> None:
    print("\n## Selection validation (training subjects only)\n")
    print("| dataset | fold | candidate | val accuracy % (mean +- sd) | per seed |")
    print("|---|---|---|---|---|")
    for key, fold in ((k, f) for k in keys for f in folds):
        name = DATASETS[key][0]
        Xtr, ytr, Xva, yva, s_tr, s_va = split(key, validation=True, fold=fold)
        log(f"{name}: validation, train subjects {s_tr} / validate {s_va}: {len(ytr)} / {len(yva)} sequences")
        cands = {"CNN old settings": OLD, **({f"old + {k}": v for k, v in LEVERS.items()} if levers else {})}
        cands["CNN new defaults"] = {}
        res: dict[str, list[float]] = {}
        vlad_p, new_p = {}, {}
        for seed in seeds:
            vlad, _ = fit_timed(BehaviorModel(random_state=seed), Xtr, ytr)
            vlad_p[seed] = vlad.predict_proba(Xva)
            res.setdefault("VLAD default", []).append(accuracy(vlad.classes_, vlad_p[seed], yva))
            for cname, settings in cands.items():
                m, dt = fit_timed(cnn(settings, seed, quick), Xtr, ytr)
                p = m.predict_proba(Xva)
                res.setdefault(cname, []).append(accuracy(m.classes_, p, yva))
                log(f"  seed {seed} {cname}: {res[cname][-1]:.4f} ({dt:.0f} s)")
                if cname == "CNN new defaults":
                    new_p[seed] = p
                    classes = m.classes_
        for w in (0.5, 0.7, 0.8, 0.9):
            res[f"ensemble, cnn_weight {w}"] = [
                accuracy(classes, w * new_p[s] + (1 - w) * vlad_p[s], yva) for s in seeds
            ]
        for cname, accs in res.items():
            per = " ".join(f"{100 * a:.1f}" for a in accs)
            print(f"| {name} | validate {s_va} | {cname} | {fmt(accs)} | {per} |", flush=True)


def test_table(keys, seeds, quick: bool) -> None:
    rows: dict[tuple[str, str], dict[str, list[float]]] = {}
    for key in keys:
        name = DATASETS[key][0]
        Xtr, ytr, Xte, yte, s_tr, s_te = split(key, validation=False)
        log(f"{name}: test, train subjects {s_tr} / test {s_te}: {len(ytr)} / {len(yte)} sequences")
        for seed in seeds:
            vlad, fv = fit_timed(BehaviorModel(random_state=seed), Xtr, ytr)
            pv, tv = proba_timed(vlad, Xte)
            old, fo = fit_timed(cnn(OLD, seed, quick), Xtr, ytr)
            po, to = proba_timed(old, Xte)
            new, fn = fit_timed(cnn({}, seed, quick), Xtr, ytr)
            pn, tn = proba_timed(new, Xte)
            ens = EnsembleClassifier(vlad=BehaviorModel(random_state=seed), cnn=cnn({}, seed, quick))
            ens.vlad_, ens.cnn_, ens.classes_ = vlad, new, new.classes_  # the two members fitted above
            pe, te_ = proba_timed(ens, Xte)
            for label, classes, p, f, t in (
                ("VLAD default", vlad.classes_, pv, fv, tv),
                ("CNN old settings", old.classes_, po, fo, to),
                ("CNN new defaults", new.classes_, pn, fn, tn),
                (f"ensemble (cnn_weight {DEFAULT_CNN_WEIGHT})", ens.classes_, pe, fv + fn, te_),
            ):
                r = rows.setdefault((name, label), {"acc": [], "fit": [], "predict": []})
                r["acc"].append(accuracy(classes, p, yte))
                r["fit"].append(f)
                r["predict"].append(t)
            last = {label: r["acc"][-1] for (n, label), r in rows.items() if n == name}
            log(f"  seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    print(f"\n## Test subjects (used once), {len(seeds)} seed(s)\n")
    print("| dataset | model | accuracy % (mean +- sd) | fit s | predict s (all test clips) |")
    print("|---|---|---|---|---|")
    for (name, label), r in rows.items():
        print(
            f"| {name} | {label} | {fmt(r['acc'])} | {np.mean(r['fit']):.1f} | {np.mean(r['predict']):.2f} |",
            flush=True,
        )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 seed, MSR only, 15-epoch schedules")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["msr", "utd"])
    ap.add_argument("--levers", action="store_true", help="each lever alone in the validation")
    ap.add_argument("--no-validation", action="store_true", help="only the test table")
    ap.add_argument("--no-test", action="store_true", help="only the selection validation")
    ap.add_argument("--folds", type=int, nargs="+", choices=[0, 1], default=[0, 1],
                    help="validation folds: 0 holds out MSR 7,9 / UTD 7; 1 MSR 1,3 / UTD 1")  # fmt: skip
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    seeds = args.seeds[:1] if args.quick else args.seeds
    keys = ["msr"] if args.quick and args.datasets == ["msr", "utd"] else args.datasets
    if not args.no_validation:
        validation(keys, seeds, args.levers, args.quick, args.folds)
    if not args.no_test:
        test_table(keys, seeds, args.quick)


if __name__ == "__main__":
    main()
