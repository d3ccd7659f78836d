"""Every reader and every model file kind under attack: a package error or the right answer, nothing else.

Pose files: real files from ``../shared/data`` (package pose CSV, DeepLabCut single- and
multi-animal CSV, NTU ``.skeleton``, MSR Action3D text, PRECOG CSV, UTD-MHAD ``.mat``) are
truncated, get a junk / dropped / huge / NaN / infinite / empty cell, a duplicated or deleted
line, a garbage or 4 MB line, another encoding, a BOM, CRLF line ends, deeply nested JSON in a
header, or become binary garbage. The reader must raise a
:class:`~skelbehave.errors.SkelbehaveError` or return exactly what the file says (the oracle,
``benchmarks/_attacks.py:judge_pose``, explains every changed value by the mutation).

Model files: one small model of each kind (clip-level :class:`BehaviorModel`, frame-level
:class:`FrameLevelModel`, a bare CNN) fitted on real data, then zip-level attacks (bombs of
1 GB in a member and inside ``arrays.npz``, wrong sizes and CRCs in the headers, duplicated,
missing and extra members, a cut central directory, truncation, bit flips), manifest attacks,
and JSON field and array mutations with the checksums recomputed (a careful forger). Loading
must raise :class:`~skelbehave.errors.ModelFileError` (or another package error), or give a
model whose predictions on real data are finite probabilities over its classes, the same as
before for a repacked file, never NaN-driven, never a silent constant.

Hangs are bounded by pytest-timeout on every test; the same attacks at scale, with crashes and
hangs counted, are ``benchmarks/robustness.py``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _attacks as A

SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RIGHT = (A.OK, A.CLEAR)


# ----------------------------------------------------------------------------- pose files
@pytest.fixture(scope="module")
def seeds(tmp_path_factory, shared_data):
    return {s["name"]: s for s in A.make_pose_seeds(tmp_path_factory.mktemp("seeds"))}


@pytest.fixture(scope="module")
def refs():
    return {}


def _pose_case(tmp_path, seed: dict, data: bytes, info: dict) -> dict:
    f = tmp_path / Path(seed["path"]).name
    f.write_bytes(data)
    return {
        "path": str(f),
        "seed_path": seed["path"],
        "reader": seed["reader"],
        "counted": bool(seed.get("counted")),
        "info": info,
    }


TEXT_SEEDS = ["pose_csv", "pose_csv_2people", "dlc_single", "dlc_multi", "ntu", "msr", "precog"]


@pytest.mark.timeout(240)
@settings(SETTINGS, max_examples=260)
@given(name=st.sampled_from(TEXT_SEEDS), op=st.sampled_from(A.TEXT_OPS), k=st.integers(0, 2**32 - 1))
def test_text_readers_mangled(tmp_path, seeds, refs, name, op, k):
    seed = seeds[name]
    if op == "deep_json" and not name.startswith("pose_csv"):
        op = "garbage_line"
    data, info = A.mangle_text(Path(seed["path"]).read_bytes(), op, random.Random(k))
    r = A.judge_pose(_pose_case(tmp_path, seed, data, info), refs)
    assert r["outcome"] in RIGHT, (name, info, r)


@pytest.mark.timeout(120)
@settings(SETTINGS, max_examples=40)
@given(op=st.sampled_from(A.BYTE_OPS), k=st.integers(0, 2**32 - 1))
def test_utd_mat_mangled(tmp_path, seeds, refs, op, k):
    seed = seeds["utd"]
    data, info = A.mangle_bytes(Path(seed["path"]).read_bytes(), op, random.Random(k))
    r = A.judge_pose(_pose_case(tmp_path, seed, data, info), refs)
    assert r["outcome"] in RIGHT, (info, r)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", [*TEXT_SEEDS, "utd"])
def test_untouched_seed_reads(seeds, refs, name, tmp_path):
    """The oracle's baseline: an untouched copy reads as the original (else every case above is moot)."""
    seed = seeds[name]
    r = A.judge_pose(_pose_case(tmp_path, seed, Path(seed["path"]).read_bytes(), {"op": "copy"}), refs)
    assert r["outcome"] == A.OK, r


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["pose_csv", "dlc_single", "dlc_multi", "msr", "precog"])
def test_valid_rewrites_read_the_same(seeds, refs, name, tmp_path):
    """CRLF line ends and a UTF-8 BOM change nothing a reader should see (or are refused clearly)."""
    seed = seeds[name]
    for op in ("crlf", "bom"):
        data, info = A.mangle_text(Path(seed["path"]).read_bytes(), op, random.Random(0))
        r = A.judge_pose(_pose_case(tmp_path, seed, data, info), refs)
        assert r["outcome"] in RIGHT, (op, r)


@pytest.mark.timeout(60)
def test_fifo_is_refused_not_read(tmp_path):
    """A FIFO given as a pose file is refused at once (reading it would block forever)."""
    import os

    from skelbehave.errors import SkelbehaveError
    from skelbehave.io import read_poses

    f = tmp_path / "pipe.csv"
    os.mkfifo(f)
    with pytest.raises(SkelbehaveError):
        read_poses(f)


# ----------------------------------------------------------------------------- model files
@pytest.fixture(scope="module")
def models(tmp_path_factory, shared_data):
    pytest.importorskip("torch")
    return A.prepare_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def env(models):
    return A.model_env(models)


@pytest.fixture(scope="module")
def docs(models):
    import io

    out = {}
    for kind, path in models.items():
        d = dict(A.read_members(path))
        out[kind] = (json.loads(d["model.json"]), sorted(np.load(io.BytesIO(d["arrays.npz"])).files))
    return out


def _judge(tmp_path, models, env, kind, spec):
    dst = tmp_path / f"{kind}.skb"
    A.apply_model_mutation(models[kind], dst, spec)
    return A.judge_model({"path": str(dst), "model_kind": kind, "spec": spec}, env)


KINDS = ["clip", "frame", "cnn"]
ZIP_OPS = A.ZIP_OPS


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", ZIP_OPS)
def test_zip_level_attacks(tmp_path, models, env, kind, op):
    many = ("truncate", "flip", "format_version", "manifest_list", "not_zip", "npz_header", "dup_member")
    for k in range(12 if op in many else 1):  # every variant of the op (they are drawn from k)
        spec = {"op": op, "x": random.Random(k).random(), "k": k}
        r = _judge(tmp_path, models, env, kind, spec)
        assert r["outcome"] in RIGHT, (spec, r)
        if op in ("bomb_member", "bomb_npz", "size_huge", "npz_pickle", "format_version", "manifest_list"):
            assert r["outcome"] == A.CLEAR, (spec, r)  # refused, not loaded
        if op in ("stored", "reorder"):
            assert r["outcome"] == A.OK and r["detail"] == "", r  # the same model


@pytest.mark.timeout(300)
@settings(SETTINGS, max_examples=90)
@given(kind=st.sampled_from(KINDS), seed=st.integers(0, 10**6), idx=st.integers(0, 29))
def test_model_field_and_array_mutations(tmp_path, models, env, docs, kind, seed, idx):
    doc, names = docs[kind]
    spec = A.model_mutations(30, seed, doc, names)[idx]
    r = _judge(tmp_path, models, env, kind, spec)
    assert r["outcome"] in RIGHT, (kind, spec, r)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["nan", "inf", "complex", "str", "int8", "transpose", "empty"])
def test_every_array_mutated(tmp_path, models, env, docs, kind, how):
    """Arrays spread over the file (about 6 per kind): NaN / inf / wrong dtype / wrong shape is refused or
    harmless."""
    _, names = docs[kind]
    for name in names[:: max(1, len(names) // 6)]:
        spec = {"op": "array", "name": name, "how": how, "k": 0}
        r = _judge(tmp_path, models, env, kind, spec)
        assert r["outcome"] in RIGHT, (spec, r)


# ----------------------------------------------------------------------------- the oracles themselves
@pytest.mark.timeout(60)
def test_pose_oracle_catches_wrong_data(tmp_path, seeds, refs, shared_data):
    """Another real file in place of the mangled one, or a value the file does not say, is 'silent wrong'."""
    seed = seeds["precog"]
    other = (shared_data / "precog_2016" / "Seq2_1.csv").read_bytes()
    r = A.judge_pose(_pose_case(tmp_path, seed, other, {"op": "junk", "new": "x"}), refs)
    assert r["outcome"] == A.WRONG, r
    lines = Path(seed["path"]).read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b"0.", b"1.", 1)  # a value changed, but the 'mutation' claims a NaN cell
    r = A.judge_pose(_pose_case(tmp_path, seed, b"\n".join(lines), {"op": "nan", "new": "nan"}), refs)
    assert r["outcome"] == A.WRONG, r


@pytest.mark.timeout(120)
def test_model_oracle_catches_a_constant_model(tmp_path, models, env, docs):
    """A clip model whose weights are zeroed and biased to one class predicts a constant: 'silent wrong'
    when the mutation claims to be a repack, and for a NaN-valued mutation that still loads."""
    import io

    d = dict(A.read_members(models["clip"]))
    arrays = dict(np.load(io.BytesIO(d["arrays.npz"])))
    arrays["classifier.coef_"] = np.zeros_like(arrays["classifier.coef_"])
    b = arrays["classifier.intercept_"].copy()
    b[:] = 0
    b[0] = 1
    arrays["classifier.intercept_"] = b
    d["arrays.npz"] = A._npz(arrays)
    dst = tmp_path / "const.skb"
    A.write_members(dst, list(d.items()))
    for spec in ({"op": "stored"}, {"op": "array", "name": "classifier.coef_", "how": "nan"}):
        r = A.judge_model({"path": str(dst), "model_kind": "clip", "spec": spec}, env)
        assert r["outcome"] == A.WRONG, (spec, r)
