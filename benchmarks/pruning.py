"""Lightweight CNN: accuracy and cost before/after network slimming, plain vs DO-Conv.

Cross-subject on MSR Action3D (train subjects 1,3,5,7,9) and UTD-MHAD (train
1,3,5,7), several seeds. Per dataset, seed and convolution type (plain /
DO-Conv) one two-stream network is trained with an L1 penalty on BatchNorm
scales; its test accuracy is reported fused and per stream (the position and
motion streams are separate networks, each with its own loss; the fused
validation accuracy drives early stopping). The trained network is then pruned
physically by each ratio, with one global ranking and with the same ratio in
every layer, and fine-tuned with distillation from the unpruned network.
Hyper-parameters are fixed in advance; nothing is tuned on test subjects.

``--fusion-rule`` picks how the streams' probabilities are averaged ("mean
fusion" rows use equal weights with the same rule).

``--validation N`` replaces the test subjects by the last N TRAINING subjects
(MSR Action3D: train 1,3,5 / validate 7,9 with N=2), the split on which the
defaults were chosen (2 seeds, plain convolution, validation accuracy):

- motion stream displacement -> displacement + acceleration: motion-only
  0.847 -> 0.882; bone vectors in the position stream: position-only 0.614 ->
  0.649; position centred per frame instead of per sequence: worse (0.575);
- fusion: mean of probabilities 0.820, position weight 0.3 0.890 (motion alone
  0.873); weights learnt on the 15 % early-stopping split were unstable (one
  seed put all weight on the position stream, 0.675), so 0.3 is fixed;
- BN-scale normaliser for the global ranking, 50 % / 70 % pruned after 20
  fine-tune epochs: group max 0.895 / 0.825, group mean 0.833 / 0.614, raw
  0.825 / 0.605 (unpruned 0.890); with max, 40 fine-tune epochs 0.899 / 0.860.

Second round (same validation split, 3 seeds unless noted; unpruned 0.9006):

- fine-tuning after 50 % global pruning: early stopping 0.899 (2 seeds); with
  distillation from the unpruned network 0.898; distillation and the full
  cosine schedule without early stopping 0.9006 (the default now);
- per-layer scope (every layer loses 50 %, parameters -70 %): one step 0.848;
  4 steps x 40 epochs 0.871; 2 steps x 80 epochs 0.886 (used below); 2 steps
  x 120 epochs 0.871; 1 step x 80 epochs 0.857. A half-width network trained
  from scratch: 0.813;
- global ranking normalised by group mean: parameters -70 %, 0.854; by group
  sum: -59 %, 0.784. Sparsity 1e-3 / 5e-3 instead of 1e-4: 0.855 / 0.794
  after pruning (2 seeds);
- unpruned variants, this split / the mirrored one (train 5,7,9, validate 1,3;
  default 0.9006 / 0.8024): channels 64-128 0.901 / 0.776; 100 epochs 0.868 /
  0.826; batch 16 0.883; mixup 0.2 0.883 / 0.791; normal-curve k_i 0.836 /
  0.761; kernel 5 0.877 / 0.782; non-local block 0.901 / 0.767; 96 frames
  0.874 / 0.794; weight EMA 0.98 0.889; no validation split 0.886 / 0.791.
  None beat the default on both, so it stays.

Leave-one-training-subject-out on MSR Action3D (subjects 1,3,5,7,9, seed 0),
accuracy change after 50 % pruning, plain / DO-Conv (unpruned 0.893 / 0.900):
global (default) +0.36 / -0.76 pp; global in 2 steps +0.40 / -1.47; global
without distillation +1.40 / -1.14; per-layer 2 x 80 epochs -0.74 / -0.79;
the same with fine-tuning at the full learning rate -0.28 / -2.22. One fold
holds 53-60 sequences (one sequence is 1.7-1.9 pp), so none of these
differences is clear of the noise; the defaults stay.

Fusion, leave-one-training-subject-out (seeds 0 and 1, position weight 0.3):
the geometric mean of the streams' probabilities (a weighted mean of
log-probabilities) against the arithmetic mean: MSR Action3D plain 0.907 vs
0.893, DO-Conv 0.925 vs 0.901, UTD-MHAD (training subjects 1,3,5,7) 0.941 vs 0.937; 0.3 was the best
weight for both rules on both datasets. Geometric is the default now. On the
test subjects, with the same networks, the arithmetic rule did slightly better
(MSR 0.910 / 0.910 vs 0.906 / 0.907; UTD 0.951 / 0.951 vs 0.947 / 0.951), which
is reported, not acted on.

Costs (inference form, DO-Conv folded, both streams): parameters, MACs per
sequence, saved size, and median CPU latency with one thread for a batch of 1
and of 64 sequences. The machine is shared: latencies are noisy, ratios within
one run are what counts.

Usage::

    python benchmarks/pruning.py                      # everything (long)
    python benchmarks/pruning.py --datasets msr --seeds 0 1 2 --csv rows.csv

Progress goes to stderr; the final table to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from skelbehave.datasets import load_msr_action3d, load_utd_mhad
from skelbehave.models.cnn import CNNClassifier
from skelbehave.models.cnn.report import model_cost

LOADERS = {"msr": ("MSR Action3D", load_msr_action3d), "utd": ("UTD-MHAD", load_utd_mhad)}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def evaluate(clf, Xte, yte) -> dict[str, float]:
    probs = clf.stream_proba(Xte)
    out = {s: float(np.mean(clf.classes_[p.argmax(1)] == yte)) for s, p in probs.items()}
    fused = clf.fuse(probs, {s: 1.0 / len(probs) for s in probs})  # equal weights, same rule
    out["fused_mean"] = float(np.mean(clf.classes_[fused.argmax(1)] == yte))
    out["fused"] = float(np.mean(clf.classes_[clf.fuse(probs).argmax(1)] == yte))  # = clf.predict
    return out


def holdout_split(ds, tr: np.ndarray, n_holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation split inside the training subjects: the last ``n_holdout`` of them held out."""
    subj = np.asarray(ds.subjects)[tr]
    held = np.unique(subj)[-n_holdout:]
    return tr[~np.isin(subj, held)], tr[np.isin(subj, held)]


def run(args) -> pd.DataFrame:
    torch.set_num_threads(args.threads)
    rows = []
    for key in args.datasets:
        name, loader = LOADERS[key]
        root = Path(args.data) / ("msr_action3d" if key == "msr" else "utd_mhad") if args.data else None
        ds = loader(root)
        tr, te = ds.train_test_split()
        if args.validation:
            tr, te = holdout_split(ds, tr, args.validation)
            subj = np.asarray(ds.subjects)
            log(
                f"{name}: VALIDATION mode, training subjects {sorted(set(subj[tr].tolist()))}"
                f" vs held-out training subjects {sorted(set(subj[te].tolist()))}"
            )
        Xtr = [ds.sequences[i] for i in tr]
        Xte = [ds.sequences[i] for i in te]
        ytr, yte = ds.labels[tr], ds.labels[te]
        log(f"{name}: {len(tr)} train / {len(te)} test sequences, {len(set(ytr.tolist()))} classes")
        for seed in args.seeds:
            for conv in args.convs:
                clf = CNNClassifier(
                    channels=tuple(args.channels),
                    n_frames=args.n_frames,
                    doconv=conv == "doconv",
                    sparsity=args.sparsity,
                    max_epochs=args.max_epochs,
                    patience=args.patience,
                    finetune_epochs=args.finetune_epochs,
                    prune_max_layer_ratio=args.max_layer_ratio,
                    prune_normalizer=None if args.normalizer == "none" else args.normalizer,
                    distillation=args.distillation,
                    fusion_rule=args.fusion_rule,
                    motion_features=tuple(args.motion_features),
                    bones=args.bones,
                    position_centre=args.position_centre,
                    fusion=args.fusion if args.fusion in ("mean", "weighted") else float(args.fusion),
                    lr=args.lr,
                    dropout=args.dropout,
                    n_jobs=args.threads,
                    random_state=seed,
                )
                t0 = time.perf_counter()
                clf.fit(Xtr, ytr)
                fit_s = time.perf_counter() - t0
                acc = evaluate(clf, Xte, yte)
                cost = model_cost(clf, repeats=args.repeats, threads=1)
                log(
                    f"{name} seed={seed} {conv}: fit {fit_s:.0f}s ({len(clf.history_)} epochs) "
                    f"acc {acc} params {cost['params']}"
                )
                base = {"dataset": name, "seed": seed, "conv": conv, "fit_s": fit_s}
                rows.append({**base, "config": "two-stream", "ratio": 0.0, "accuracy": acc["fused"], **cost})
                if args.fusion != "mean":
                    rows.append(
                        {**base, "config": "mean fusion", "ratio": 0.0, "accuracy": acc["fused_mean"], **cost}
                    )
                for s in clf.streams_:
                    single = {
                        **cost,
                        "params": cost["params"] // 2,  # each stream is half of the two-stream network
                        "macs": cost["macs"] // 2,
                        "size_bytes": np.nan,
                        "latency_ms_b1": np.nan,
                        "latency_ms_b64": np.nan,
                    }
                    rows.append({**base, "config": f"{s} only", "ratio": 0.0, "accuracy": acc[s], **single})
                for scope in args.scopes:
                    layer = scope == "layer"
                    clf.set_params(
                        prune_scope=scope,
                        prune_steps=args.layer_steps if layer else (args.steps or 1),
                    )
                    for ratio in args.ratios:
                        t0 = time.perf_counter()
                        small = clf.prune(
                            Xtr,
                            ytr,
                            ratio=ratio,
                            finetune_epochs=args.layer_finetune_epochs if layer else args.finetune_epochs,
                        )
                        ft_s = time.perf_counter() - t0
                        acc_p = evaluate(small, Xte, yte)
                        cost_p = model_cost(small, repeats=args.repeats, threads=1)
                        log(
                            f"{name} seed={seed} {conv} {scope} pruned {ratio:.0%}: fine-tune {ft_s:.0f}s "
                            f"acc {acc_p} params {cost_p['params']} macs {cost_p['macs']}"
                        )
                        rows.append(
                            {
                                **base,
                                "fit_s": ft_s,
                                "config": "two-stream, per-layer" if layer else "two-stream",
                                "ratio": ratio,
                                "accuracy": acc_p["fused"],
                                **cost_p,
                            }
                        )
                    if args.csv:
                        pd.DataFrame(rows).to_csv(args.csv, index=False)
                if args.csv:
                    pd.DataFrame(rows).to_csv(args.csv, index=False)
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["dataset", "config", "conv", "ratio"], sort=False)
    t = g.agg(
        seeds=("seed", "nunique"),
        params=("params", "median"),
        macs=("macs", "median"),
        size_kb=("size_bytes", lambda s: s.median() / 1024),
        lat_b1_ms=("latency_ms_b1", "median"),
        lat_b64_ms=("latency_ms_b64", "median"),
        acc_mean=("accuracy", "mean"),
        acc_std=("accuracy", "std"),
        time_s=("fit_s", "median"),
    ).reset_index()
    # ratios against the unpruned two-stream network of the same dataset and convolution
    base = t[(t.config == "two-stream") & (t.ratio == 0.0)].set_index(["dataset", "conv"])
    ref = t.set_index(["dataset", "conv"]).index.map(lambda k: k if k in base.index else None)
    b = base.reindex(ref)
    t["params_cut"] = 1 - t["params"].to_numpy() / b["params"].to_numpy()
    t["macs_cut"] = 1 - t["macs"].to_numpy() / b["macs"].to_numpy()
    t["speedup_b64"] = b["lat_b64_ms"].to_numpy() / t["lat_b64_ms"].to_numpy()
    t["acc_delta_pp"] = 100 * (t["acc_mean"].to_numpy() - b["acc_mean"].to_numpy())
    return t


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["msr", "utd"], choices=sorted(LOADERS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--convs", nargs="+", default=["plain", "doconv"], choices=["plain", "doconv"])
    p.add_argument("--ratios", nargs="*", type=float, default=[0.5, 0.7])
    p.add_argument("--channels", nargs="+", type=int, default=[48, 48, 96, 96])
    p.add_argument("--n-frames", type=int, default=64)
    p.add_argument("--sparsity", type=float, default=1e-4)
    p.add_argument("--max-epochs", type=int, default=50)
    p.add_argument("--patience", type=int, default=30)
    p.add_argument("--finetune-epochs", type=int, default=40)
    p.add_argument("--max-layer-ratio", type=float, default=0.9, help="most any one layer loses")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20, help="latency repeats")
    p.add_argument(
        "--motion-features",
        nargs="+",
        default=["displacement", "acceleration"],
        choices=["displacement", "acceleration"],
    )
    p.add_argument("--position-centre", default="sequence", choices=["sequence", "frame"])
    p.add_argument(
        "--no-bones", dest="bones", action="store_false", help="no bone vectors in the position stream"
    )
    p.add_argument(
        "--fusion",
        default="0.3",
        help="'mean', 'weighted' (validation log-loss) or the position stream's weight",
    )
    p.add_argument("--fusion-rule", default="geometric", choices=["arithmetic", "geometric"])
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--normalizer", default="max", choices=["mean", "max", "sum", "none"])
    p.add_argument(
        "--scopes",
        nargs="+",
        default=["global", "layer"],
        choices=["global", "layer"],
        help="pruning scopes: one global BN-scale ranking, and/or the same ratio in every layer",
    )
    p.add_argument("--steps", type=int, default=None, help="iterative pruning steps (global scope)")
    p.add_argument("--layer-steps", type=int, default=2, help="iterative pruning steps (per-layer scope)")
    p.add_argument("--layer-finetune-epochs", type=int, default=80, help="fine-tuning epochs (per-layer)")
    p.add_argument("--distillation", type=float, default=1.0, help="distillation weight in fine-tuning")
    p.add_argument(
        "--validation",
        type=int,
        default=0,
        metavar="N",
        help="hold out the last N TRAINING subjects as the evaluation set (for choosing settings)",
    )
    p.add_argument("--data", default=None, help="data root (default: SKELBEHAVE_DATA or ../shared/data)")
    p.add_argument("--csv", default=None, help="also write the per-run rows here")
    p.add_argument("--merge", nargs="+", default=None, help="only summarise these per-run CSVs")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    if args.merge:
        df = pd.concat([pd.read_csv(f) for f in args.merge], ignore_index=True)
        args.datasets = sorted(set(df["dataset"]))
        args.seeds = sorted(set(df["seed"].tolist()))
    else:
        df = run(args)
    table = summarise(df)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(
        f"# pruning benchmark: datasets={args.datasets} seeds={args.seeds} channels={args.channels} "
        f"T={args.n_frames} max_epochs={args.max_epochs} finetune={args.finetune_epochs} "
        f"sparsity={args.sparsity} motion={getattr(args, 'motion_features', None)} "
        f"bones={getattr(args, 'bones', None)} fusion={getattr(args, 'fusion', None)} "
        f"fusion_rule={getattr(args, 'fusion_rule', None)} "
        f"normalizer={getattr(args, 'normalizer', None)} scopes={getattr(args, 'scopes', None)} "
        f"steps={getattr(args, 'steps', None)} distillation={getattr(args, 'distillation', None)} "
        f"validation={getattr(args, 'validation', 0)} "
        f"({time.perf_counter() - t0:.0f} s); latency: median, 1 CPU thread"
    )
    fmt = {
        "params": "{:.0f}".format,
        "macs": "{:.3g}".format,
        "size_kb": "{:.0f}".format,
        "lat_b1_ms": "{:.2f}".format,
        "lat_b64_ms": "{:.1f}".format,
        "acc_mean": "{:.4f}".format,
        "acc_std": "{:.4f}".format,
        "time_s": "{:.0f}".format,
        "params_cut": "{:.1%}".format,
        "macs_cut": "{:.1%}".format,
        "speedup_b64": "{:.2f}x".format,
        "acc_delta_pp": "{:+.2f}".format,
    }
    print(table.to_string(index=False, formatters=fmt, na_rep="-"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
