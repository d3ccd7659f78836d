"""Saving a :class:`~skelbehave.models.cnn.CNNClassifier`: its state (the protocol of
:mod:`skelbehave.pipeline.persist`) and every check a loaded state goes through.

Examples
--------
>>> import numpy as np
>>> from skelbehave.models.cnn import CNNClassifier
>>> X = [np.random.default_rng(k).normal(size=(20, 20, 3)) for k in range(6)]
>>> clf = CNNClassifier(layout="msr20", channels=(8,), n_frames=16, max_epochs=1, random_state=0)
>>> clf = clf.fit(X, [0, 1] * 3)
>>> params, arrays = cnn_state(clf)
>>> back = cnn_from_state(CNNClassifier, params, arrays)
>>> bool(np.allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-6))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...errors import LayoutError, ModelFileError, ParameterError
from .inputs import MOTION_FEATURES, augment_dict
from .network import build_from_description, describe

__all__ = ["STATE_VERSION", "cnn_from_state", "cnn_state"]

#: version of the CNN state inside a model file
STATE_VERSION = 1


def jsonable(v: Any) -> Any:
    """``v`` with tuples as lists, dict keys as strings and NumPy scalars as Python numbers.

    Examples
    --------
    >>> jsonable({1: (np.int64(2), 3)})
    {'1': [2, 3]}
    """
    if isinstance(v, tuple | list):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v


def cnn_state(clf) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """JSON-able parameters (incl. the architecture with pruned widths) and weight arrays of a fitted CNN."""
    clf._check_fitted()
    params = {
        "version": STATE_VERSION,
        "init_params": jsonable(clf.get_params()),
        "streams": list(clf.streams_),
        "architecture": describe(clf.network_, clf.config_),
        "pruning": jsonable(clf.pruning_),
        "fusion_weights": jsonable(getattr(clf, "fusion_weights_", None)),
    }
    arrays: dict[str, np.ndarray] = {"classes": np.asarray(clf.classes_), "root": np.asarray(clf.root_)}
    if getattr(clf, "bones_", None) is not None:
        arrays["bones"] = np.asarray(clf.bones_)
    if getattr(clf, "angles_", None) is not None:
        arrays["angles"] = np.asarray(clf.angles_)
    for k, v in clf.network_.state_dict().items():
        arrays[f"net.{k}"] = v.detach().cpu().numpy()
    for s in clf.streams_:
        arrays[f"mean.{s}"] = clf.input_mean_[s]
        arrays[f"std.{s}"] = clf.input_std_[s]
    return params, arrays


def cnn_from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]):
    """Rebuild a fitted ``cls`` (CNNClassifier) from :func:`cnn_state` output, checking every field.

    Raises
    ------
    ModelFileError
        Unsupported state version, parameters out of range (``n_frames``,
        ``n_jobs``, choices, layer widths, strides and padding), an
        architecture larger than the saved weights, joint indices outside the
        layout, or weights of the wrong dtype or shape or with NaN.
    """
    from ...io.archive import state_array, state_float, state_int, state_str

    if params.get("version") != STATE_VERSION:
        raise ModelFileError(
            f"CNN state version {params.get('version')!r} is not supported (expected {STATE_VERSION})"
        )
    init = params.get("init_params")
    if not isinstance(init, dict):
        raise ModelFileError("init_params must be an object")
    init = dict(init)
    names = set(cls._get_param_names())
    if "displacement_step" in init and "displacement_step" not in names and "step" in names:
        init["step"] = init.pop("displacement_step")  # files written before the rename
    if "n_threads" in init and "n_jobs" in names:
        init["n_jobs"] = init.pop("n_threads")  # files written before the rename (glossary: n_jobs)
    init.setdefault("fusion_rule", "arithmetic")  # files written before the option existed
    init.setdefault("angles", False)  # files written before the option existed
    if not isinstance(init["angles"], bool):
        raise ModelFileError(f"init_params: angles must be true or false, got {init['angles']!r}")
    _check_augment(init.get("augment", True))
    unknown = sorted(set(init) - names)
    if unknown:
        raise ModelFileError(f"init_params: unknown parameters {unknown}")
    state_int(init, "n_frames", 2, 10_000)
    if init.get("n_jobs") == 0:
        init["n_jobs"] = None  # the first release's 0 meant "leave torch's threads alone"
    if "n_jobs" in init:
        state_int(init, "n_jobs", -256, 256, none=True)
    for k in ("step", "displacement_step"):
        if k in init:
            state_int(init, k, 1, 1000)
    checks = {
        "device": ("auto", "cpu", "cuda", "mps"),
        "position_centre": ("frame", "sequence"),
        "fusion_rule": ("arithmetic", "geometric"),
    }
    for k, choices in checks.items():
        if k in init:
            state_str(init, k, choices)
    mf = init.get("motion_features", list(MOTION_FEATURES))
    if not (isinstance(mf, list) and mf and all(m in MOTION_FEATURES for m in mf)):
        raise ModelFileError(
            f"init_params: motion_features must be a non-empty subset of {MOTION_FEATURES}, got {mf!r}"
        )
    fusion = init.get("fusion", 0.3)
    if fusion not in ("mean", "weighted"):
        state_float(init, "fusion", 0.0, 1.0)
    if init.get("layout") is not None:
        state_str(init, "layout")
    for k in ("batch_size", "max_epochs", "finetune_epochs"):
        if k in init:
            state_int(init, k, 0, 1_000_000)
    streams = params.get("streams")
    ok = isinstance(streams, list) and 1 <= len(streams) <= 4
    if not (ok and all(isinstance(x, str) for x in streams)):
        raise ModelFileError(f"streams must be a list of 1 to 4 stream names, got {streams!r}")
    arch = params.get("architecture")
    if (
        not isinstance(arch, dict)
        or not isinstance(arch.get("config"), dict)
        or not isinstance(arch.get("layers"), dict)
    ):
        raise ModelFileError("architecture must hold 'config' and 'layers'")
    _check_architecture(arch, arrays)
    classes = state_array(arrays, "classes", "iuU", ndim=1)
    if len(classes) < 2 or len(np.unique(classes)) != len(classes):
        raise ModelFileError(f"array classes must hold at least 2 unique classes, got {classes.tolist()}")
    if int(arch["config"].get("n_classes", -1)) != len(classes):
        raise ModelFileError(
            f"architecture has {arch['config'].get('n_classes')} outputs but there are {len(classes)} classes"
        )
    n_joints = 100_000
    if init.get("layout") is not None:
        from ...layouts import get_layout

        try:
            n_joints = get_layout(init["layout"]).n_joints
        except LayoutError:
            pass
    root = state_array(arrays, "root", "iu")
    if root.size and (root.min() < 0 or root.max() >= n_joints):
        raise ModelFileError(f"array root holds joint indices outside 0..{n_joints - 1}")
    bones = state_array(arrays, "bones", "iu", ndim=2) if "bones" in arrays else None
    if bones is not None and bones.size and (bones.min() < 0 or bones.max() >= n_joints):
        raise ModelFileError(f"array bones holds joint indices outside 0..{n_joints - 1}")
    angles = state_array(arrays, "angles", "iu", ndim=2) if "angles" in arrays else None
    if angles is not None and (
        angles.shape[1:] != (3,) or (angles.size and (angles.min() < 0 or angles.max() >= n_joints))
    ):
        raise ModelFileError(f"array angles must hold joint triples with indices in 0..{n_joints - 1}")
    if (angles is not None) != bool(init["angles"]):
        raise ModelFileError("array angles must be stored exactly when init_params angles is true")
    for k in arrays:
        if k.startswith("net."):
            state_array(arrays, k, "fiu" if k.endswith("num_batches_tracked") else "f")
    inputs = arch["config"].get("stream_inputs", {})
    means, stds = {}, {}
    for st in streams:
        n_in = inputs.get(st) if isinstance(inputs, dict) else None
        means[st] = state_array(arrays, f"mean.{st}", "f", dtype=np.float32)
        stds[st] = state_array(arrays, f"std.{st}", "f", dtype=np.float32)
        if means[st].shape != stds[st].shape or (n_in is not None and means[st].size not in (n_in, 1)):
            raise ModelFileError(f"arrays mean.{st}/std.{st} do not match the stream's {n_in} inputs")
        if (stds[st] <= 0).any():
            raise ModelFileError(f"array std.{st} must be positive")
    try:
        clf = cls(**init)
        clf.streams_ = list(streams)
        clf.config_ = arch["config"]
        clf.pruning_ = params.get("pruning")
        clf.classes_ = classes
        clf.root_ = root
        clf.bones_ = bones
        clf.angles_ = angles
        clf.fusion_weights_ = _fusion_weights(params.get("fusion_weights"), streams)
        clf.input_mean_ = means
        clf.input_std_ = stds
        net = build_from_description(arch)
        state = {k[4:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("net.")}
        net.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ModelFileError(f"saved CNN model is inconsistent: {exc}") from None
    clf.network_ = net.eval()
    clf.history_ = []
    clf._fit_split_ = (np.zeros(0, int), np.zeros(0, int))
    return clf


def _check_architecture(arch: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Refuse architecture descriptions that would build a network larger than the saved weights."""
    from ...io.archive import state_int, state_int_list

    cfg = arch["config"]
    channels = state_int_list(cfg, "channels", 1, 4096, max_len=16)
    k = state_int(cfg, "kernel_size", 1, 63)
    stem = state_int(cfg, "stem_kernel", 1, 63)
    state_int(cfg, "n_classes", 2, 100_000)
    dm = state_int(cfg, "depth_multiplier", 1, 64, none=True) if "depth_multiplier" in cfg else None
    inputs = cfg.get("stream_inputs")
    if not isinstance(inputs, dict) or not 1 <= len(inputs) <= 4:
        raise ModelFileError("architecture config stream_inputs must name 1 to 4 streams")
    n_weights = sum(int(v.size) for n, v in arrays.items() if n.startswith("net."))
    mult = max(dm or k, k) if cfg.get("doconv") else 1
    est = 0
    for name in inputs:
        prev = state_int(inputs, name, 1, 100_000)
        est += prev * (channels[0] if channels else 1) * stem
        for c in channels:
            est += 2 * prev * c * k * mult + prev * c
            prev = c
    for name, spec in arch["layers"].items():
        if not isinstance(spec, dict):
            raise ModelFileError(f"architecture layer {name!r} must be an object")
        for key in ("in", "out", "features", "kernel", "groups", "depth_multiplier"):
            if key in spec:
                state_int(spec, key, 1, 100_000)
        if spec.get("type") in ("conv", "doconv"):  # "same" padding, as every layer of the network has
            state_int(spec, "stride", 1, 4)
            if state_int(spec, "padding", 0, 100) != int(spec["kernel"]) // 2:
                raise ModelFileError(f"architecture layer {name!r}: padding must be kernel // 2")
        est += int(spec.get("in", 1)) * int(spec.get("out", 1)) * int(spec.get("kernel", 1))
    # the unpruned network is built first: allow it to be larger than the (pruned) saved weights
    if est > 200 * n_weights + 5_000_000 or est > 500_000_000:
        raise ModelFileError(
            f"architecture asks for about {est} weights but the file holds {n_weights}: refused"
        )


def _check_augment(augment: Any) -> None:
    """A stored ``augment`` is true/false or a dict of known keys with numbers in range."""
    try:
        augment_dict(augment)
    except ParameterError as exc:
        raise ModelFileError(f"init_params: {exc}") from None


def _fusion_weights(fw: Any, streams: list[str]) -> dict[str, float] | None:
    """The stored stream weights, checked: one per stream at most, each finite and in [0, 1]."""
    if fw is None or fw == {}:
        return None
    if not isinstance(fw, dict):
        raise ModelFileError(f"fusion_weights must be an object, got {type(fw).__name__}")
    out = {}
    for k, v in fw.items():
        if k not in streams:
            raise ModelFileError(f"fusion_weights: unknown stream {k!r} (streams {streams})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 <= float(v) <= 1.0):
            raise ModelFileError(f"fusion_weights[{k!r}] must be a number in [0, 1], got {v!r}")
        out[str(k)] = float(v)
    return out
