"""CPU cost of the default CNN before and after 50 % / 70 % pruning (MSR Action3D, seed 0).

Parameters, MACs, saved size, median latency at batch 1 and 64 (1 thread, 50 repeats) and
cross-subject accuracy, measured side by side in one run: ``python benchmarks/cnn_latency.py``.
A lighter companion of ``benchmarks/pruning.py`` for re-measuring latency on a quiet machine.
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
p50 = clf.prune(Xtr, ytr, ratio=0.5)
p70 = clf.prune(Xtr, ytr, ratio=0.7)
tab = cost_table({"unpruned": clf, "pruned 50%": p50, "pruned 70%": p70}, repeats=50, threads=1)
tab["accuracy"] = [m.score(Xte, yte) for m in (clf, p50, p70)]
pd.set_option("display.width", 250)
print(tab.to_string())
