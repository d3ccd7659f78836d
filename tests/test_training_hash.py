"""Models record a SHA-256 of their training data; it survives save / load and reaches the model card."""

from __future__ import annotations

import numpy as np
import pytest

import skelbehave
from skelbehave.datasets import load_precog
from skelbehave.errors import ModelFileError
from skelbehave.io.archive import read_archive, write_archive
from skelbehave.pipeline.persist import training_data_sha256


@pytest.fixture(scope="module")
def precog_small():
    ds = load_precog()
    idx = np.flatnonzero(np.isin(ds.subjects, [1, 2]))
    return [ds.sequences[i] for i in idx], [ds.label_names[i] for i in idx]


def _frame_model(X, y):
    model = skelbehave.FrameLevelModel(window=15, classifier_params={"n_estimators": 5}, random_state=0)
    return model.fit(X, y)


def test_frame_model_hash_is_the_data_hash_and_survives_saving(precog_small, tmp_path):
    X, y = precog_small
    m = _frame_model(X, y)
    assert m.training_data_sha256_ == training_data_sha256(X, y)
    changed = [y[0].copy(), *y[1:]]
    changed[0][0] = changed[0][-1] if changed[0][0] != changed[0][-1] else "other"
    assert training_data_sha256(X, changed) != m.training_data_sha256_  # one label differs
    back = skelbehave.load(m.save(tmp_path / "m.skb"))
    assert back.training_data_sha256_ == m.training_data_sha256_


def test_a_malformed_hash_in_a_model_file_is_refused(precog_small, tmp_path):
    X, y = precog_small
    path = _frame_model(X, y).save(tmp_path / "m.skb")
    doc, arrays = read_archive(path)
    doc.pop("_manifest")
    doc["training_data_sha256"] = "<script>"
    write_archive(tmp_path / "bad.skb", doc, arrays)  # valid checksums, bad field
    with pytest.raises(ModelFileError, match="training_data_sha256"):
        skelbehave.load(tmp_path / "bad.skb")


def test_clip_model_hash_and_the_export_card(tmp_path):
    pytest.importorskip("skl2onnx", reason="needs the export extra")
    from skelbehave.datasets import load_msr_action3d
    from skelbehave.pipeline.export import export_model

    ds = load_msr_action3d()
    keep = np.flatnonzero(np.isin(ds.labels, [1, 5, 10]))[:30]
    X, y = [ds.sequences[i] for i in keep], [f"a{ds.labels[i]}" for i in keep]
    m = skelbehave.fit(X, y, n_clusters=4, random_state=0)
    assert m.training_data_sha256_ == training_data_sha256(X, y)
    path = m.save(tmp_path / "m.skb")
    assert skelbehave.load(path).training_data_sha256_ == m.training_data_sha256_
    res = export_model(path, tmp_path / "onnx")
    assert res.card["training_data_sha256"] == m.training_data_sha256_
    assert res.card["training_data_note"] is None
    # the card's calibration turns the graph's scores into the model's own probabilities
    import onnxruntime as ort
    from scipy.special import softmax

    cal = res.card["calibration"]
    assert cal["method"] == "temperature" and cal["beta"] > 0
    sess = ort.InferenceSession(str(res.onnx), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    F = np.asarray(m.transform(X[:6]), dtype=np.float64 if "double" in inp.type else np.float32)
    names = [o.name for o in sess.get_outputs()]
    scores = dict(zip(names, sess.run(None, {inp.name: F}), strict=True))["scores"]
    logits = np.concatenate([-scores, scores], axis=1) if scores.shape[1] == 1 else scores  # as the card says
    np.testing.assert_allclose(softmax(cal["beta"] * logits, axis=1), m.predict_proba(X[:6]), atol=1e-5)
