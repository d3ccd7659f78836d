"""Safe model files: round trip, truncation, tampering, newer versions, refusals."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

import skelbehave
from skelbehave.encoding import BoWEncoder, FisherEncoder, VLADEncoder
from skelbehave.errors import ModelFileError
from skelbehave.io.archive import FORMAT_VERSION, read_archive, write_archive
from skelbehave.pipeline import BehaviorModel


@pytest.fixture(scope="module")
def data(shared_data):
    from skelbehave.datasets import load_msr_action3d

    ds = load_msr_action3d(shared_data / "msr_action3d")
    keep = np.flatnonzero(np.isin(ds.labels, (2, 6, 13, 16)) & np.isin(ds.subjects, (1, 2, 3, 4)))
    return [ds.sequences[i] for i in keep], ds.labels[keep]


def _fit(data, **kw):
    X, y = data
    kw.setdefault("encoder", VLADEncoder(n_clusters=3, pyramid_levels=2))
    return BehaviorModel(random_state=0, **kw).fit(X, y)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"classifier": "logreg"},
        {"classifier": "svm"},
        {"encoder": BoWEncoder(n_clusters=4)},
        {"encoder": FisherEncoder(n_clusters=2, pyramid_levels=1)},
        {"encoder": "vlad"},  # default fused encoder
    ],
)
def test_round_trip_identical_predictions(tmp_path, data, kw):
    X, _ = data
    m = _fit(data, **kw)
    path = m.save(tmp_path / "model.skb")
    back = skelbehave.load(path)
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    np.testing.assert_allclose(back.predict_proba(X), m.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(back.classes_, m.classes_)
    assert back.layout_.name == "msr20"
    assert back.manifest_["format_version"] == FORMAT_VERSION
    assert back.manifest_["package_version"] == skelbehave.__version__


def test_string_labels_and_arrays_input(tmp_path, data):
    X, y = data
    names = np.array([f"action {v}" for v in y])
    m = skelbehave.fit([s.position for s in X], names, layout="msr20", fps=15, n_clusters=3, random_state=0)
    back = skelbehave.load(m.save(tmp_path / "m.skb"))
    assert back.classes_.tolist() == m.classes_.tolist()
    np.testing.assert_array_equal(back.predict([s.position for s in X]), m.predict([s.position for s in X]))


def test_file_contents_are_json_and_plain_arrays(tmp_path, data):
    path = _fit(data).save(tmp_path / "m.skb")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "manifest.json", "model.json"]
        model = json.loads(zf.read("model.json"))
        npz = np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False)
        assert all(npz[k].dtype != object for k in npz.files)
    assert model["components"]["encoder"]["type"] == "VLADEncoder"
    assert model["components"]["classifier"]["type"] == "sklearn:RidgeClassifier"
    assert model["layout_name"] == "msr20" and len(model["classes"]) == 4


def test_truncated_file(tmp_path, data):
    path = _fit(data).save(tmp_path / "m.skb")
    raw = path.read_bytes() if hasattr(path, "read_bytes") else open(path, "rb").read()
    for cut in (10, len(raw) // 2, len(raw) - 30):
        bad = tmp_path / f"cut{cut}.skb"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError, match=r"truncated|corrupt|not a skelbehave"):
            skelbehave.load(bad)


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    with zipfile.ZipFile(dst, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


def test_tampered_member_fails_checksum(tmp_path, data):
    path = _fit(data).save(tmp_path / "m.skb")

    def flip_class(m):
        doc = json.loads(m["model.json"])
        doc["classes"][0] = 99
        m["model.json"] = json.dumps(doc).encode()

    _rewrite(path, tmp_path / "t1.skb", flip_class)
    with pytest.raises(ModelFileError, match=r"checksum of model.json"):
        skelbehave.load(tmp_path / "t1.skb")

    def change_array(m):
        npz = dict(np.load(io.BytesIO(m["arrays.npz"])))
        npz["classifier.coef_"] = npz["classifier.coef_"] * 2
        buf = io.BytesIO()
        np.savez(buf, **npz)
        m["arrays.npz"] = buf.getvalue()

    _rewrite(path, tmp_path / "t2.skb", change_array)
    with pytest.raises(ModelFileError, match=r"checksum of arrays.npz"):
        skelbehave.load(tmp_path / "t2.skb")


def test_newer_format_version(tmp_path, data):
    path = _fit(data).save(tmp_path / "m.skb")

    def bump(m):
        man = json.loads(m["manifest.json"])
        man["format_version"] = FORMAT_VERSION + 1
        m["manifest.json"] = json.dumps(man).encode()

    _rewrite(path, tmp_path / "new.skb", bump)
    with pytest.raises(ModelFileError, match=r"newer than this skelbehave supports.*upgrade"):
        skelbehave.load(tmp_path / "new.skb")


def test_not_a_model_and_missing(tmp_path):
    p = tmp_path / "x.skb"
    p.write_text("hello")
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        skelbehave.load(p)
    with pytest.raises(ModelFileError, match="no such model file"):
        skelbehave.load(tmp_path / "absent.skb")
    other = write_archive(tmp_path / "other.skb", {"kind": "Something"}, {})
    with pytest.raises(ModelFileError, match="not a BehaviorModel"):
        skelbehave.load(other)


def test_unsupported_classifier_refused(tmp_path, data):
    m = _fit(data, classifier=KNeighborsClassifier(n_neighbors=1))
    with pytest.raises(TypeError, match="cannot save classifier KNeighborsClassifier"):
        m.save(tmp_path / "knn.skb")
    assert not (tmp_path / "knn.skb").exists()


def test_object_arrays_refused(tmp_path):
    with pytest.raises(TypeError, match="dtype object"):
        write_archive(tmp_path / "o.skb", {}, {"x": np.array([{"a": 1}], dtype=object)})
    p = write_archive(tmp_path / "ok.skb", {"k": [1, 2]}, {"x": np.arange(3)})
    doc, arrays = read_archive(p)
    assert doc["k"] == [1, 2] and arrays["x"].tolist() == [0, 1, 2]
