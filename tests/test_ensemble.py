"""classifier="ensemble": the VLAD model and the CNN, probabilities averaged; fit, predict, save, load."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import skelbehave  # noqa: E402
from skelbehave.errors import ModelFileError, ParameterError  # noqa: E402
from skelbehave.io.archive import read_archive, write_archive  # noqa: E402
from skelbehave.models.cnn import CNNClassifier  # noqa: E402
from skelbehave.pipeline import BehaviorModel  # noqa: E402
from skelbehave.pipeline.clip_ensemble import EnsembleClassifier  # noqa: E402

pytestmark = pytest.mark.cnn

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def msr_small(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    y = np.asarray(ds.labels)
    subj = np.asarray(ds.subjects)
    keep = np.isin(y, np.unique(y)[:4])
    tr = np.flatnonzero(keep & np.isin(subj, [1, 3, 5]))
    te = np.flatnonzero(keep & np.isin(subj, [2]))
    return [ds.sequences[i] for i in tr], y[tr], [ds.sequences[i] for i in te], y[te]


@pytest.fixture(scope="module")
def fitted(msr_small):
    Xtr, ytr, _, _ = msr_small
    cnn = CNNClassifier(channels=(8, 8), n_frames=24, max_epochs=3)
    ens = EnsembleClassifier(vlad=BehaviorModel(), cnn=cnn)
    return BehaviorModel(classifier=ens, random_state=0).fit(Xtr, ytr)


def test_ensemble_probabilities_are_the_weighted_mean_of_its_members(fitted, msr_small):
    _, ytr, Xte, _ = msr_small
    ens = fitted.classifier_
    assert fitted.encoder_ is None and list(fitted.classes_) == sorted(set(ytr.tolist()))
    members = ens.member_proba(Xte)
    proba = fitted.predict_proba(Xte)
    assert np.allclose(proba, 0.3 * members["vlad"] + 0.7 * members["cnn"])
    assert np.allclose(proba.sum(1), 1.0)
    assert np.array_equal(fitted.predict(Xte), fitted.classes_[proba.argmax(1)])
    # the VLAD member's probabilities are its calibrated ones
    assert ens.vlad_.calibrator_ is not None
    assert np.allclose(members["vlad"], ens.vlad_.predict_proba(Xte))
    assert np.allclose(ens.combine(members, 1.0), members["cnn"])


def test_ensemble_saves_and_loads_and_rejects_a_bad_file(fitted, msr_small, tmp_path):
    _, _, Xte, _ = msr_small
    path = fitted.save(tmp_path / "ens.skb")
    back = skelbehave.load(path)
    assert type(back.classifier_).__name__ == "EnsembleClassifier"
    assert np.allclose(back.predict_proba(Xte), fitted.predict_proba(Xte), atol=1e-6)

    def tampered(change) -> str:
        model, arrays = read_archive(path)
        model = {k: v for k, v in model.items() if k != "_manifest"}
        change(model["params"]["classifier"]["params"])
        return str(write_archive(tmp_path / "bad.skb", model, arrays))

    def heavy(p):
        p["cnn_weight"] = 2.0

    def nested(p):
        p["vlad"]["params"]["classifier"] = {"kind": "CNNClassifier", "params": {}}

    def swapped(p):
        p["cnn"], p["vlad"] = p["vlad"], p["cnn"]

    for change, words in ((heavy, "cnn_weight"), (nested, "VLAD member"), (swapped, "not allowed")):
        with pytest.raises(ModelFileError, match=words):
            skelbehave.load(tampered(change))


def test_classifier_ensemble_by_name_builds_both_members(msr_small):
    model = BehaviorModel(classifier="ensemble", random_state=3, n_jobs=1)
    feats, enc, clf = model._make_components()
    assert feats is None and enc is None and isinstance(clf, EnsembleClassifier)
    assert clf.vlad.n_jobs == 1 and clf.vlad.random_state == clf.random_state is not None
    with pytest.raises(ParameterError, match="cnn_weight"):
        EnsembleClassifier(vlad=BehaviorModel(), cnn_weight=1.5).fit(*msr_small[:2])
    with pytest.raises(ParameterError, match="vlad"):
        EnsembleClassifier(vlad=BehaviorModel(classifier="cnn")).fit(*msr_small[:2])


def test_ensemble_export_says_what_cannot_be_exported(fitted, tmp_path):
    pytest.importorskip("onnxruntime")
    from skelbehave.pipeline.export import export_model

    with pytest.raises(ParameterError, match="the VLAD model and the CNN"):
        export_model(fitted, tmp_path)
