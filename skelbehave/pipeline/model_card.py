"""The model card written next to an exported ONNX graph (``data_specs/model_card.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import file_sha256
from .._util.optional import require
from .._version import __version__

#: Version of the model card's layout.
CARD_VERSION = 1


def calibration_entry(cal) -> dict[str, Any] | None:
    """How a calibrated model turns the graph's ``scores`` into its probabilities (None: uncalibrated).

    Examples
    --------
    >>> from skelbehave.models.calibration import Calibrator
    >>> calibration_entry(Calibrator("temperature", ["a", "b", "c"], beta=0.5))["beta"]
    0.5
    """
    if cal is None:
        return None
    out: dict[str, Any] = {"method": cal.method}
    if cal.method == "temperature":
        out["beta"] = cal.beta_
        out["formula"] = (
            "probabilities = softmax(beta * logits); logits = scores for 2-D scores, "
            "[-s, s] for one score column s"
        )
    else:
        out["a"], out["b"] = np.asarray(cal.a_).tolist(), np.asarray(cal.b_).tolist()
        out["formula"] = "q = 1 / (1 + exp(a * scores + b)) per class, normalised to sum to 1"
    return out


def _io_spec(path: Path) -> dict[str, list[dict[str, Any]]]:
    onnx = require("onnx", "export", "ONNX export")
    m = onnx.load(str(path))

    def one(v) -> dict[str, Any]:
        t = v.type.tensor_type
        dims = [d.dim_param or (d.dim_value if d.HasField("dim_value") else None) for d in t.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
        return {"name": v.name, "dtype": dtype, "shape": dims}

    return {"inputs": [one(v) for v in m.graph.input], "outputs": [one(v) for v in m.graph.output],
            "opset": {o.domain or "ai.onnx": o.version for o in m.opset_import}}  # fmt: skip


def model_card(model, onnx_path: Path, source: dict[str, Any] | None, part: dict[str, Any]) -> dict[str, Any]:
    """The model card of an exported graph (``data_specs/model_card.md``): what a deployer needs.

    ``source`` describes the model file (path, checksums, versions), ``part`` what the export of
    the head produced (graph coverage, parity check). Calibrated clip models carry their
    calibration map, since the graph's ``scores`` are the head's scores before it.
    """
    lay = getattr(model, "layout_", None)
    if lay is not None:
        layout = {"name": lay.name, "joints": list(lay.joints)}
    elif source and "layout" in source:
        layout = {"name": source["layout"].get("name"), "joints": source["layout"].get("joints")}
    elif isinstance(getattr(model, "layout", None), str):
        layout = {"name": model.layout, "joints": None}
    else:
        layout = None
    fps = getattr(model, "fps_", None) or getattr(model, "fps", None)
    classes = [c.item() if isinstance(c, np.generic) else c for c in np.asarray(model.classes_)]
    metrics = {k: v for k, v in (("pruning", part.get("pruning")),) if v}
    for attr in ("metrics_", "cv_scores_", "score_"):
        if getattr(model, attr, None) is not None:
            metrics[attr.rstrip("_")] = getattr(model, attr)
    src = dict(source or {"file": None})
    src.pop("layout", None)
    return {
        "card_version": CARD_VERSION,
        "model_kind": type(model).__name__,
        "head": part["head"],
        "layout": layout,
        "fps": float(fps) if fps else None,
        "classes": classes,
        "window_frames": getattr(model, "window_frames_", None),
        "stride_frames": getattr(model, "stride_frames_", None),
        "source_model": src,
        "training_data_sha256": getattr(model, "training_data_sha256_", None),
        "training_data_note": (
            None
            if getattr(model, "training_data_sha256_", None)
            else "the model file records no hash of its training data; source_model.sha256 identifies the "
            "trained model"
        ),
        "calibration": calibration_entry(getattr(model, "calibrator_", None)),
        "metrics": metrics or None,
        "package_version": __version__,
        "graph": {
            "file": onnx_path.name,
            "sha256": file_sha256(onnx_path),
            **_io_spec(onnx_path),
            "covers": part["graph_covers"],
            "python_steps": part["python_steps"],
            **{k: part[k] for k in ("inputs_are", "n_frames", "n_parameters", "n_features") if k in part},
        },
        "parity": {
            "max_abs_diff": part["max_abs_diff"],
            "atol": part["atol"],
            "checked_on": part["checked_on"],
            "compared_with": part["compared_with"],
            "runtime": "onnxruntime, CPUExecutionProvider",
        },
    }
