"""CPU cost of the default CNN before and after 50 % / 70 % pruning (MSR Action3D, seed 0), torch and ONNX.

Parameters, MACs, saved size, median latency at batch 1 and 64 (1 thread, 50 repeats) and
cross-subject accuracy, measured side by side in one run: ``python benchmarks/cnn_latency.py``.
Pruned by the default global BN-scale ranking, and by the per-layer scope (every layer loses
half its channels; 2 steps, 80 fine-tuning epochs). A lighter companion of
``benchmarks/pruning.py`` for re-measuring latency on a quiet machine.

Then every network is exported to ONNX (:func:`skelbehave.pipeline.export.export_model`,
checked against torch on the test sequences) and the same module (standardisation, streams,
fusion) is timed in torch and in onnxruntime at batch 1 and 64, 1 thread each, on the same
real inputs, alternating the two runtimes in every repeat; the table gives both medians and
their ratio. ``--quick`` trains for 5 epochs and skips the per-layer network (a short run: the
latency ratio, not the accuracy, is what it is for).
"""

import argparse
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
import pandas as pd
import torch

from skelbehave.datasets import load_msr_action3d
from skelbehave.models.cnn import CNNClassifier, cost_table
from skelbehave.pipeline.export import cnn_inputs, deploy_module, export_model
from skelbehave.pipeline.persist import save

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--quick", action="store_true", help="5 training epochs, no per-layer network")
ap.add_argument("--repeats", type=int, default=50, help="timed runs per batch size and runtime")
args = ap.parse_args()

ds = load_msr_action3d()
tr, te = ds.train_test_split()
Xtr = [ds.sequences[i] for i in tr]
ytr = [ds.labels[i] for i in tr]
Xte = [ds.sequences[i] for i in te]
yte = [ds.labels[i] for i in te]
quick = {"max_epochs": 5, "finetune_epochs": 2} if args.quick else {}
t = time.perf_counter()
clf = CNNClassifier(random_state=0, **quick).fit(Xtr, ytr)
print(f"fit {time.perf_counter() - t:.1f} s" + (" (--quick: 5 epochs)" if args.quick else ""))
models = {"unpruned": clf}
for ratio in (0.5, 0.7):
    t = time.perf_counter()
    models[f"global {ratio:.0%}"] = clf.prune(Xtr, ytr, ratio=ratio)
    print(f"prune {ratio:.0%} + fine-tune {time.perf_counter() - t:.1f} s")
if not args.quick:
    clf.set_params(prune_scope="layer", prune_steps=2)
    t = time.perf_counter()
    models["per-layer 50%"] = clf.prune(Xtr, ytr, ratio=0.5, finetune_epochs=80)
    print(f"per-layer prune 50% + fine-tune {time.perf_counter() - t:.1f} s")
tab = cost_table(models, repeats=args.repeats, threads=1)
tab["accuracy"] = [m.score(Xte, yte) for m in models.values()]
pd.set_option("display.width", 250)
print(tab.to_string())

# ---------------------------------------------------------------- torch vs onnxruntime, same module
torch.set_num_threads(1)
opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
opts.log_severity_level = 3
rows = []
with tempfile.TemporaryDirectory() as d:
    for name, m in models.items():
        path = save(m, f"{d}/{name.replace(' ', '_').replace('%', '')}.skb")
        res = export_model(path, d, check_sequences=Xte)
        net, streams = deploy_module(m)
        sess = ort.InferenceSession(str(res.onnx), opts, providers=["CPUExecutionProvider"])
        raw = cnn_inputs(m, Xte)
        for batch in (1, 64):
            feeds = {s: np.ascontiguousarray(raw[s][:batch]) for s in streams}
            tens = [torch.from_numpy(feeds[s]) for s in streams]
            with torch.no_grad():
                for _ in range(5):  # warm-up
                    net(*tens)
                    sess.run(["probabilities"], feeds)
                t_torch, t_ort = [], []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    p_torch = net(*tens)[0]
                    t_torch.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    p_ort = sess.run(["probabilities"], feeds)[0]
                    t_ort.append(time.perf_counter() - t0)
            mt, mo = statistics.median(t_torch) * 1e3, statistics.median(t_ort) * 1e3
            rows.append({
                "model": name,
                "batch": batch,
                "torch_ms": round(mt, 3),
                "onnxruntime_ms": round(mo, 3),
                "torch/onnxruntime": round(mt / mo, 2),
                "max_abs_diff": float(np.max(np.abs(p_torch.numpy() - p_ort))),
                "export_check_diff": res.max_abs_diff,
            })  # fmt: skip
print(f"\ntorch {torch.__version__} vs ORT {ort.__version__}: median of {args.repeats} runs, 1 thread")
print(pd.DataFrame(rows).to_string(index=False))
