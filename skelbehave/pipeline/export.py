"""Export a fitted model for deployment: an ONNX graph and a model card (JSON) next to it.

What the ONNX graph covers depends on the model's head:

- **CNN** (:class:`~skelbehave.models.cnn.CNNClassifier`, on its own or as the
  head of a :class:`~skelbehave.pipeline.BehaviorModel`): the folded, pruned
  inference network through :func:`torch.onnx.export`, with the input
  standardisation and the late fusion of the streams inside the graph. Inputs:
  one float32 tensor per stream, ``(batch, channels, n_frames)``, as
  :func:`skelbehave.models.cnn.inputs.make_inputs` builds them; outputs:
  ``probabilities`` (the fused class probabilities) and ``logits_<stream>``.
  Cleaning and resampling the poses to those inputs stay in Python.
- **scikit-learn linear heads** (ridge, svm, logreg, SGD, perceptron, with the
  NaN-safe imputer and scaler when the model has them) through ``skl2onnx``:
  the graph maps the encoded vectors (``features``, float64, ``(batch,
  n_features)``) to ``label`` and ``scores``. Joint features, the VLAD (or
  BoW / Fisher) encoding, and for frame-level models the windows and the
  mapping of window scores to frames, stay in Python (:meth:`BehaviorModel.transform`).
- Heads ``skl2onnx`` cannot convert (the flattened tree ensembles of frame-level
  models, a context stage) are refused with one message.

Every export is checked: onnxruntime runs the written graph and its outputs
must lie within ``atol`` (default 1e-5) of torch / scikit-learn on the same
inputs, or nothing is kept. The card records the layout, frame rate, classes,
model kind, the source model file's checksums and versions, what the model
stores about its training (pruning), the package version, and the names,
shapes and types of the graph's inputs and outputs.

Needs the ``export`` extra (onnx, onnxruntime, skl2onnx) and, for CNN models,
the ``cnn`` extra.

Examples
--------
>>> import numpy as np, tempfile, skelbehave
>>> from skelbehave.encoding import VLADEncoder
>>> rng = np.random.default_rng(0)
>>> X = [np.cumsum(rng.normal(size=(30, 20, 3)), axis=0) * (1 + k % 2) for k in range(8)]
>>> model = skelbehave.BehaviorModel(encoder=VLADEncoder(n_clusters=2), layout="msr20",
...                                  random_state=0).fit(X, [k % 2 for k in range(8)])
>>> res = export_model(model, tempfile.mkdtemp(), check_sequences=X)
>>> res.onnx.suffix, res.card["graph"]["inputs"][0]["name"], res.max_abs_diff <= 1e-5
('.onnx', 'features', True)
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._util.fs import atomic_path, atomic_write, file_sha256
from .._util.optional import require
from ..errors import ModelFileError, ParameterError, ParameterTypeError
from .model_card import CARD_VERSION, model_card

__all__ = [
    "CARD_VERSION",
    "EXPORT_ATOL",
    "FORMATS",
    "ExportResult",
    "cnn_inputs",
    "deploy_module",
    "export_model",
]

#: Formats :func:`export_model` writes.
FORMATS = ("onnx",)
#: Largest absolute difference allowed between onnxruntime and torch / scikit-learn outputs.
EXPORT_ATOL = 1e-5
#: ONNX opset of the exported graphs.
OPSET = 17
_N_SYNTHETIC = 16


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote.

    Attributes
    ----------
    onnx : Path
        The ONNX graph.
    card : dict
        The model card (also written to ``card_path``).
    card_path : Path
        ``<name>.card.json`` next to the graph.
    max_abs_diff : float
        Largest difference between onnxruntime and the original on the check inputs.
    """

    onnx: Path
    card: dict[str, Any]
    card_path: Path
    max_abs_diff: float


def export_model(
    model,
    out_dir: str | os.PathLike,
    *,
    format: str = "onnx",
    name: str | None = None,
    check_sequences=None,
    check_files=None,
    atol: float = EXPORT_ATOL,
) -> ExportResult:
    """Write ``model`` as an ONNX graph plus a model card, checked against onnxruntime.

    Parameters
    ----------
    model : path-like, BehaviorModel, FrameLevelModel or CNNClassifier
        A saved model file (``.skb``) or a fitted model.
    out_dir : path-like
        Folder for ``<name>.onnx`` and ``<name>.card.json`` (created).
    format : {"onnx"}
        Export format.
    name : str, optional
        File stem; default the model file's stem, or the model's kind.
    check_sequences : sequence of PoseSequence or arrays (T, J, C), optional
        Real poses the parity check runs on (their model inputs, or encoded
        vectors for scikit-learn heads). Without them the check uses
        synthetic inputs drawn around the stored input statistics (CNN) or
        random vectors (heads; always for a frame-level model's head).
    check_files : sequence of path-like, optional
        Pose files (any format :func:`skelbehave.io.read_poses` reads) whose
        sequences are added to ``check_sequences``.
    atol : float
        Largest absolute difference allowed between onnxruntime and the original.

    Returns
    -------
    ExportResult

    Raises
    ------
    ParameterError
        Unknown format, or a head ``skl2onnx`` cannot convert (the message says
        which kinds can be exported).
    ModelFileError
        The model file cannot be read, or the exported graph does not match the
        original within ``atol`` (nothing is kept then).
    MissingDependencyError
        The ``export`` extra (or ``cnn`` for a CNN) is not installed.

    Examples
    --------
    >>> export_model("model.skb", "deploy/")  # doctest: +SKIP
    ExportResult(onnx=PosixPath('deploy/model.onnx'), ...)
    """
    if format not in FORMATS:
        raise ParameterError(f"format {format!r} is not supported; expected one of {list(FORMATS)}")
    if not (isinstance(atol, (int, float)) and atol > 0):
        raise ParameterError(f"atol must be a number > 0, got {atol!r}")
    if name is not None and (not isinstance(name, str) or Path(name).name != name or name in ("", "..")):
        raise ParameterError(f"name must be a plain file stem (no folder), got {name!r}")
    source: dict[str, Any] | None = None
    if isinstance(model, (str, os.PathLike)):
        model, source = _load(Path(model))
    kind = type(model).__name__
    if kind not in ("BehaviorModel", "FrameLevelModel", "CNNClassifier"):
        raise ParameterTypeError(
            f"cannot export a {kind}: expected a model file or a fitted BehaviorModel, FrameLevelModel or "
            "CNNClassifier"
        )
    if not hasattr(model, "classes_"):
        raise ParameterError(f"the {kind} is not fitted; fit it (or load a saved model) first")
    require("onnx", "export", "ONNX export")
    require("onnxruntime", "export", "ONNX export")
    if check_files:
        from ..io import read_poses

        files = [check_files] if isinstance(check_files, (str, os.PathLike)) else list(check_files)
        check_sequences = list(check_sequences or []) + [s for f in files for s in read_poses(f)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or (Path(source["file"]).stem if source else kind)
    onnx_path = out_dir / f"{stem}.onnx"
    head = model if kind == "CNNClassifier" else model.classifier_
    if type(head).__name__ == "CNNClassifier":
        seqs = _sequences(model, check_sequences)
        part = _export_cnn(head, onnx_path, seqs, atol)
    else:
        part = _export_head(model, head, onnx_path, check_sequences, atol)
    card = model_card(model, onnx_path, source, part)
    card_path = out_dir / f"{stem}.card.json"
    with atomic_write(card_path, "w", encoding="utf-8") as fh:
        json.dump(card, fh, indent=1, default=_json_default)
        fh.write("\n")
    return ExportResult(onnx_path, card, card_path, float(part["max_abs_diff"]))


# ----------------------------------------------------------------------------- loading
def _load(path: Path):
    from ..io.archive import read_archive
    from .persist import load

    model = load(path)
    doc, _ = read_archive(path)
    man = doc.get("_manifest", {})
    source = {
        "file": path.name,
        "sha256": file_sha256(path),
        "format_version": man.get("format_version"),
        "package_version": man.get("package_version"),
        "created": man.get("created"),
        "member_sha256": man.get("sha256"),
    }
    if isinstance(doc.get("layout"), dict):
        source["layout"] = doc["layout"]
    return model, source


def _sequences(model, seqs):
    if seqs is None:
        return None
    if type(model).__name__ == "BehaviorModel":
        seqs = model._sequences(seqs)  # its layout conversion, as in predict
    return seqs


# ----------------------------------------------------------------------------- CNN
def cnn_inputs(clf, sequences) -> dict[str, np.ndarray]:
    """Raw (unstandardised) inputs of a fitted CNN: stream -> ``(n, channels, n_frames)``.

    These are what the exported graph takes (it standardises them itself).

    Examples
    --------
    >>> from skelbehave.models.cnn import CNNClassifier  # doctest: +SKIP
    >>> cnn_inputs(clf, seqs)["position"].shape  # doctest: +SKIP
    (10, 60, 64)
    """
    from ..models.cnn.inputs import clean_positions, make_inputs
    from ..poses import as_sequences

    seqs = as_sequences(sequences, layout=clf.layout)
    return make_inputs(
        [clean_positions(s) for s in seqs],
        np.asarray(clf.root_),
        n_frames=clf.n_frames,
        step=clf.step,
        streams=clf.streams_,
        position_centre=clf.position_centre,
        motion_features=tuple(clf.motion_features),
        bones=getattr(clf, "bones_", None),
        angles=getattr(clf, "angles_", None),
    )


def deploy_module(clf):
    """The fitted CNN as one torch module, the one :func:`export_model` exports.

    It standardises its raw inputs (:func:`cnn_inputs`, one tensor per stream, in
    ``clf.streams_`` order), runs every stream and fuses them; it returns
    ``(probabilities, logits_<stream>...)``.

    Returns
    -------
    module : torch.nn.Module
        In eval mode, on the CPU (a copy: ``clf`` is not changed).
    streams : list of str
        The input order.

    Examples
    --------
    >>> net, streams = deploy_module(clf)  # doctest: +SKIP
    >>> probs = net(*[torch.from_numpy(cnn_inputs(clf, seqs)[s]) for s in streams])[0]  # doctest: +SKIP
    """
    import copy

    torch = require("torch", "cnn", "exporting a CNN")
    nn = torch.nn
    streams = list(clf.streams_)
    w = getattr(clf, "fusion_weights_", None) or {s: 1.0 / len(streams) for s in streams}
    rule = clf.fusion_rule

    class Deploy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nets = nn.ModuleList([copy.deepcopy(clf.network_.streams[s]).cpu().eval() for s in streams])
            for i, s in enumerate(streams):
                self.register_buffer(
                    f"mean{i}", torch.from_numpy(clf.input_mean_[s].reshape(1, -1, 1).copy())
                )
                self.register_buffer(f"std{i}", torch.from_numpy(clf.input_std_[s].reshape(1, -1, 1).copy()))
            self.weights = [float(w[s]) for s in streams]

        def forward(self, *xs):
            logits = [
                net((x - getattr(self, f"mean{i}")) / getattr(self, f"std{i}"))
                for i, (net, x) in enumerate(zip(self.nets, xs, strict=True))
            ]
            probs = [torch.softmax(z, dim=1) for z in logits]
            if rule == "geometric":
                logp = sum(
                    wi * torch.log(torch.clamp(p, min=1e-12))
                    for wi, p in zip(self.weights, probs, strict=True)
                )
                fused = torch.softmax(logp, dim=1)
            else:
                fused = sum(wi * p for wi, p in zip(self.weights, probs, strict=True))
            return (fused, *logits)

    return Deploy().eval(), streams


def _export_cnn(clf, path: Path, seqs, atol: float) -> dict[str, Any]:
    torch = require("torch", "cnn", "exporting a CNN")
    net, streams = deploy_module(clf)
    if seqs is not None:
        from ..poses import as_sequences
        from ..temporal.presence import has_pose

        seqs = [s for s in as_sequences(seqs, layout=clf.layout) if has_pose(s)] or None
    if seqs is not None:
        raw = cnn_inputs(clf, seqs)
        checked_on = f"{len(seqs)} real sequences"
    else:
        rng = np.random.default_rng(0)
        raw = {}
        for s in streams:
            mean, std = clf.input_mean_[s][None, :, None], clf.input_std_[s][None, :, None]
            noise = rng.standard_normal((_N_SYNTHETIC, mean.shape[1], clf.n_frames))
            raw[s] = (mean + std * noise).astype(np.float32)
        checked_on = f"{_N_SYNTHETIC} synthetic inputs (mean +- std of the training inputs)"
    raw = {s: np.ascontiguousarray(raw[s], dtype=np.float32) for s in streams}
    outputs = ["probabilities", *[f"logits_{s}" for s in streams]]
    example = tuple(torch.from_numpy(raw[s][:2]) for s in streams)
    with atomic_path(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter (dynamo=False) needs no onnxscript; torch >= 2.9 calls it legacy
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            example,
            str(tmp),
            input_names=streams,
            output_names=outputs,
            dynamic_axes={n: {0: "batch"} for n in [*streams, *outputs]},
            opset_version=OPSET,
            dynamo=False,
        )
        with torch.no_grad():
            want = [t.numpy() for t in net(*(torch.from_numpy(raw[s]) for s in streams))]
        got = _run_onnx(tmp, {s: raw[s] for s in streams})
        got1 = _run_onnx(tmp, {s: raw[s][:1] for s in streams})  # batch 1: the batch axis is dynamic
        diff = max(
            max(float(np.max(np.abs(g - w_))) for g, w_ in zip(got, want, strict=True)),
            max(float(np.max(np.abs(g - w_[:1]))) for g, w_ in zip(got1, want, strict=True)),
        )
        _check_diff(diff, atol, path, "torch")
    return {
        "head": "CNNClassifier",
        "atol": atol,
        "max_abs_diff": diff,
        "checked_on": checked_on,
        "compared_with": "torch (the same network, float32)",
        "graph_covers": (
            "input standardisation, every stream of the folded (DO-Conv) and pruned 1-D CNN, late fusion "
            f"({rule_name(clf)}) -> fused class probabilities and per-stream logits"
        ),
        "python_steps": [
            "read poses, convert to the model's layout (skelbehave.io.read_poses, PoseSequence.to_layout)",
            "clean and resample each sequence to n_frames and build the stream inputs: positions, bone "
            "vectors and joint angles; velocities and accelerations "
            "(skelbehave.pipeline.export.cnn_inputs = skelbehave.models.cnn.inputs.make_inputs)",
            "argmax of probabilities -> classes (the card's 'classes', in order)",
        ],
        "inputs_are": {s: f"(batch, {raw[s].shape[1]}, {clf.n_frames}) from cnn_inputs" for s in streams},
        "n_frames": int(clf.n_frames),
        "pruning": getattr(clf, "pruning_", None),
        "n_parameters": int(clf.n_parameters()),
    }


def rule_name(clf) -> str:
    """How the CNN's streams are fused, in words (for the card).

    Examples
    --------
    >>> class C: fusion_rule = "arithmetic"; streams_ = ["position", "motion"]
    >>> rule_name(C())
    'arithmetic mean of the stream probabilities, equal weights'
    """
    w = getattr(clf, "fusion_weights_", None)
    weights = ", ".join(f"{s} {w[s]:.3f}" for s in clf.streams_) if w else "equal weights"
    return f"{clf.fusion_rule} mean of the stream probabilities, {weights}"


# ----------------------------------------------------------------------------- scikit-learn heads
def _final(est):
    steps = getattr(est, "steps", None)
    return steps[-1][1] if steps else est


def _export_head(model, head, path: Path, seqs, atol: float) -> dict[str, Any]:
    kind = type(model).__name__
    hname = type(_final(head)).__name__
    if type(head).__module__.split(".")[0] != "sklearn":
        what = "skelbehave's flattened tree ensemble"
        if hname == "EnsembleClassifier":
            what = "the VLAD model and the CNN"
        raise ParameterError(
            f"cannot export this {kind}: its head is a {hname} ({what}), "
            "which skl2onnx cannot convert; ONNX export covers CNN models and scikit-learn linear heads "
            "(ridge, svm, logreg): refit with classifier='ridge' / 'svm' / 'logreg' or 'cnn'"
        )
    if getattr(model, "context_", None) is not None:
        raise ParameterError(
            f"cannot export this {kind}: it has a context stage (context_folds) after its head; refit with "
            "context_folds=0 to export it"
        )
    skl2onnx = require("skl2onnx", "export", "ONNX export of scikit-learn heads")
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    n = int(head.n_features_in_)
    if seqs is not None and kind == "BehaviorModel":
        F = np.asarray(model.transform(seqs), dtype=np.float64)
        F = F[np.isfinite(F).all(axis=1)]
        checked_on = f"{len(F)} real sequences (their encoded vectors)"
    else:
        F = np.random.default_rng(0).standard_normal((_N_SYNTHETIC, n)) / np.sqrt(n)
        checked_on = f"{_N_SYNTHETIC} random vectors"
    options = {id(_final(head)): {"zipmap": False}} if hasattr(_final(head), "predict_proba") else None
    want_label = np.asarray(head.predict(F))
    what = "predict_proba" if hasattr(head, "predict_proba") else "decision_function"
    want = np.asarray(getattr(head, what)(F), dtype=np.float64)
    with atomic_path(path) as tmp:
        # float64 keeps scikit-learn's precision; some converters (or onnxruntime kernels) only take float32
        error: BaseException | None = None
        for tensor_type, dtype in ((DoubleTensorType, np.float64), (FloatTensorType, np.float32)):
            try:  # skl2onnx raises RuntimeError / MissingShapeCalculator / NotImplementedError ...
                onx = skl2onnx.convert_sklearn(
                    head,
                    initial_types=[("features", tensor_type([None, n]))],
                    target_opset={"": OPSET, "ai.onnx.ml": 3},
                    options=options,
                )
                names = _rename_outputs(onx, ("label", "scores"))
                tmp.write_bytes(onx.SerializeToString())
                label, scores = _run_onnx(tmp, {"features": F.astype(dtype)})[:2]
                break
            except Exception as exc:  # ... and onnxruntime its own Fail for a graph it cannot load
                error = exc
        else:
            raise ParameterError(
                f"cannot export this {kind}: skl2onnx cannot convert its {hname} head ({_short(error)}); "
                "ONNX export covers CNN models and scikit-learn linear heads (ridge, svm, logreg)"
            )
        dim = onx.graph.output[1].type.tensor_type.shape.dim
        if len(dim) == 2 and scores.ndim == 2 and dim[1].dim_value != scores.shape[1]:
            dim[1].dim_value = scores.shape[1]  # skl2onnx declares 2 columns for a binary ridge that gives 1
            tmp.write_bytes(onx.SerializeToString())
            label, scores = _run_onnx(tmp, {"features": F.astype(dtype)})[:2]
        if want.ndim == 1:  # binary decision_function: the score of the second class
            want, scores = want[:, None], scores[:, -1:]
        diff = float(np.max(np.abs(scores - want))) if len(F) else 0.0
        _check_diff(diff, atol, path, f"scikit-learn {what}")
        # labels must agree wherever the two best scores are further apart than the tolerance
        top2 = np.sort(want, axis=1)[:, -2:] if want.shape[1] > 1 else np.c_[-np.abs(want), np.abs(want)]
        clear = (top2[:, 1] - top2[:, 0]) > 2 * atol
        same = np.asarray(label).astype(want_label.dtype) == want_label
        if not same[clear].all():
            raise ModelFileError(
                f"exported graph {path.name}: labels differ from scikit-learn predict for "
                f"{int((~same[clear]).sum())} of {len(F)} check inputs; nothing was written"
            )
    parts = [type(x[1]).__name__ for x in head.steps] if hasattr(head, "steps") else [hname]
    steps = (
        ["read poses, convert to the model's layout", "joint features (JointFeatures)",
         f"encoding ({type(model.encoder_).__name__}) -> one vector per sequence: BehaviorModel.transform"]
        if kind == "BehaviorModel"
        else ["read poses, convert to the model's layout", "windows over time and per-window statistics",
              "window scores -> per-frame labels (FrameLevelModel.predict)"]
    )  # fmt: skip
    return {
        "head": hname,
        "atol": atol,
        "max_abs_diff": diff,
        "checked_on": checked_on,
        "compared_with": f"scikit-learn {hname}.{what} and .predict (float64)",
        "graph_covers": (
            f"the head only: encoded vector 'features' ({np.dtype(dtype).name}, {n} values) -> 'label' "
            f"and 'scores' ({what}) through {' -> '.join(parts)}"
        ),
        "python_steps": steps,
        "skl2onnx_outputs": names,
        "n_features": n,
    }


# ----------------------------------------------------------------------------- helpers
def _rename_outputs(onx, new_names: tuple[str, ...]) -> list[str]:
    """Give the graph's outputs ``new_names`` (in order); the old names are returned."""
    old = [o.name for o in onx.graph.output]
    for o, new in zip(onx.graph.output, new_names, strict=False):
        for node in onx.graph.node:
            node.output[:] = [new if x == o.name else x for x in node.output]
            node.input[:] = [new if x == o.name else x for x in node.input]
        o.name = new
    return old


def _run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    ort = require("onnxruntime", "export", "ONNX export")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only (skl2onnx's declared shapes can differ harmlessly)
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _check_diff(diff: float, atol: float, path: Path, what: str) -> None:
    if not np.isfinite(diff) or diff > atol:
        raise ModelFileError(
            f"exported graph {path.name}: onnxruntime differs from {what} by {diff:.3g} (> {atol:g}); "
            "nothing was written"
        )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)
