"""How the first-release model files in this folder were made (kept for reference; not a test).

Run with the first release on the path::

    git worktree add /tmp/v1 057309b
    PYTHONPATH=/tmp/v1 python tests/data/v1/make_v1.py tests/data/v1

It trains and saves (a) a BehaviorModel with the default ridge head and the fused VLAD with
acceleration blocks (first-release encoder options), (b) one with classifier="logreg", (c) a tiny CNN
(max_epochs=2), on MSR Action3D actions 2, 6, 13, 16 of subjects 1-3, and (d) a FrameLevelModel with
a context stage on five PRECOG streams of subjects 1-2, and records their predictions in
predictions.json (read by tests/test_persist.py).
"""

import json
import sys

import numpy as np

import skelbehave
from skelbehave.datasets import load_msr_action3d, load_precog
from skelbehave.encoding import VLADEncoder
from skelbehave.models.cnn import CNNClassifier
from skelbehave.pipeline import BehaviorModel
from skelbehave.temporal import FrameLevelModel  # first release: FrameLevelModel lived in temporal.py

assert skelbehave.__file__.startswith("/tmp/v1"), skelbehave.__file__

out = sys.argv[1]
data = "/work/shared/data"
ds = load_msr_action3d(data + "/msr_action3d")
keep = np.flatnonzero(np.isin(ds.labels, (2, 6, 13, 16)) & np.isin(ds.subjects, (1, 2, 3)))
X = [ds.sequences[i] for i in keep]
y = ds.labels[keep]
test_idx = [0, 3, 7, 11, 15, 19]
preds = {}
Xt = [X[i] for i in test_idx]
# msr test sequence ids so the test can rebuild them
preds["msr_sources"] = [X[i].meta["source"].split("/")[-1] for i in test_idx]

m = BehaviorModel(
    random_state=0,
    encoder=VLADEncoder(
        n_clusters=4, pyramid_levels=2, fuse=True, disp_weight=2.0, delta_step=2, delta_weight=3.0
    ),
).fit(X, y)
m.save(out + "/behavior_ridge.skb")
preds["behavior_ridge"] = {"pred": m.predict(Xt).tolist(), "proba": m.predict_proba(Xt).tolist()}

m = BehaviorModel(
    random_state=0, classifier="logreg", encoder=VLADEncoder(n_clusters=4, pyramid_levels=2)
).fit(X, y)
m.save(out + "/behavior_logreg.skb")
preds["behavior_logreg"] = {"pred": m.predict(Xt).tolist(), "proba": m.predict_proba(Xt).tolist()}

cnn = CNNClassifier(
    layout="msr20", channels=(8, 8), n_frames=16, max_epochs=2, finetune_epochs=0, random_state=0
)
m = BehaviorModel(random_state=0, classifier=cnn).fit(X, y)
m.save(out + "/behavior_cnn.skb")
preds["behavior_cnn"] = {"pred": m.predict(Xt).tolist(), "proba": m.predict_proba(Xt).tolist()}

pc = load_precog(data + "/precog_2016")
idx = [i for i, s in enumerate(pc.subjects) if s in (1, 2)][:6]
R = [pc.sequences[i] for i in idx]
L = [pc.labels[i] for i in idx]
fm = FrameLevelModel(window=15, n_estimators=8, random_state=0, context_folds=2, ignore_labels=None).fit(
    R[:5], L[:5]
)
fm.save(out + "/frame_level.skb")
preds["frame_level"] = {
    "source": R[5].meta["source"].split("/")[-1],
    "pred": fm.predict([R[5]])[0].tolist(),
    "proba": fm.predict_proba([R[5]])[0].round(12).tolist(),
}
preds["frame_train_sources"] = [r.meta["source"].split("/")[-1] for r in R[:5]]
with open(out + "/predictions.json", "w") as fh:
    json.dump(preds, fh)
print("ok")
