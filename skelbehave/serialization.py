"""Safe model files: JSON + arrays in one ``.skb`` zip, with checksums, no pickle.

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

from .errors import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "save_model", "load_model", "write_archive", "read_archive"]

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
    from . import __version__

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


# ----------------------------------------------------------------------------- models
def _component_state(role: str, est) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from .models.heads import SAVABLE_HEADS, head_state
    from .pipeline import COMPONENTS

    name = type(est).__name__
    if role == "classifier" and name in SAVABLE_HEADS and type(est).__module__.startswith("sklearn"):
        params, arrays = head_state(est)
        return {"type": f"sklearn:{name}", "params": params}, arrays
    if name not in COMPONENTS:
        raise TypeError(
            f"cannot save {role} {name}: only registered components {sorted(COMPONENTS)} and the "
            f"scikit-learn heads {sorted(SAVABLE_HEADS)} can be saved without pickle"
        )
    if name == "JointFeatures":
        params = dict(est.get_params(deep=False))
        lay = params.get("layout")
        if lay is not None and not isinstance(lay, str):
            params["layout"] = lay.name
        return {"type": name, "params": params, "n_dims": int(est.n_dims_)}, {}
    if not hasattr(est, "_get_state"):
        raise TypeError(f"cannot save {role} {name}: it has no _get_state()")
    params, arrays = est._get_state()
    return {"type": name, "params": params}, arrays


def save_model(model, path) -> Path:
    """Save a fitted :class:`~skelbehave.pipeline.BehaviorModel` to ``path`` (``.skb``).

    Raises
    ------
    TypeError
        A component cannot be saved without pickle (e.g. an arbitrary
        scikit-learn classifier; see :data:`skelbehave.models.heads.SAVABLE_HEADS`).
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "classes_")
    params = dict(model.get_params(deep=False))
    doc: dict[str, Any] = {
        "kind": "BehaviorModel",
        "layout": model.layout_.to_dict(),
        "layout_name": model.layout_.name,
        "n_dims": int(model.n_dims_),
        "fps": params["fps"],
        "random_state": params["random_state"] if isinstance(params["random_state"], int) else None,
        "n_jobs": params["n_jobs"],
        "classes": [c.item() if isinstance(c, np.generic) else c for c in model.classes_],
        "n_features_out": int(model.n_features_out_),
        "components": {},
    }
    arrays: dict[str, np.ndarray] = {}
    for role in ("features", "encoder", "classifier"):
        est = getattr(model, f"{role}_")
        if est is None:
            continue
        entry, arrs = _component_state(role, est)
        entry["arrays"] = sorted(arrs)
        doc["components"][role] = entry
        for k, v in arrs.items():
            arrays[f"{role}.{k}"] = np.asarray(v)
    return write_archive(path, doc, arrays)


def _layout_from_doc(doc):
    from .layouts import JointLayout, get_layout

    lay = JointLayout.from_dict(doc["layout"]) if hasattr(JointLayout, "from_dict") else None
    if lay is None:
        lay = get_layout(doc["layout_name"])
    try:  # prefer the registered object when it is the same layout
        known = get_layout(doc["layout_name"])
        if known.joints == lay.joints:
            return known
    except Exception:
        pass
    return lay


def load_model(path):
    """Load a :class:`~skelbehave.pipeline.BehaviorModel` written by :func:`save_model`.

    Raises
    ------
    ModelFileError
        Truncated, tampered, newer-version or inconsistent file.
    """
    from .pipeline import BehaviorModel, _resolve_component
    from .poses import PoseSequence

    doc, arrays = read_archive(path)
    try:
        if doc.get("kind") != "BehaviorModel":
            raise ModelFileError(f"{path}: holds a {doc.get('kind')!r}, not a BehaviorModel")
        layout = _layout_from_doc(doc)
        comps = doc["components"]
        fitted: dict[str, Any] = {"features": None, "encoder": None, "classifier": None}
        for role, entry in comps.items():
            sub = {k: arrays[f"{role}.{k}"] for k in entry["arrays"]}
            typ = entry["type"]
            if typ.startswith("sklearn:"):
                from .models.heads import head_from_state

                fitted[role] = head_from_state(entry["params"], sub)
            elif typ == "JointFeatures":
                cls = _resolve_component(typ)
                params = dict(entry["params"])
                if params.get("layout") is not None:
                    params["layout"] = layout
                est = cls(**params)
                n_dims = int(entry["n_dims"])
                est.fit([PoseSequence(np.zeros((2, layout.n_joints, n_dims)), layout)])
                fitted[role] = est
            else:
                fitted[role] = _resolve_component(typ)._from_state(entry["params"], sub)
        if fitted["classifier"] is None:
            raise ModelFileError(f"{path}: no classifier in the model file")
        model = BehaviorModel(
            features=fitted["features"],
            encoder=fitted["encoder"] if fitted["encoder"] is not None else "vlad",
            classifier=fitted["classifier"],
            layout=layout.name,
            fps=doc.get("fps"),
            random_state=doc.get("random_state"),
            n_jobs=doc.get("n_jobs"),
        )
        model.layout_ = layout
        model.n_dims_ = int(doc["n_dims"])
        model.features_ = fitted["features"]
        model.encoder_ = fitted["encoder"]
        model.classifier_ = fitted["classifier"]
        model.classes_ = np.asarray(doc["classes"])
        model.n_features_out_ = int(doc["n_features_out"])
        model.fit_time_ = float("nan")
        model.manifest_ = doc["_manifest"]
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: inconsistent model file ({type(exc).__name__}: {exc})") from None
    return model
