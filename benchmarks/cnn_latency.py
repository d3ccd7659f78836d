"""CPU cost of the default CNN before and after 50 % / 70 % pruning (MSR Action3D, seed 0).

Parameters, MACs, saved size, median latency at batch 1 and 64 (1 thread, 50 repeats) and
cross-subject accuracy, measured side by side in one run: ``python benchmarks/cnn_latency.py``.
Pruned by the default global BN-scale ranking, and by the per-layer scope (every layer loses
half its channels; 2 steps, 80 fine-tuning epochs). A lighter companion of
``benchmarks/pruning.py`` for re-measuring latency on a quiet machine.
"""

import time

import pandas as pd

from skelbehave.datasets import load_msr_action3d
from skelbehave.models.cnn import CNNClassifier, cost_table

ds = load_msr_action3d()
tr, te = ds.train_test_split()
Xtr = [ds.sequences[i] for i in tr]
ytr = [ds.labels[i] for i in tr]
Xte = [ds.sequences[i] for i in te]
yte = [ds.labels[i] for i in te]
t = time.perf_counter()
clf = CNNClassifier(random_state=0).fit(Xtr, ytr)
print(f"fit {time.perf_counter() - t:.1f} s")
models = {"unpruned": clf}
for ratio in (0.5, 0.7):
    t = time.perf_counter()
    models[f"global {ratio:.0%}"] = clf.prune(Xtr, ytr, ratio=ratio)
    print(f"prune {ratio:.0%} + fine-tune {time.perf_counter() - t:.1f} s")
clf.set_params(prune_scope="layer", prune_steps=2)
t = time.perf_counter()
models["per-layer 50%"] = clf.prune(Xtr, ytr, ratio=0.5, finetune_epochs=80)
print(f"per-layer prune 50% + fine-tune {time.perf_counter() - t:.1f} s")
tab = cost_table(models, repeats=50, threads=1)
tab["accuracy"] = [m.score(Xte, yte) for m in models.values()]
pd.set_option("display.width", 250)
print(tab.to_string())
