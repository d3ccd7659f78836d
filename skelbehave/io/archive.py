"""The ``.skb`` container: JSON + arrays in one zip, with checksums, no pickle.

Safe model files: JSON + arrays in one ``.skb`` zip, with checksums, no pickle.

Layout of a ``.skb`` file (a ZIP archive; spec in ``data_specs/model_file.md``):

``manifest.json``
    ``{"format": "skelbehave-model", "format_version": 1,
    "package_version": ..., "created": ..., "sha256": {"model.json": ...,
    "arrays.npz": ...}}``
``model.json``
    Model parameters, layout, class names and one entry per component:
    ``{"type": <registry name>, "params": ..., "arrays": [names]}``.
``arrays.npz``
    Every array, named ``<component>.<name>``; read with
    ``np.load(allow_pickle=False)``, so object arrays cannot sneak in.

Loading checks the archive, the format name and version (a newer version
gives :class:`~skelbehave.errors.ModelFileError` asking to upgrade), both
checksums, then rebuilds each component through the registry in
:mod:`skelbehave.pipeline` (never from a free-form import path).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "read_archive", "write_archive"]

FORMAT = "skelbehave-model"
FORMAT_VERSION = 1
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
        a = np.asarray(arr)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object and cannot be saved without pickle")
    model_bytes = json.dumps(model, default=_json_default, indent=1, sort_keys=True).encode("utf-8")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("model.json", model_bytes)
            zf.writestr("arrays.npz", arrays_bytes)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_archive(path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a ``.skb`` archive: returns ``(model, arrays)``.

    Raises
    ------
    ModelFileError
        Missing, truncated or corrupt file, wrong format, newer format
        version, or checksum mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [m for m in _MEMBERS if m not in names]
            if missing:
                raise ModelFileError(f"{path}: not a skelbehave model file (missing {missing})")
            raw = {m: zf.read(m) for m in _MEMBERS}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelFileError(f"{path}: truncated or corrupt model file ({exc})") from None
    except Exception as exc:  # zlib.error and the like on damaged members
        raise ModelFileError(
            f"{path}: truncated or corrupt model file ({type(exc).__name__}: {exc})"
        ) from None
    try:
        manifest = json.loads(raw["manifest.json"])
    except ValueError as exc:
        raise ModelFileError(f"{path}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a skelbehave model file (format {manifest.get('format')!r})")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{path}: format_version missing or not an integer: {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {version} is newer than this skelbehave supports "
            f"({FORMAT_VERSION}; written by skelbehave {manifest.get('package_version')}); "
            "upgrade skelbehave to load it"
        )
    sums = manifest.get("sha256") or {}
    for member in ("model.json", "arrays.npz"):
        if sums.get(member) != _sha256(raw[member]):
            raise ModelFileError(f"{path}: checksum of {member} does not match the manifest (file altered?)")
    try:
        model = json.loads(raw["model.json"])
        with np.load(io.BytesIO(raw["arrays.npz"]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as exc:
        raise ModelFileError(f"{path}: unreadable model contents ({exc})") from None
    model["_manifest"] = manifest
    return model, arrays
