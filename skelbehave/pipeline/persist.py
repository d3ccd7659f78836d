"""Saving and loading every model kind: one state protocol, one registry of kinds.

See :mod:`skelbehave.io.archive` for the container (format, checksums,
atomic write) and ``data_specs/model_file.md`` for the layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError
from ..io.archive import read_archive, write_archive

__all__ = ["load", "load_model", "save_model"]


def _component_state(role: str, est) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from ..models.heads import SAVABLE_HEADS, head_state
    from .clip import COMPONENTS

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
    from ..layouts import JointLayout, get_layout

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
    doc, arrays = read_archive(path)
    return _behavior_model_from_doc(doc, arrays, path)


def _behavior_model_from_doc(doc: dict, arrays: dict, path):
    from ..poses import PoseSequence
    from .clip import BehaviorModel, _resolve_component

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
                from ..models.heads import head_from_state

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


def load(path):
    """Load any model file written by skelbehave (no code from the file is run).

    Raises
    ------
    ModelFileError
        The file is truncated, tampered with, or from a newer format version.

    Examples
    --------
    >>> import skelbehave
    >>> try:
    ...     skelbehave.load("no_such_model.skb")
    ... except skelbehave.SkelbehaveError as exc:
    ...     print(type(exc).__name__)
    ModelFileError
    """
    doc, arrays = read_archive(path)
    if doc.get("kind") == "FrameLevelModel":
        from .frame import FrameLevelModel

        return FrameLevelModel._from_doc(doc, arrays, path)
    return _behavior_model_from_doc(doc, arrays, path)
