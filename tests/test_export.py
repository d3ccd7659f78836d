"""ONNX export (issue 17 item 4): the CNN through torch.onnx, linear heads through skl2onnx, the model card.

A small CNN and a linear head are trained here on real MSR Action3D subjects;
onnxruntime must give the torch / scikit-learn outputs (within 1e-5) on
held-out real sequences.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch", reason="the CNN needs the cnn extra")
pytest.importorskip("onnxruntime", reason="export needs the export extra")
pytest.importorskip("skl2onnx", reason="export needs the export extra")

import onnxruntime as ort

import skelbehave
from skelbehave._util.fs import file_sha256
from skelbehave.cli import main
from skelbehave.datasets import load_precog
from skelbehave.errors import ParameterError
from skelbehave.io import write_poses
from skelbehave.models.cnn import CNNClassifier
from skelbehave.pipeline.export import cnn_inputs, export_model
from skelbehave.pipeline.persist import save

pytestmark = pytest.mark.cnn

ACTIONS = [1, 5, 10, 13, 14, 16]  # high arm wave, forward punch, hand clap, bend, forward kick, jogging


@pytest.fixture(scope="module")
def msr(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.isin(ds.labels, ACTIONS)
    tr, te = ds.train_test_split()
    tr, te = tr[keep[tr]][::2], te[keep[te]][::3]
    seqs = ds.sequences
    return [seqs[i] for i in tr], ds.labels[tr], [seqs[i] for i in te], ds.labels[te]


@pytest.fixture(scope="module")
def cnn_file(msr, tmp_path_factory):
    Xtr, ytr, _, _ = msr
    clf = CNNClassifier(
        layout="msr20", channels=(16, 16), n_frames=32, max_epochs=3, finetune_epochs=1, prune_ratio=0.5,
        doconv=True, sparsity=1e-4, fusion="weighted", n_jobs=1, random_state=0,
    ).fit(Xtr, ytr)  # fmt: skip
    return clf, save(clf, tmp_path_factory.mktemp("cnn") / "msr_cnn.skb")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_cnn_onnx_matches_torch_on_real_held_out_sequences(cnn_file, msr, tmp_path):
    clf, path = cnn_file
    _, _, Xte, _ = msr
    no_pose = skelbehave.PoseSequence(np.zeros((30, 20, 3)), "msr20")  # Kinect's "not tracked": left out
    res = export_model(path, tmp_path / "deploy", check_sequences=[*Xte, no_pose])
    assert res.onnx == tmp_path / "deploy" / "msr_cnn.onnx" and res.onnx.is_file()
    assert res.max_abs_diff <= 1e-5 and res.card["parity"]["checked_on"] == f"{len(Xte)} real sequences"
    inputs = cnn_inputs(clf, Xte)
    sess = _session(res.onnx)
    assert [i.name for i in sess.get_inputs()] == list(clf.streams_)
    want = skelbehave.load(path).predict_proba(Xte)  # the loaded model, through torch
    for batch in (inputs, {k: v[:1] for k, v in inputs.items()}):  # dynamic batch axis
        got = sess.run(["probabilities"], batch)[0]
        n = len(got)
        assert got.shape == (n, len(ACTIONS))
        assert float(np.max(np.abs(got - want[:n]))) <= 1e-5
    labels = clf.classes_[sess.run(["probabilities"], inputs)[0].argmax(1)]
    assert (labels == clf.predict(Xte)).all()


def test_cnn_card_records_the_model_and_the_graph(cnn_file, msr, tmp_path):
    clf, path = cnn_file
    res = export_model(path, tmp_path)
    card = json.loads(res.card_path.read_text())
    assert card == json.loads(json.dumps(res.card))
    assert card["model_kind"] == "CNNClassifier"
    assert card["classes"] == ACTIONS
    assert card["layout"]["name"] == "msr20"
    assert card["package_version"] == skelbehave.__version__
    assert card["source_model"]["sha256"] == file_sha256(path)
    assert card["source_model"]["format_version"] == 2
    assert card["graph"]["sha256"] == file_sha256(res.onnx)
    ins = {i["name"]: i for i in card["graph"]["inputs"]}
    for s in clf.streams_:
        assert ins[s]["shape"] == ["batch", len(clf.input_mean_[s]), 32] and ins[s]["dtype"] == "float32"
    outs = {o["name"]: o["shape"] for o in card["graph"]["outputs"]}
    assert outs["probabilities"] == ["batch", len(ACTIONS)]
    assert card["metrics"]["pruning"]["ratio"] == 0.5
    assert "synthetic" in card["parity"]["checked_on"] and card["parity"]["max_abs_diff"] <= 1e-5
    assert any("make_inputs" in step for step in card["graph"]["python_steps"])


@pytest.mark.parametrize("head", ["svm", "ridge"])
def test_linear_head_through_skl2onnx_predicts_the_same_labels(msr, tmp_path, head):
    Xtr, ytr, Xte, _ = msr
    model = skelbehave.fit(Xtr, ytr, n_clusters=8, classifier=head, random_state=0)
    path = model.save(tmp_path / f"msr_{head}.skb")
    res = export_model(path, tmp_path, check_sequences=Xte)
    F = model.transform(Xte)
    double = _session(res.onnx).get_inputs()[0].type == "tensor(double)"
    feed = F.astype(np.float64 if double else np.float32)
    label, scores = _session(res.onnx).run(["label", "scores"], {"features": feed})
    np.testing.assert_array_equal(label, model.predict(Xte))
    assert float(np.max(np.abs(scores - model.classifier_.decision_function(F)))) <= 1e-5
    card = res.card
    assert card["model_kind"] == "BehaviorModel" and card["head"] in ("LinearSVC", "RidgeClassifier")
    assert card["layout"]["name"] == "msr20" and card["classes"] == ACTIONS
    assert "head only" in card["graph"]["covers"]
    assert any("VLADEncoder" in step for step in card["graph"]["python_steps"])
    assert card["graph"]["inputs"][0]["shape"] == [None, model.n_features_out_]


def test_cli_export_says_what_the_graph_covers(msr, tmp_path, capsys):
    Xtr, ytr, Xte, _ = msr
    model = skelbehave.fit(Xtr, ytr, n_clusters=8, classifier="ridge", random_state=0)
    path = model.save(tmp_path / "msr.skb")
    poses = tmp_path / "held_out.csv"
    write_poses(poses, Xte[:4])
    assert (
        main(["export", str(path), "--format", "onnx", "--out", str(tmp_path / "d"), "--check", str(poses)])
        == 0
    )
    out = capsys.readouterr().out
    assert (tmp_path / "d" / "msr.onnx").is_file() and (tmp_path / "d" / "msr.card.json").is_file()
    assert "head only" in out and "stays in Python" in out and "4 real sequences" in out


def test_unconvertible_head_and_bad_file_give_one_line(tmp_path, capsys, shared_data):
    rec = load_precog(shared_data / "precog_2016")
    frames = skelbehave.FrameLevelModel(window=9, classifier_params={"n_estimators": 3}, random_state=0)
    saved = frames.fit(rec.sequences[:2], rec.labels[:2]).save(tmp_path / "precog_frames.skb")
    with pytest.raises(ParameterError, match=r"FlatTrees.*skl2onnx cannot convert"):
        export_model(saved, tmp_path)  # a saved forest is skelbehave's flattened form
    assert not list(tmp_path.glob("*.onnx"))
    bad = tmp_path / "broken.skb"
    bad.write_bytes(b"PK\x03\x04 not really a model")
    assert main(["export", str(bad), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skelbehave export: error:") and "broken.skb" in err[0]
    assert main(["export", str(tmp_path / "missing.skb"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]


def test_behavior_model_with_a_cnn_head_exports_the_cnn(msr, tmp_path):
    Xtr, ytr, Xte, _ = msr
    cnn = CNNClassifier(channels=(8,), n_frames=16, max_epochs=1, n_jobs=1, random_state=0)
    model = skelbehave.BehaviorModel(classifier=cnn, encoder=None, layout="msr20", random_state=0)
    model.fit(Xtr, ytr)
    res = export_model(model, tmp_path, name="clip_cnn", check_sequences=Xte)
    assert res.onnx.name == "clip_cnn.onnx" and res.card["model_kind"] == "BehaviorModel"
    assert res.card["head"] == "CNNClassifier" and res.card["layout"]["name"] == "msr20"
    got = _session(res.onnx).run(["probabilities"], cnn_inputs(model.classifier_, Xte))[0]
    assert float(np.max(np.abs(got - model.predict_proba(Xte)))) <= 1e-5
    with pytest.raises(ParameterError, match="plain file stem"):
        export_model(model, tmp_path, name="../elsewhere")
