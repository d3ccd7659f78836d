"""Reading model files of the first release: old component parameters mapped to today's names.

The first release (model file ``format_version`` 1) computed acceleration in
the encoder (``VLADEncoder(delta_step=..., delta_weight=...)``), weighed
displacement with ``disp_weight`` and named the central-difference half-width
``JointFeatures(displacement_step=...)``; descriptor blocks were named
``"pos:<part>"``, ``"disp:<part>"``, ``"acc:<part>"``. Today acceleration is a
feature (``JointFeatures(step=..., acceleration=True)``), block weights are the
encoder's ``kind_weights`` and blocks carry
:class:`~skelbehave.features.descriptors.BlockInfo`.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ModelFileError

__all__ = ["upgrade_v1_components"]

_KINDS = {"pos": "position", "disp": "displacement", "acc": "acceleration"}
_ENCODERS = ("VLADEncoder", "BoWEncoder", "FisherEncoder")


def _kind_part(name: str) -> tuple[str, str]:
    """``"pos+disp:arm"`` -> ``("position+displacement", "arm")``."""
    kinds, sep, part = str(name).partition(":")
    if not sep or not all(k in _KINDS for k in kinds.split("+")):
        raise ModelFileError(f"first-release model file: unexpected descriptor block name {name!r}")
    return "+".join(_KINDS[k] for k in kinds.split("+")), part


def upgrade_v1_components(components: dict[str, Any]) -> dict[str, Any]:
    """Map the ``doc["components"]`` of a first-release model file to today's parameter names.

    A pure function: the input is not changed. The upgraded model predicts
    what the first release predicted (the acceleration blocks the old encoder
    added are now made by ``JointFeatures(acceleration=True)``; the encoder
    keeps its learnt block scales and converts the new acceleration unit,
    per second squared, back to the old one, per second per frame).

    Parameters
    ----------
    components : dict
        ``{"features": {"type": "JointFeatures", "params": {...}}, "encoder":
        {"type": "VLADEncoder", "params": {...}}, ...}``; other entries (the
        classifier) pass through unchanged.

    Returns
    -------
    dict
        The same structure with today's names.

    Raises
    ------
    ModelFileError
        When the old model cannot be expressed exactly (acceleration over key
        frames other than every frame, or with a step other than the
        displacement step): re-create the model with ``skelbehave.fit``.

    Examples
    --------
    >>> old = {
    ...     "features": {"type": "JointFeatures", "params": {"displacement_step": 2, "keyframes": "all"}},
    ...     "encoder": {"type": "VLADEncoder", "params": {
    ...         "params": {"disp_weight": 2.0, "delta_step": 2, "delta_weight": 3.0, "fuse": True},
    ...         "input_names": ["pos:legs", "disp:legs"], "input_dims": [12, 12],
    ...         "group_names": ["pos+disp+acc:legs"], "group_dims": [36],
    ...         "fusion_plan": [["legs", [0, 1, 2]]]}}}
    >>> new = upgrade_v1_components(old)
    >>> new["features"]["params"]
    {'keyframes': 'all', 'step': 2, 'acceleration': True}
    >>> new["encoder"]["params"]["params"]
    {'fuse': True, 'kind_weights': {'displacement': 2.0, 'acceleration': 3.0}}
    >>> new["encoder"]["params"]["input_blocks"]
    [['position', 'legs'], ['displacement', 'legs'], ['acceleration', 'legs']]
    >>> new["encoder"]["params"]["group_names"]
    ['position+displacement+acceleration:legs']
    """
    out = copy.deepcopy(dict(components))
    enc = out.get("encoder")
    feat = out.get("features")
    delta_step = 0
    if isinstance(enc, dict) and enc.get("type") in _ENCODERS:
        state = enc.get("params", {})
        p = state.get("params", {})
        delta_step = int(p.pop("delta_step", 0) or 0)
        disp_w = float(p.pop("disp_weight", 1.0))
        acc_w = float(p.pop("delta_weight", 1.0))
        if enc["type"] == "VLADEncoder":
            weights = {"displacement": disp_w}
            if delta_step > 0:
                weights["acceleration"] = acc_w
            p["kind_weights"] = weights
        if "input_names" in state:
            names = list(state.pop("input_names"))
            dims = [int(d) for d in state.get("input_dims", [])]
            blocks = [list(_kind_part(n)) for n in names]
            power = [0.0] * len(blocks)
            if delta_step > 0:  # the old encoder appended one "acc:<part>" block per "disp:<part>" block
                extra = [(i, b) for i, b in enumerate(blocks) if b[0] == "displacement"]
                blocks += [["acceleration", b[1]] for _, b in extra]
                dims += [dims[i] for i, _ in extra]
                power += [-1.0] * len(extra)
            state["input_blocks"] = blocks
            state["input_dims"] = dims
            if any(power):
                state["input_rate_power"] = power
        fuse = bool(p.get("fuse", False))
        if "fusion_plan" in state:
            state["fusion_plan"] = [
                [str(k) if fuse else "{}:{}".format(*_kind_part(k)), list(v)] for k, v in state["fusion_plan"]
            ]
        if "group_names" in state:
            state["group_names"] = ["{}:{}".format(*_kind_part(n)) for n in state["group_names"]]
    if isinstance(feat, dict) and feat.get("type") == "JointFeatures":
        p = feat.setdefault("params", {})
        if "displacement_step" in p:
            p["step"] = p.pop("displacement_step")
        if delta_step > 0:
            if int(p.get("step", 2)) != delta_step or p.get("keyframes", "all") != "all":
                raise ModelFileError(
                    "this first-release model computes acceleration over key frames or with a step other "
                    f"than its displacement step (delta_step={delta_step}, displacement_step="
                    f"{p.get('step')}, keyframes={p.get('keyframes')!r}); today's JointFeatures cannot "
                    "reproduce it: re-create the model with skelbehave.fit (or `skelbehave fit`)"
                )
            p["acceleration"] = True
        else:
            p.setdefault("acceleration", False)
    return out
