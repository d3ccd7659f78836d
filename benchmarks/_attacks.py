"""Attack cases for ``benchmarks/robustness.py`` and ``tests/test_robustness.py``.

Not part of the package. Three pieces:

* mutations of real pose files (:func:`mangle_text`, :func:`mangle_bytes`) and of saved
  model files (:func:`model_mutations`, :func:`apply_model_mutation`), all from seeds, so a
  case is a small JSON document that a worker process can replay;
* the oracles (:func:`judge_pose`, :func:`judge_model`): a case ends in a clear package
  error (a :class:`~skelbehave.errors.SkelbehaveError`), in correct data / a working model,
  or it is counted as a foreign exception or a silent wrong answer;
* a worker (``python benchmarks/_attacks.py worker``) that reads cases as JSON lines on
  stdin and answers one JSON line each, so that the parent can count a hang (no answer in
  time) or a crash (the worker died) without stopping.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
DATA = SHARED / "data"

#: worker memory limit (RLIMIT_DATA): a bomb that is read ends as MemoryError, not as a dead machine
WORKER_MEMORY = 3 << 30

CLEAR, OK, FOREIGN, WRONG, HANG, CRASH, LOST = (
    "clear_error",
    "ok",
    "foreign",
    "silent_wrong",
    "hang",
    "crash",
    "lost",
)

# ----------------------------------------------------------------------------- pose seeds
_NUM = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def make_pose_seeds(work: Path) -> list[dict]:
    """Seed files from the real data (small cuts of the long ones), with the reader of each."""
    from skelbehave.datasets import read_msr_skeleton
    from skelbehave.io import read_poses, write_poses

    work.mkdir(parents=True, exist_ok=True)
    seeds = []
    msr = DATA / "msr_action3d" / "a01_s01_e01_skeleton3D.txt"
    write_poses(work / "msr.pose.csv", read_msr_skeleton(msr))
    seeds.append({"name": "pose_csv", "path": str(work / "msr.pose.csv"), "reader": "poses"})
    ntu2 = read_poses(DATA / "ntu_rgbd_samples" / "S001C003P008R002A058.skeleton")
    write_poses(work / "ntu2.pose.csv", ntu2)
    seeds.append({"name": "pose_csv_2people", "path": str(work / "ntu2.pose.csv"), "reader": "poses"})
    calms = (DATA / "calms21_mouse083" / "mouse083_pose.csv").read_bytes().split(b"\n")
    (work / "calms.csv").write_bytes(b"\n".join(calms[: 3 + 200]) + b"\n")
    seeds.append({"name": "dlc_single", "path": str(work / "calms.csv"), "reader": "poses"})
    rat = sorted((DATA / "rat_social_dlc" / "dlc_csv").glob("1DLC*.csv"))[0].read_bytes().split(b"\n")
    (work / "rat.csv").write_bytes(b"\n".join(rat[: 4 + 200]) + b"\n")
    seeds.append({"name": "dlc_multi", "path": str(work / "rat.csv"), "reader": "poses"})
    seeds.append(
        {
            "name": "ntu",
            "path": str(DATA / "ntu_rgbd_samples" / "S001C001P001R001A011.skeleton"),
            "reader": "poses",
            "counted": True,
        }
    )
    seeds.append({"name": "msr", "path": str(msr), "reader": "msr"})
    pre = (DATA / "precog_2016" / "Seq1_1.csv").read_bytes().split(b"\n")
    (work / "Seq1_1.csv").write_bytes(b"\n".join(pre[: 1 + 150]) + b"\n")
    seeds.append({"name": "precog", "path": str(work / "Seq1_1.csv"), "reader": "precog"})
    seeds.append(
        {
            "name": "utd",
            "path": str(DATA / "utd_mhad" / "a1_s1_t1_skeleton.mat"),
            "reader": "utd",
            "binary": True,
        }
    )
    return seeds


TEXT_OPS = (
    "truncate",
    "junk",
    "drop",
    "dup_line",
    "del_line",
    "huge",
    "overflow",
    "nan",
    "inf",
    "empty_cell",
    "garbage_line",
    "long_line",
    "utf16",
    "latin1",
    "bom",
    "crlf",
    "binary",
    "empty",
    "deep_json",
)
BYTE_OPS = ("truncate", "flip", "garbage_block", "zero_block", "binary", "empty")
_JUNK = ["x", "1.2.3", "--1", "0x10", "", " ", "#", ";", ",", "1e", "abc", "\x00", "é", "NaNx", "1_0"]


def mangle_text(raw: bytes, op: str, rng: random.Random, name: str = "") -> tuple[bytes, dict]:
    """Apply one text mutation; returns the new bytes and what the oracle needs to know."""
    lines = raw.split(b"\n")
    info: dict = {"op": op}
    if op == "truncate":
        return raw[: rng.randrange(0, max(1, len(raw) - 1))], info
    if op in ("junk", "drop", "huge", "overflow", "nan", "inf", "empty_cell"):
        for _ in range(50):
            li = rng.randrange(len(lines))
            toks = list(_NUM.finditer(lines[li]))
            if toks:
                break
        else:
            return raw, info
        t = rng.choice(toks)
        new = {
            "junk": rng.choice(_JUNK).encode(),
            "drop": b"",
            "huge": rng.choice([b"1e300", b"-3.5e38", b"1e39", b"123456789012345678901234567890"]),
            "overflow": rng.choice([b"1e309", b"-1e400"]),
            "nan": rng.choice([b"nan", b"NaN", b"-nan"]),
            "inf": rng.choice([b"inf", b"-inf", b"Infinity"]),
            "empty_cell": b"",
        }[op]
        line = lines[li]
        if op == "drop":  # remove the token and one separator next to it
            end = t.end() + 1 if t.end() < len(line) else t.end()
            start = t.start() if end > t.end() else max(0, t.start() - 1)
            lines[li] = line[:start] + line[end:]
        else:
            lines[li] = line[: t.start()] + new + line[t.end() :]
        info.update(line=li, new=new.decode("latin-1"), old=t.group().decode())
        return b"\n".join(lines), info
    if op == "dup_line":
        li = rng.randrange(len(lines))
        lines.insert(li, lines[li])
        return b"\n".join(lines), info
    if op == "del_line":
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines), info
    if op == "garbage_line":
        lines.insert(
            rng.randrange(len(lines) + 1), bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        )
        return b"\n".join(lines), info
    if op == "long_line":  # a 4 MB line of digits
        lines.insert(rng.randrange(1, len(lines) + 1), b"1," * (2 << 20))
        return b"\n".join(lines), info
    if op == "utf16":
        return raw.decode("latin-1").encode(rng.choice(["utf-16", "utf-32"])), info
    if op == "latin1":  # a non-UTF-8 byte somewhere
        li = rng.randrange(len(lines))
        pos = rng.randrange(len(lines[li]) + 1)
        lines[li] = lines[li][:pos] + b"\xe9\xff" + lines[li][pos:]
        return b"\n".join(lines), info
    if op == "bom":
        return b"\xef\xbb\xbf" + raw, info
    if op == "crlf":
        return raw.replace(b"\n", b"\r\n"), info
    if op == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000))), info
    if op == "empty":
        return b"", info
    if op == "deep_json":  # a header line holding deeply nested JSON
        depth = rng.choice([100, 5000, 200_000])
        deep = b"[" * depth + b"]" * depth
        li = 1 if len(lines) > 1 else 0
        if lines[0].startswith(b"#"):
            lines.insert(li, b"# meta: " + b'{"a": ' + deep + b"}")
        else:
            lines.insert(li, deep)
        return b"\n".join(lines), info
    raise ValueError(op)


def mangle_bytes(raw: bytes, op: str, rng: random.Random) -> tuple[bytes, dict]:
    """One mutation of a binary file."""
    b = bytearray(raw)
    if op == "truncate":
        return bytes(b[: rng.randrange(0, len(b) - 1)]), {"op": op}
    if op == "flip":
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        return bytes(b), {"op": op, "at": i}
    if op in ("garbage_block", "zero_block"):
        i = rng.randrange(len(b))
        n = rng.randrange(1, 64)
        b[i : i + n] = bytes(rng.randrange(256) if op == "garbage_block" else 0 for _ in range(n))
        return bytes(b[: len(raw)]), {"op": op, "at": i, "n": n}
    if op == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000))), {"op": op}
    return b"", {"op": "empty"}


def pose_cases(work: Path, n_total: int, seed: int = 0) -> list[dict]:
    """``n_total`` mangled pose files written under ``work``, spread over every seed and operation."""
    seeds = make_pose_seeds(work / "seeds")
    rng = random.Random(seed)
    cases = []
    k = 0
    while len(cases) < n_total:
        s = seeds[k % len(seeds)]
        ops = BYTE_OPS if s.get("binary") else TEXT_OPS
        op = ops[(k // len(seeds)) % len(ops)]
        k += 1
        if op == "deep_json" and not s["name"].startswith("pose_csv"):
            op = "garbage_line"
        raw = Path(s["path"]).read_bytes()
        data, info = mangle_bytes(raw, op, rng) if s.get("binary") else mangle_text(raw, op, rng)
        d = work / f"c{len(cases):05d}"
        d.mkdir(parents=True, exist_ok=True)
        f = d / Path(s["path"]).name
        f.write_bytes(data)
        cases.append(
            {
                "kind": "pose",
                "area": "pose files",
                "id": f"{s['name']}/{op}/{len(cases)}",
                "path": str(f),
                "seed_path": s["path"],
                "reader": s["reader"],
                "counted": bool(s.get("counted")),
                "info": info,
            }
        )
    return cases


# ----------------------------------------------------------------------------- pose oracle
def read_any(reader: str, path) -> list[np.ndarray]:
    """Read with the named reader; one float64 array (frames x values) per sequence."""
    from skelbehave.datasets import read_msr_skeleton, read_utd_skeleton
    from skelbehave.io import read_poses
    from skelbehave.io.precog import read_precog_csv

    if reader == "precog":
        pos, lab = read_precog_csv(path)
        return [np.column_stack([np.asarray(pos, float).reshape(len(pos), -1), np.asarray(lab, float)])]
    seqs = {"poses": read_poses, "msr": read_msr_skeleton, "utd": read_utd_skeleton}[reader](path)
    out = []
    for s in seqs if isinstance(seqs, list) else [seqs]:
        t = s.n_frames
        parts = [np.asarray(s.position, float).reshape(t, -1)]
        if getattr(s, "confidence", None) is not None:
            parts.append(np.asarray(s.confidence, float).reshape(t, -1))
        out.append(np.column_stack(parts) if t else np.zeros((0, sum(p.shape[1] for p in parts))))
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _explained(a: np.ndarray, b: np.ndarray, info: dict, counted: bool) -> bool:
    """Is result ``a`` what the mangled file says, given the original ``b``?"""
    op = info["op"]
    if _same(a, b):
        return True
    if not np.all(np.isfinite(a) | np.isnan(a)):
        return False  # an infinite coordinate is never data
    if a.shape[1:] != b.shape[1:]:
        return False
    if op == "truncate" and not counted:  # formats without counts: a prefix (last frame may be cut)
        n = len(a)
        return n <= len(b) and (n == 0 or _same(a[: n - 1], b[: n - 1]))
    if op == "dup_line" and len(a) == len(b) + 1:
        return any(
            _same(np.delete(a, i, 0), b) and _same(a[i], a[i + 1 if i + 1 < len(a) else i - 1])
            for i in range(len(a))
        )
    if op == "del_line":
        if len(a) == len(b) - 1:
            return any(_same(a, np.delete(b, i, 0)) for i in range(len(b)))
        if len(a) == len(b):
            rows = np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))).all(1))
            return len(rows) == 1 and bool(np.isnan(a[rows[0]]).any())
    if (
        op in ("junk", "huge", "nan", "inf", "empty_cell", "flip", "garbage_block", "zero_block", "drop")
        and a.shape == b.shape
    ):
        diff = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        rows = np.flatnonzero(diff.any(1))
        if len(rows) != 1 or diff.sum() > 4:
            return False
        vals = a[diff]
        if op in ("nan", "inf", "empty_cell"):
            return bool(np.isnan(vals).all())  # a missing value (maybe with its joint's other fields)
        if op in ("flip", "garbage_block", "zero_block"):
            return diff.sum() == 1
        try:
            want = float(info["new"])
        except (ValueError, KeyError):
            want = None
        return all(np.isnan(v) or (want is not None and v == want) for v in vals)
    return False


def judge_pose(case: dict, ref_cache: dict) -> dict:
    """Run one pose case in this process; the outcome and a short detail."""
    from skelbehave.errors import SkelbehaveError

    key = (case["reader"], case["seed_path"])
    if key not in ref_cache:
        ref_cache[key] = read_any(case["reader"], case["seed_path"])
    ref = ref_cache[key]
    try:
        got = read_any(case["reader"], case["path"])
    except SkelbehaveError as exc:
        return {"outcome": CLEAR, "detail": f"{type(exc).__name__}: {str(exc)[:160]}"}
    except BaseException as exc:
        return {"outcome": FOREIGN, "detail": f"{type(exc).__name__}: {str(exc)[:160]}"}
    info = case["info"]
    if len(got) != len(ref):
        ok = (
            info["op"] == "junk"
            and case["reader"] == "poses"
            and case["counted"]
            and all(g.shape[1] == ref[0].shape[1] and len(g) <= len(ref[0]) for g in got)
        )
        return {"outcome": OK if ok else WRONG, "detail": f"{len(got)} sequences, expected {len(ref)}"}
    for g, r in zip(got, ref, strict=True):
        if not _explained(g, r, info, case["counted"]):
            return {"outcome": WRONG, "detail": f"data {g.shape} not explained by {info} (orig {r.shape})"}
    return {"outcome": OK, "detail": ""}


# ----------------------------------------------------------------------------- model files
def read_members(path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def write_members(path, members, *, reseal: bool = True, compression=zipfile.ZIP_DEFLATED) -> None:
    """Write members into a zip; ``reseal`` recomputes the manifest's checksums (a careful forger)."""
    import hashlib

    members = list(members)
    if reseal:
        d = dict(members)
        try:
            man = json.loads(d["manifest.json"])
            if isinstance(man, dict) and isinstance(man.get("sha256"), dict):
                for m in ("model.json", "arrays.npz"):
                    if m in d:
                        man["sha256"][m] = hashlib.sha256(d[m]).hexdigest()
                members = [(n, json.dumps(man).encode() if n == "manifest.json" else b) for n, b in members]
        except (KeyError, ValueError):
            pass
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for n, b in members:
            zf.writestr(n, b)


def _paths(obj, prefix=()):
    """Every (path, value) inside a JSON document (dict keys and list indices)."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list) and len(obj) <= 64:
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    if not path:
        return value
    cur = doc
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return doc


_VALUES = [
    10**9,
    -1,
    0,
    1e300,
    "abc",
    True,
    None,
    [],
    {},
    float("nan"),
    float("-inf"),
    2**63,
    0.5,
    [1000000],
    "x" * 100_000,
]
_BOMB_CACHE: dict = {}


def _deflate_zeros(n: int) -> bytes:
    if n not in _BOMB_CACHE:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        parts = [c.compress(chunk) for _ in range(n >> 20)]
        _BOMB_CACHE[n] = b"".join(parts) + c.flush()
    return _BOMB_CACHE[n]


def _npy_bomb() -> tuple[bytes, bytes]:
    """An .npy of 2**27 float64 zeros (1 GB), deflated to about 1 MB."""
    if "npy" not in _BOMB_CACHE:
        hdr = _npy(np.zeros(1 << 27))[:128]
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        parts = [c.compress(hdr)] + [c.compress(chunk) for _ in range(1 << 10)]
        _BOMB_CACHE["npy"] = (hdr, b"".join(parts) + c.flush())
    return _BOMB_CACHE["npy"]


def _raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip built by hand: (name, deflated data, declared size, crc) -> bytes; no checks at all."""
    out, central = io.BytesIO(), []
    for name, data, size, crc in entries:
        off = out.tell()
        nb = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(nb), 0))
        out.write(nb + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(nb),
                0,
                0,
                0,
                0,
                0,
                off,
            )
            + nb
        )
    cd = b"".join(central)
    start = out.tell()
    out.write(cd)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), start, 0))
    return out.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, allow_pickle=False)
    return b.getvalue()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    b = io.BytesIO()
    np.savez(b, **arrays)
    return b.getvalue()


#: zip-level attacks on a model file (see apply_model_mutation), in the order the benchmark cycles through
#: zip-level attacks on a model file (see :func:`zip_attack`), in the order the benchmark cycles through
ZIP_OPS = (
    "truncate",
    "flip",
    "bomb_member",
    "bomb_npz",
    "size_small",
    "size_huge",
    "dup_member",
    "cut_central",
    "extra_member",
    "missing_member",
    "stored",
    "reorder",
    "not_zip",
    "manifest_list",
    "format_version",
    "npz_header",
    "npz_pickle",
    "crc",
    "unsealed",
)


def model_mutations(n: int, seed: int, doc: dict, array_names: list[str]) -> list[dict]:
    """``n`` mutation specs for one model file: zip-level, JSON fields, arrays (in that mix)."""
    rng = random.Random(seed)
    paths = [p for p, _ in _paths(doc) if p]
    specs = []
    for i in range(n):
        r = i % 10
        if r < 3:
            op = ZIP_OPS[(i // 10 * 3 + r) % len(ZIP_OPS)]
            specs.append({"op": op, "x": rng.random(), "k": rng.randrange(1 << 30)})
        elif r < 7:
            p = rng.choice(paths)
            v = rng.choice(_VALUES)
            specs.append({"op": "json", "path": list(p), "value": v if v == v else "__nan__"})
        else:
            specs.append(
                {
                    "op": "array",
                    "name": rng.choice(array_names),
                    "how": rng.choice(
                        [
                            "int8",
                            "float16",
                            "complex",
                            "bool",
                            "str",
                            "drop_row",
                            "add_axis",
                            "transpose",
                            "empty",
                            "scalar",
                            "nan",
                            "inf",
                            "huge",
                            "zeros",
                            "big_shape",
                        ]
                    ),
                    "k": rng.randrange(1 << 30),
                }
            )
    return specs


def _mutate_array(a: np.ndarray, how: str, rng: random.Random) -> np.ndarray:
    if how in ("int8", "float16", "complex", "bool"):
        to = {"int8": np.int8, "float16": np.float16, "complex": np.complex128, "bool": bool}[how]
        try:
            return a.astype(to)
        except ValueError:  # strings: numbers of the same shape instead
            return np.arange(a.size).reshape(a.shape).astype(to)
    if how == "str":
        return a.astype(str)
    if how == "drop_row":
        return a[:-1] if a.ndim and len(a) else np.zeros(3, a.dtype)
    if how == "add_axis":
        return a[None]
    if how == "transpose":
        return a.T if a.ndim > 1 else a.reshape(-1, 1)
    if how == "empty":
        return a[:0] if a.ndim else np.zeros(0, a.dtype)
    if how == "scalar":
        return np.asarray(a.ravel()[0] if a.size else 1)
    if how == "big_shape":
        return np.zeros((1 << 16, 1 << 8))  # 512 MB of zeros: compresses well
    b = a.astype(float) if a.dtype.kind in "iub" else a.copy()
    if b.size and b.dtype.kind == "f":
        idx = rng.randrange(b.size)
        flat = b.reshape(-1)
        flat[idx] = {"nan": np.nan, "inf": np.inf, "huge": 1e300, "zeros": 0.0}[how]
        if how == "zeros":
            b[...] = 0
    return b


def apply_model_mutation(src, dst, spec: dict) -> None:
    """Write the tampered copy of model file ``src`` to ``dst``."""
    raw = Path(src).read_bytes()
    members = read_members(src)
    d = dict(members)
    rng = random.Random(spec.get("k", 0))
    op = spec["op"]
    dst = Path(dst)
    if op == "truncate":
        dst.write_bytes(raw[: int(spec["x"] * len(raw))])
    elif op == "flip":
        b = bytearray(raw)
        i = int(spec["x"] * len(b))
        b[i] ^= 1 << rng.randrange(8)
        dst.write_bytes(bytes(b))
    elif op == "bomb_member":  # model.json or arrays.npz replaced by 1 GB of deflated zeros
        name = rng.choice(["model.json", "arrays.npz"])
        ents = [(n, zlib.compress(b)[2:-4], len(b), zlib.crc32(b)) for n, b in members if n != name]
        ents.append((name, _deflate_zeros(1 << 30), 1 << 30, 0))
        dst.write_bytes(_raw_zip(ents))
    elif op == "bomb_npz":  # an array inside arrays.npz that decompresses to 1 GB (checksums resealed)
        arrays = dict(np.load(io.BytesIO(d["arrays.npz"]), allow_pickle=False))
        name = sorted(arrays)[0] + ".npy"
        ents = [
            (n, zlib.compress(b)[2:-4], len(b), zlib.crc32(b))
            for n, b in read_members(io.BytesIO(_npz(arrays)))
            if n != name
        ]
        hdr, data = _npy_bomb()
        ents.append((name, data, len(hdr) + (1 << 30), 0))
        d["arrays.npz"] = _raw_zip(ents)
        write_members(dst, list(d.items()))
    elif op in ("size_small", "size_huge", "crc"):
        ents = [(n, zlib.compress(b)[2:-4], len(b), zlib.crc32(b)) for n, b in members]
        j = rng.randrange(len(ents))
        n, data, size, crc = ents[j]
        ents[j] = (
            n,
            data,
            1 if op == "size_small" else 0xFFFFFFF0 if op == "size_huge" else size,
            crc if op != "crc" else crc ^ 1,
        )
        dst.write_bytes(_raw_zip(ents))
    elif op == "dup_member":
        name = rng.choice(["manifest.json", "model.json", "arrays.npz"])
        other = {"manifest.json": b"{}", "model.json": b'{"kind": "x"}', "arrays.npz": _npz({})}[name]
        ms = [*members, (name, other)] if rng.random() < 0.5 else [(name, other), *members]
        with zipfile.ZipFile(dst, "w") as zf:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for n, b in ms:
                    zf.writestr(n, b)
    elif op == "cut_central":
        dst.write_bytes(raw[: len(raw) - rng.choice([1, 10, 22, 46, 80])])
    elif op == "extra_member":
        write_members(dst, [*members, ("evil.pkl", b"\x80\x04" + bytes(100))], reseal=False)
    elif op == "missing_member":
        drop = rng.choice([n for n, _ in members])
        write_members(dst, [(n, b) for n, b in members if n != drop], reseal=False)
    elif op == "stored":
        write_members(dst, members, reseal=False, compression=zipfile.ZIP_STORED)
    elif op == "reorder":
        write_members(dst, members[::-1], reseal=False)
    elif op == "unsealed":  # a model.json change without fixing the checksum
        doc = json.loads(d["model.json"])
        doc["params"] = {} if rng.random() < 0.5 else doc.get("params")
        d["model.json"] = json.dumps(doc).encode() + b" "
        write_members(dst, list(d.items()), reseal=False)
    elif op == "not_zip":
        dst.write_bytes(rng.choice([b"", b"hello", raw[:4] + bytes(100), b"PK\x05\x06" + bytes(18)]))
    elif op == "manifest_list":
        d["manifest.json"] = rng.choice([b"[]", b"null", b"1", b'"x"', b"{", b"\xff\xfe"])
        write_members(dst, list(d.items()), reseal=False)
    elif op == "format_version":
        man = json.loads(d["manifest.json"])
        man["format_version"] = rng.choice([0, -1, True, 3, "2", 2.0, None, 10**30])
        d["manifest.json"] = json.dumps(man).encode()
        write_members(dst, list(d.items()), reseal=False)
    elif op in ("npz_header", "npz_pickle"):
        arrays = dict(np.load(io.BytesIO(d["arrays.npz"]), allow_pickle=False))
        name = rng.choice(sorted(arrays)) if arrays else "w"
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w") as zf:
            for k, v in arrays.items():
                if k != name:
                    zf.writestr(k + ".npy", _npy(v))
            if op == "npz_pickle":
                obj = np.empty(2, dtype=object)
                obj[:] = [1, "x"]
                payload = io.BytesIO()
                np.lib.format.write_array(payload, obj, allow_pickle=True)
                zf.writestr(name + ".npy", payload.getvalue())
            else:
                hdr = rng.choice(
                    [
                        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8', }",
                        b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, "
                        b"'shape': (100000000000,), }          \n",
                        b"garbage",
                    ]
                )
                zf.writestr(name + ".npy", hdr)
        d["arrays.npz"] = b.getvalue()
        write_members(dst, list(d.items()))
    elif op == "json":
        doc = json.loads(d["model.json"])
        v = spec["value"]
        v = float("nan") if v == "__nan__" else v
        try:
            doc = _set(doc, tuple(spec["path"]), v)
        except (KeyError, IndexError, TypeError):
            pass
        d["model.json"] = json.dumps(doc).encode()
        write_members(dst, list(d.items()))
    elif op == "array":
        arrays = dict(np.load(io.BytesIO(d["arrays.npz"]), allow_pickle=False))
        if spec["name"] in arrays:
            with np.errstate(all="ignore"):
                arrays[spec["name"]] = _mutate_array(arrays[spec["name"]], spec["how"], rng)
        d["arrays.npz"] = _npz(arrays)
        write_members(dst, list(d.items()))
    else:
        raise ValueError(op)


#: mutations that change nothing a model holds: the loaded model must predict as the original
NEUTRAL = {"stored", "reorder"}
#: mutations whose content must be refused when they change the predictions
MUST_REFUSE_HOW = {"nan", "inf", "complex", "str", "big_shape", "int8", "float16", "bool"}


def judge_model(case: dict, env: dict) -> dict:
    """Load a tampered model and predict the fixed real inputs of its kind."""
    import skelbehave
    from skelbehave.errors import SkelbehaveError

    inputs = env["inputs"][case["model_kind"]]
    ref = env["ref"][case["model_kind"]]
    try:
        m = skelbehave.load(case["path"])
    except SkelbehaveError as exc:
        return {"outcome": CLEAR, "detail": f"load: {type(exc).__name__}: {str(exc)[:160]}"}
    except BaseException as exc:
        return {"outcome": FOREIGN, "detail": f"load: {type(exc).__name__}: {str(exc)[:160]}"}
    try:
        pred, proba = predict_fixed(m, inputs)
    except SkelbehaveError as exc:
        return {"outcome": CLEAR, "detail": f"predict: {type(exc).__name__}: {str(exc)[:160]}"}
    except BaseException as exc:
        return {"outcome": FOREIGN, "detail": f"predict: {type(exc).__name__}: {str(exc)[:160]}"}
    spec = case["spec"]
    classes = set(np.asarray(getattr(m, "classes_", [])).tolist())
    if not np.all(np.isfinite(proba)) or not np.allclose(proba.sum(1), 1, atol=1e-4):
        return {"outcome": WRONG, "detail": "probabilities not finite / not summing to 1"}
    if not set(np.asarray(pred).tolist()) <= classes | set(np.asarray(ref[0]).tolist()):
        return {"outcome": WRONG, "detail": "a label outside classes_"}
    same = np.array_equal(pred, ref[0]) and np.allclose(proba, ref[1], atol=1e-6)
    if spec["op"] in NEUTRAL and not same:
        return {"outcome": WRONG, "detail": "a repacked file predicts differently"}
    bad_value = (spec["op"] == "array" and spec["how"] in MUST_REFUSE_HOW) or (
        spec["op"] == "json" and spec["value"] in ("__nan__", float("-inf"), 1e300, 10**9, 2**63)
    )
    if bad_value and not same:
        return {"outcome": WRONG, "detail": f"loaded with {spec} and predicts differently"}
    zip_level = spec["op"] not in ("json", "array")  # the content itself unchanged (or unusable)
    if zip_level and len(set(np.asarray(ref[0]).tolist())) > 1 and len(set(np.asarray(pred).tolist())) == 1:
        return {"outcome": WRONG, "detail": f"constant prediction after {spec}"}
    return {"outcome": OK, "detail": "" if same else "loads; predicts its (changed) content"}


def predict_fixed(m, inputs):
    pred = m.predict(inputs)
    proba = m.predict_proba(inputs)
    if isinstance(pred, list):  # frame-level: one array per recording
        pred = np.concatenate([np.asarray(p) for p in pred])
        proba = np.concatenate([np.asarray(p) for p in proba])
    return np.asarray(pred), np.asarray(proba, float)


def model_inputs() -> dict:
    """Fixed real inputs per model kind (the same the prepared models were fitted on a part of)."""
    from skelbehave.datasets import load_msr_action3d, load_precog

    ds = load_msr_action3d(DATA / "msr_action3d")
    lab, sub = np.asarray(ds.labels), np.asarray(ds.subjects)
    keep = np.flatnonzero(np.isin(lab, (2, 6, 13, 16)) & np.isin(sub, (1, 2, 3)))
    X, y = [ds.sequences[i] for i in keep], lab[keep]
    pre = load_precog(DATA / "precog_2016")
    by = {
        Path(s.meta["source"]).name: (s, np.asarray(y))
        for s, y in zip(pre.sequences, pre.labels, strict=True)
    }
    return {"msr": (X, y), "precog": by}


def prepare_models(work: Path) -> dict:
    """Fit one small model of each kind on real data and save it; returns {kind: path}."""
    from skelbehave.encoding import VLADEncoder
    from skelbehave.pipeline import BehaviorModel, FrameLevelModel, persist

    work.mkdir(parents=True, exist_ok=True)
    data = model_inputs()
    X, y = data["msr"]
    out = {}
    m = BehaviorModel(encoder=VLADEncoder(n_clusters=3, pyramid_levels=2), random_state=0).fit(X, y)
    out["clip"] = str(m.save(work / "clip.skb"))
    recs = [data["precog"][n] for n in ("Seq1_1.csv", "Seq2_1.csv", "Seq3_1.csv")]
    f = FrameLevelModel(window=15, classifier_params={"n_estimators": 5}, random_state=0, context_folds=2)
    f.fit([r for r, _ in recs], [y for _, y in recs])
    out["frame"] = str(f.save(work / "frame.skb"))
    try:
        from skelbehave.models.cnn import CNNClassifier

        cnn = CNNClassifier(
            layout="msr20", channels=(8, 8), n_frames=16, max_epochs=2, finetune_epochs=0, random_state=0
        ).fit(X, y)
        out["cnn"] = str(persist.save(cnn, work / "cnn.skb"))
    except ImportError:
        pass
    return out


def model_env(paths: dict) -> dict:
    import skelbehave

    data = model_inputs()
    inputs = {"clip": data["msr"][0], "cnn": data["msr"][0], "frame": [data["precog"]["Seq4_1.csv"][0]]}
    ref = {k: predict_fixed(skelbehave.load(p), inputs[k]) for k, p in paths.items()}
    return {"inputs": inputs, "ref": ref}


def model_cases(work: Path, paths: dict, n_total: int, seed: int = 0) -> list[dict]:
    """Tampered copies of each prepared model file (``n_total`` in all)."""
    cases = []
    work.mkdir(parents=True, exist_ok=True)
    kinds = sorted(paths)
    for j, kind in enumerate(kinds):
        n = n_total // len(kinds) + (1 if j < n_total % len(kinds) else 0)
        d = dict(read_members(paths[kind]))
        doc = json.loads(d["model.json"])
        names = sorted(np.load(io.BytesIO(d["arrays.npz"]), allow_pickle=False).files)
        for i, spec in enumerate(model_mutations(n, seed + j, doc, names)):
            dst = work / f"{kind}_{i:04d}.skb"
            apply_model_mutation(paths[kind], dst, spec)
            desc = (
                spec["op"]
                if spec["op"] not in ("json", "array")
                else f"{spec['op']}:{'.'.join(map(str, spec.get('path', [spec.get('name')])))}:"
                f"{spec.get('how', '')}"
            )
            cases.append(
                {
                    "kind": "model",
                    "area": "model files",
                    "model_kind": kind,
                    "path": str(dst),
                    "spec": spec,
                    "id": f"{kind}/{desc}/{i}",
                }
            )
    return cases


# ----------------------------------------------------------------------------- worker
def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def run_case(case: dict, state: dict) -> dict:
    if case["kind"] == "pose":
        return judge_pose(case, state.setdefault("refs", {}))
    if case["kind"] == "model":
        if "env" not in state:
            state["env"] = model_env(case["models"])
        return judge_model(case, state["env"])
    if case["kind"] == "api":
        from _degenerate import judge_api  # benchmarks/_degenerate.py

        return judge_api(case, state)
    if case["kind"] == "prepare":
        return {"outcome": OK, "models": prepare_models(Path(case["work"]))}
    if case["kind"] == "ping":
        import skelbehave.pipeline  # noqa: F401 - warm the imports

        return {"outcome": OK}
    raise ValueError(case["kind"])


def worker() -> None:
    """Answer JSON-line cases from stdin on the original stdout; the library's own output goes to stderr."""
    sys.path.insert(0, str(Path(__file__).parent))
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _limit_memory()
    state: dict = {}
    for line in sys.stdin:
        case = json.loads(line)
        try:
            res = run_case(case, state)
        except BaseException as exc:
            res = {"outcome": FOREIGN, "detail": f"harness: {type(exc).__name__}: {str(exc)[:160]}"}
        res["id"] = case.get("id")
        proto.write(json.dumps(res, default=str) + "\n")
        proto.flush()


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    worker()
