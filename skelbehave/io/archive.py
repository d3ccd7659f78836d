"""The ``.skb`` container: JSON + arrays in one zip, with checksums and size limits, no pickle.

Layout of a ``.skb`` file (a ZIP archive; spec in ``data_specs/model_file.md``):

``manifest.json``
    ``{"format": "skelbehave-model", "format_version": 2,
    "package_version": ..., "created": ..., "sha256": {"model.json": ...,
    "arrays.npz": ...}}``
``model.json``
    ``{"kind": <registered kind>, "params": {...}}`` (what the parameters
    mean is up to :mod:`skelbehave.pipeline.persist` and the saved classes).
``arrays.npz``
    Every array by name; read without pickle, so object arrays cannot
    sneak in.

This module knows nothing about models: it writes and reads the container
(atomically, through :func:`skelbehave._util.fs.atomic_path`) and checks the
format name and version, the checksums and the sizes. Reading is bounded:
member sizes and compression ratios are checked from the zip headers before
anything is decompressed, members are read in chunks that stop at the limit,
and ``.npy`` headers (dtype, shape) are checked before an array is read.
The ``state_*`` helpers check fields of a loaded state and raise
:class:`~skelbehave.errors.ModelFileError` naming the field.

Examples
--------
>>> import numpy as np, tempfile, os
>>> p = write_archive(os.path.join(tempfile.mkdtemp(), "x.skb"), {"kind": "X"}, {"w": np.ones(3)})
>>> doc, arrays = read_archive(p)
>>> doc["kind"], float(arrays["w"].sum()), doc["_manifest"]["format_version"]
('X', 3.0, 2)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import tokenize
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import atomic_path
from ..errors import ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_COMPRESSION_RATIO",
    "MAX_TOTAL_BYTES",
    "READ_VERSIONS",
    "read_archive",
    "state_array",
    "state_bool",
    "state_classes",
    "state_float",
    "state_int",
    "state_int_list",
    "state_layout",
    "state_str",
    "write_archive",
]

FORMAT = "skelbehave-model"
#: Version written. Version 1 (the first release) is still read.
FORMAT_VERSION = 2
#: Format versions this package reads.
READ_VERSIONS = (1, 2)
#: Default limit on the total uncompressed size of a model file's members (2 GiB).
MAX_TOTAL_BYTES = 2 << 30
#: Default limit on a member's compression ratio (uncompressed / compressed);
#: applied to members larger than 1 MiB (real weights compress 1-20x).
MAX_COMPRESSION_RATIO = 200.0
_RATIO_FREE_BYTES = 1 << 20
_MAX_JSON_BYTES = 64 << 20
_MAX_MEMBERS = 64
_MAX_ARRAYS = 100_000
_CHUNK = 1 << 20
_MEMBERS = ("manifest.json", "model.json", "arrays.npz")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def write_archive(path, model: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write ``model`` (JSON-able) and ``arrays`` into a ``.skb`` archive, atomically.

    Parameters
    ----------
    path : path-like
        Destination; written under a temporary name, then renamed.
    model : dict
        JSON-able document (``model.json``).
    arrays : dict of str to ndarray
        Arrays of numeric, boolean or fixed-width string dtype (no objects).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TypeError
        An array of dtype object, or a value JSON cannot hold.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = write_archive(os.path.join(tempfile.mkdtemp(), "x.skb"), {"a": 1}, {"w": np.ones(3)})
    >>> read_archive(p)[0]["a"], read_archive(p)[1]["w"].sum()
    (1, np.float64(3.0))
    """
    from .._version import __version__

    path = Path(path)
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {name!r} has dtype object and cannot be saved without pickle")
    model_bytes = json.dumps(model, default=_json_default, indent=1, allow_nan=False).encode("utf-8")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    arrays_bytes = buf.getvalue()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sha256": {"model.json": _sha256(model_bytes), "arrays.npz": _sha256(arrays_bytes)},
    }
    manifest_bytes = json.dumps(manifest, indent=1).encode("utf-8")
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("model.json", model_bytes)
            zf.writestr("arrays.npz", arrays_bytes)
    return path


def _check_sizes(where: str, infos: list[zipfile.ZipInfo], budget: int, max_ratio: float) -> int:
    """Refuse, from the zip headers alone, members that would inflate past the limits."""
    total = 0
    for info in infos:
        size, packed = int(info.file_size), int(info.compress_size)
        total += size
        if total > budget:
            raise ModelFileError(
                f"{where}: members unpack to more than {budget} bytes (limit max_bytes); refused "
                "before decompression"
            )
        if size > _RATIO_FREE_BYTES and size > max_ratio * max(packed, 1):
            raise ModelFileError(
                f"{where}: member {info.filename!r} has compression ratio {size / max(packed, 1):.0f} "
                f"(limit {max_ratio:g}); refused before decompression"
            )
    return total


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, limit: int) -> bytes:
    """Read one member in chunks, never past ``limit`` bytes or its declared size."""
    limit = min(limit, int(info.file_size))
    parts, got = [], 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(min(_CHUNK, limit - got + 1))
            if not chunk:
                break
            got += len(chunk)
            if got > limit:
                raise ModelFileError(
                    f"{where}: member {info.filename!r} unpacks past its limit ({limit} bytes)"
                )
            parts.append(chunk)
    return b"".join(parts)


def _read_npz(data: bytes, where: str, budget: int, max_ratio: float) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` held in memory, bounded like the outer archive, without pickle."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelFileError(f"{where}: arrays.npz is not a valid npz ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > _MAX_ARRAYS:
            raise ModelFileError(f"{where}: arrays.npz holds {len(infos)} arrays (limit {_MAX_ARRAYS})")
        _check_sizes(f"{where} arrays.npz", infos, budget, max_ratio)
        out: dict[str, np.ndarray] = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            raw = _read_member(zf, info, f"{where} arrays.npz", budget)
            fh = io.BytesIO(raw)
            try:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ValueError(f".npy format version {version} not accepted")
            except (ValueError, TypeError, SyntaxError, OverflowError, tokenize.TokenError) as exc:
                raise ModelFileError(f"{where}: array {name!r} has a bad .npy header ({exc})") from None
            if dtype.hasobject:
                raise ModelFileError(f"{where}: array {name!r} has dtype object (pickle is never read)")
            need = math.prod(shape) * dtype.itemsize
            if need > len(raw):
                raise ModelFileError(
                    f"{where}: array {name!r} declares shape {shape} {dtype} ({need} bytes) but holds "
                    f"{len(raw)} bytes"
                )
            fh.seek(0)
            try:
                out[name] = np.lib.format.read_array(fh, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise ModelFileError(f"{where}: array {name!r} is unreadable ({exc})") from None
    return out


def _load_json(raw: bytes, member: str, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where}: {member} is not valid JSON ({type(exc).__name__}: {exc})") from None


def read_archive(
    path, *, max_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_COMPRESSION_RATIO
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a ``.skb`` archive: returns ``(model, arrays)``.

    ``model["_manifest"]`` holds the manifest. Nothing is decompressed before
    the zip headers pass the size and ratio limits.

    Parameters
    ----------
    path : path-like
        A regular file.
    max_bytes : int
        Limit on the total uncompressed size of the members (and of the
        arrays inside ``arrays.npz``); default 2 GiB.
    max_ratio : float
        Limit on any member's compression ratio (members over 1 MiB).

    Raises
    ------
    ModelFileError
        Missing, not a regular file, truncated or corrupt file, wrong format,
        unsupported format version, checksum mismatch, or over a limit.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.skb")
    >>> _ = write_archive(p, {"kind": "X"}, {})
    >>> read_archive(p, max_bytes=10)
    Traceback (most recent call last):
    ...
    skelbehave.errors.ModelFileError: ...: members unpack to more than 10 bytes (limit max_bytes); ...
    """
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise ModelFileError(f"{where}: no such model file")
    if not path.is_file():
        raise ModelFileError(f"{where}: not a regular file (a model file is a .skb zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise ModelFileError(f"{where}: not a skelbehave model file ({len(infos)} members)")
            by_name = {i.filename: i for i in infos}
            missing = [m for m in _MEMBERS if m not in by_name]
            if missing:
                raise ModelFileError(f"{where}: not a skelbehave model file (missing {missing})")
            members = [by_name[m] for m in _MEMBERS]
            _check_sizes(where, infos, max_bytes, max_ratio)
            for m in members[:2]:
                if m.file_size > _MAX_JSON_BYTES:
                    raise ModelFileError(f"{where}: {m.filename} is larger than {_MAX_JSON_BYTES} bytes")
            raw = {m.filename: _read_member(zf, m, where, max_bytes) for m in members}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelFileError(f"{where}: truncated or corrupt model file ({exc})") from None
    except Exception as exc:  # zlib.error, NotImplementedError (compression) on damaged members
        raise ModelFileError(
            f"{where}: truncated or corrupt model file ({type(exc).__name__}: {exc})"
        ) from None
    manifest = _load_json(raw["manifest.json"], "manifest.json", where)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelFileError(f"{where}: not a skelbehave model file (manifest format {got!r})")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{where}: format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: model file format version {version} is newer than this skelbehave supports "
            f"({FORMAT_VERSION}; written by skelbehave {manifest.get('package_version')}); "
            "upgrade skelbehave to load it"
        )
    if version not in READ_VERSIONS:
        raise ModelFileError(f"{where}: format_version {version} is not supported (reads {READ_VERSIONS})")
    sums = manifest.get("sha256")
    if not isinstance(sums, dict):
        raise ModelFileError(f"{where}: manifest.json has no sha256 table")
    for member in ("model.json", "arrays.npz"):
        if sums.get(member) != _sha256(raw[member]):
            raise ModelFileError(f"{where}: checksum of {member} does not match the manifest (file altered?)")
    model = _load_json(raw["model.json"], "model.json", where)
    if not isinstance(model, dict):
        raise ModelFileError(f"{where}: model.json must hold an object, got {type(model).__name__}")
    arrays = _read_npz(raw.pop("arrays.npz"), where, max_bytes, max_ratio)
    model["_manifest"] = manifest
    return model, arrays


# ----------------------------------------------------------------------------- field checks
def state_int(params: dict, name: str, lo: int | None = None, hi: int | None = None, *, none: bool = False):
    """``params[name]`` as an int in ``[lo, hi]`` (None allowed with ``none=True``), else ModelFileError.

    Examples
    --------
    >>> state_int({"n_clusters": 16}, "n_clusters", 1, 4096)
    16
    >>> state_int({"n_clusters": 1e9}, "n_clusters", 1, 4096)
    Traceback (most recent call last):
    ...
    skelbehave.errors.ModelFileError: n_clusters must be an integer in [1, 4096], got 1000000000.0
    """
    v = _get(params, name)
    if v is None and none:
        return None
    ok = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
    if ok and ((lo is not None and v < lo) or (hi is not None and v > hi)):
        ok = False
    if not ok:
        raise ModelFileError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


def state_float(
    params: dict, name: str, lo: float | None = None, hi: float | None = None, *, none: bool = False
):
    """``params[name]`` as a finite float in ``[lo, hi]`` (None allowed with ``none=True``).

    Examples
    --------
    >>> state_float({"fps": 30}, "fps", 0.0, 1e4)
    30.0
    """
    v = _get(params, name)
    if v is None and none:
        return None
    ok = isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)
    if ok and ((lo is not None and v < lo) or (hi is not None and v > hi)):
        ok = False
    if not ok:
        raise ModelFileError(f"{name} must be a finite number in [{lo}, {hi}], got {v!r}")
    return float(v)


def state_bool(params: dict, name: str) -> bool:
    """``params[name]`` as a bool.

    Examples
    --------
    >>> state_bool({"fuse": True}, "fuse")
    True
    """
    v = _get(params, name)
    if not isinstance(v, bool):
        raise ModelFileError(f"{name} must be true or false, got {v!r}")
    return v


def state_str(params: dict, name: str, choices=None, *, none: bool = False):
    """``params[name]`` as a str (one of ``choices`` when given).

    Examples
    --------
    >>> state_str({"kind": "forest"}, "kind", ("forest", "boosted"))
    'forest'
    """
    v = _get(params, name)
    if v is None and none:
        return None
    if not isinstance(v, str) or (choices is not None and v not in choices):
        raise ModelFileError(
            f"{name} must be {'one of ' + repr(tuple(choices)) if choices else 'a string'}, got {v!r}"
        )
    return v


def state_int_list(params: dict, name: str, lo: int | None = None, hi: int | None = None, max_len: int = 64):
    """``params[name]`` as a list of ints in ``[lo, hi]``, at most ``max_len`` long.

    Examples
    --------
    >>> state_int_list({"pyramid": [2, 4]}, "pyramid", 1, 64)
    [2, 4]
    """
    v = _get(params, name)
    if not isinstance(v, (list, tuple)) or len(v) > max_len:
        raise ModelFileError(f"{name} must be a list of at most {max_len} integers, got {v!r}")
    return [state_int({name: x}, name, lo, hi) for x in v]


def state_classes(params: dict, name: str = "classes", max_len: int = 100_000) -> np.ndarray:
    """``params[name]`` as a class array: a non-empty list of unique ints or of unique strings.

    Examples
    --------
    >>> state_classes({"classes": ["sit", "stand"]}).tolist()
    ['sit', 'stand']
    >>> state_classes({"classes": [1, "a"]})
    Traceback (most recent call last):
    ...
    skelbehave.errors.ModelFileError: classes must be a list of unique integers or of unique ...
    """
    v = _get(params, name)
    ok = isinstance(v, list) and 1 <= len(v) <= max_len
    if ok:
        ints = all(isinstance(c, int) and not isinstance(c, bool) for c in v)
        strs = all(isinstance(c, str) for c in v)
        ok = (ints or strs) and len(set(v)) == len(v)
    if not ok:
        shown = v if not isinstance(v, list) or len(v) < 20 else f"{v[:20]}..."
        raise ModelFileError(f"{name} must be a list of unique integers or of unique strings, got {shown!r}")
    return np.asarray(v)


def state_layout(params: dict, name: str = "layout", max_joints: int = 10_000):
    """``params[name]`` (a :meth:`JointLayout.to_dict` description) as a layout of 1 to ``max_joints`` joints.

    Examples
    --------
    >>> from skelbehave.layouts import get_layout
    >>> state_layout({"layout": get_layout("msr20").to_dict()}).n_joints
    20
    """
    from ..layouts import JointLayout

    d = _get(params, name)
    joints = d.get("joints") if isinstance(d, dict) else None
    if not isinstance(joints, list) or not 1 <= len(joints) <= max_joints:
        raise ModelFileError(f"{name} must describe 1 to {max_joints} joints")
    names = set(joints)
    if len(names) != len(joints) or not all(isinstance(j, str) for j in joints):
        raise ModelFileError(f"{name}: joints must be unique strings")

    def names_ok(v) -> bool:
        return isinstance(v, list) and all(isinstance(j, str) and j in names for j in v)

    for key in ("facing", "size"):
        v = d.get(key)
        if v is not None and not (isinstance(v, list) and len(v) == 2 and all(names_ok(s) for s in v)):
            raise ModelFileError(f"{name}: {key} must be null or two lists of the layout's joints, got {v!r}")
    if not names_ok(d.get("root", [])):
        raise ModelFileError(f"{name}: root must list joints of the layout")
    groups = d.get("groups", {})
    if not isinstance(groups, dict) or not all(names_ok(g) for g in groups.values()):
        raise ModelFileError(f"{name}: groups must map names to lists of the layout's joints")
    parts = d.get("partitions", {})
    if not isinstance(parts, dict) or not all(
        isinstance(v, list) and all(isinstance(p, list) and all(g in groups for g in p) for p in v)
        for v in parts.values()
    ):
        raise ModelFileError(f"{name}: partitions must be lists of lists of group names")
    try:
        return JointLayout.from_dict(d)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{name}: {exc}") from None


def _get(params, name):
    if not isinstance(params, dict):
        raise ModelFileError(f"parameters holding {name!r} must be an object, got {type(params).__name__}")
    if name not in params:
        raise ModelFileError(f"{name} is missing")
    return params[name]


def state_array(
    arrays: dict[str, np.ndarray],
    name: str,
    kind: str = "f",
    shape: tuple | None = None,
    ndim: int | None = None,
    finite: bool = True,
    dtype=None,
) -> np.ndarray:
    """Array ``name`` checked for dtype kind, shape and finiteness, else ModelFileError naming it.

    Parameters
    ----------
    arrays : dict of str to ndarray
    name : str
    kind : str
        Accepted dtype kinds (``"f"`` float, ``"i"``/``"u"`` integers, ``"b"``
        bool, ``"U"`` text); ``"f"`` requires float32 or float64.
    shape : tuple, optional
        Expected shape; ``None`` entries match any length.
    ndim : int, optional
        Expected number of dimensions.
    finite : bool
        Refuse NaN and infinite values (float arrays).
    dtype : dtype, optional
        Convert the checked array to this dtype.

    Examples
    --------
    >>> import numpy as np
    >>> state_array({"coef": np.ones((2, 3))}, "coef", shape=(2, None)).shape
    (2, 3)
    >>> state_array({"coef": np.ones((2, 3), np.int8)}, "coef")
    Traceback (most recent call last):
    ...
    skelbehave.errors.ModelFileError: array coef must be float32 or float64, got int8
    """
    if name not in arrays:
        raise ModelFileError(f"array {name} is missing")
    a = np.asarray(arrays[name])
    if kind == "f" and a.dtype not in (np.float32, np.float64):
        raise ModelFileError(f"array {name} must be float32 or float64, got {a.dtype}")
    if a.dtype.kind not in kind:
        raise ModelFileError(f"array {name} must be of dtype kind {kind!r}, got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ModelFileError(f"array {name} must have {ndim} dimensions, got shape {a.shape}")
    if shape is not None and (
        a.ndim != len(shape)
        or any(s is not None and int(s) != n for s, n in zip(shape, a.shape, strict=True))
    ):
        want = tuple("any" if s is None else int(s) for s in shape)
        raise ModelFileError(f"array {name} must have shape {want}, got {a.shape}")
    if finite and a.dtype.kind in "fc" and not np.isfinite(a).all():
        raise ModelFileError(f"array {name} holds NaN or infinite values")
    return a if dtype is None else a.astype(dtype, copy=False)
