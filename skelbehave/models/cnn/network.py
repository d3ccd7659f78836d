"""The lightweight temporal 1-D CNN (one stream) and its two-stream late fusion.

A stream maps per-frame features ``(B, F, T)`` to class scores: a stem
convolution, optionally a non-local block, residual blocks
``relu(F(x) + k_i * shortcut(x))`` with adjustable coefficients ``k_i``,
global average pooling over time and a linear head. Every convolution is a
plain :class:`torch.nn.Conv1d` or, with ``doconv=True``, a :class:`DOConv1d`
that folds into one for inference.

The architecture is described by a JSON-able dict (:func:`describe`) that
includes the width of every layer, so a physically pruned network can be
rebuilt (:func:`build_from_description`) and its weights loaded without pickle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ParameterError
from .blocks import AdaptiveTemporalShift, MotionExcitation, NonLocal1d
from .doconv import DOConv1d

__all__ = [
    "ResidualBlock",
    "StreamNet",
    "TwoStreamNet",
    "build_from_description",
    "describe",
    "residual_profile",
]


def residual_profile(profile: str | Sequence[float], n_blocks: int) -> list[float]:
    """Residual coefficients ``k_i`` for ``n_blocks`` blocks.

    Parameters
    ----------
    profile : {"ones", "normal"} or sequence of float
        ``"ones"``: all 1. ``"normal"``: a normal-curve shape rising from 0.5 at the
        ends to 1.0 in the middle. A sequence gives the values directly.
    n_blocks : int
        Number of residual blocks.

    Examples
    --------
    >>> residual_profile("normal", 5)
    [0.5, 0.72, 1.0, 0.72, 0.5]
    """
    if isinstance(profile, str):
        if profile == "ones":
            return [1.0] * n_blocks
        if profile == "normal":
            if n_blocks == 1:
                return [1.0]
            xs = np.linspace(-1.0, 1.0, n_blocks)
            sigma = 0.4
            raw = np.exp(-(xs**2) / (2 * sigma**2))
            lo = math.exp(-1 / (2 * sigma**2))
            vals = 0.5 + 0.5 * (raw - lo) / (1 - lo)
            return [round(float(v), 2) for v in vals]
        raise ParameterError(
            f"residual profile must be 'ones', 'normal' or a list of floats, got {profile!r}"
        )
    vals = [float(v) for v in profile]
    if len(vals) != n_blocks:
        raise ParameterError(f"expected {n_blocks} residual coefficients, got {len(vals)}")
    return vals


def _conv(c_in: int, c_out: int, k: int, stride: int, doconv: bool, d_mul: int | None) -> nn.Module:
    if doconv and k > 1:
        return DOConv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False, depth_multiplier=d_mul)
    return nn.Conv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)


class ResidualBlock(nn.Module):
    """Two convolutions with BatchNorm and a scaled shortcut: ``relu(F(x) + k * s(x))``."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        coef: float,
        *,
        doconv: bool = False,
        depth_multiplier: int | None = None,
        motion_excitation: bool = False,
        temporal_shift: bool = False,
    ) -> None:
        super().__init__()
        self.coef = float(coef)
        self.shift = AdaptiveTemporalShift(c_in) if temporal_shift else None
        self.conv1 = _conv(c_in, c_out, kernel_size, stride, doconv, depth_multiplier)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.me = MotionExcitation(c_out) if motion_excitation else None
        self.conv2 = _conv(c_out, c_out, kernel_size, 1, doconv, depth_multiplier)
        self.bn2 = nn.BatchNorm1d(c_out)
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.shift(x) if self.shift is not None else x
        h = self.relu(self.bn1(self.conv1(h)))
        if self.me is not None:
            h = self.me(h)
        h = self.bn2(self.conv2(h))
        return self.relu(h + self.coef * self.shortcut(x))


class StreamNet(nn.Module):
    """One stream of the lightweight CNN.

    Parameters
    ----------
    in_features : int
        Per-frame input features ``F``.
    n_classes : int
        Number of classes.
    channels : sequence of int
        Output channels of the residual blocks (the stem uses the first).
    strides : sequence of int or None
        Temporal stride of each block; ``None`` halves time at the middle block.
    kernel_size, stem_kernel : int
        Temporal kernel sizes.
    residual_coefs : "ones", "normal" or sequence of float
        Shortcut coefficients ``k_i``.
    non_local, motion_excitation, temporal_shift, doconv : bool
        Optional blocks (see module docstring).
    depth_multiplier : int or None
        DO-Conv ``D_mul`` (``None``: the kernel size).
    dropout : float
        Dropout before the head.

    Examples
    --------
    >>> import torch
    >>> net = StreamNet(60, 5, channels=(16, 32))
    >>> net(torch.randn(3, 60, 32)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        channels: Sequence[int] = (64, 64, 128, 128),
        strides: Sequence[int] | None = None,
        kernel_size: int = 3,
        stem_kernel: int = 5,
        residual_coefs: str | Sequence[float] = "ones",
        non_local: bool = False,
        motion_excitation: bool = False,
        temporal_shift: bool = False,
        doconv: bool = False,
        depth_multiplier: int | None = None,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        n = len(channels)
        if strides is None:
            strides = [2 if (i == n // 2 and n > 1) else 1 for i in range(n)]
        coefs = residual_profile(residual_coefs, n)
        self.stem = nn.Sequential(
            _conv(in_features, channels[0], stem_kernel, 1, doconv, depth_multiplier),
            nn.BatchNorm1d(channels[0]),
            nn.ReLU(),
        )
        self.non_local = NonLocal1d(channels[0]) if non_local else None
        blocks = []
        c_prev = channels[0]
        for c, s, k_i in zip(channels, strides, coefs, strict=True):
            blocks.append(
                ResidualBlock(
                    c_prev,
                    c,
                    kernel_size,
                    s,
                    k_i,
                    doconv=doconv,
                    depth_multiplier=depth_multiplier,
                    motion_excitation=motion_excitation,
                    temporal_shift=temporal_shift,
                )
            )
            c_prev = c
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c_prev, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding ``(B, C_last)`` before the head."""
        h = self.stem(x)
        if self.non_local is not None:
            h = self.non_local(h)
        h = self.blocks(h)
        return h.mean(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    def bn_layers(self) -> list[nn.BatchNorm1d]:
        """Every BatchNorm layer (the targets of the sparsity penalty)."""
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm1d)]


class TwoStreamNet(nn.Module):
    """Streams over their own inputs, fused late by the mean of class probabilities.

    Parameters
    ----------
    streams : dict of str -> StreamNet
        E.g. ``{"position": ..., "motion": ...}``.

    Examples
    --------
    >>> import torch
    >>> net = TwoStreamNet({"a": StreamNet(6, 3, (8,)), "b": StreamNet(6, 3, (8,))})
    >>> p = net.predict_proba({"a": torch.randn(2, 6, 8), "b": torch.randn(2, 6, 8)})
    >>> p.shape, bool(torch.allclose(p.sum(1), torch.ones(2)))
    (torch.Size([2, 3]), True)
    """

    def __init__(self, streams: dict[str, StreamNet]) -> None:
        super().__init__()
        self.streams = nn.ModuleDict(streams)

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Logits of every stream."""
        return {name: net(inputs[name]) for name, net in self.streams.items()}

    def predict_proba(self, inputs: dict[str, torch.Tensor], streams: Sequence[str] | None = None):
        """Mean of the per-stream softmax probabilities (late fusion)."""
        names = list(self.streams) if streams is None else list(streams)
        probs = [torch.softmax(self.streams[n](inputs[n]), dim=1) for n in names]
        return torch.stack(probs).mean(0)


# --------------------------------------------------------------------------- description


def describe(net: TwoStreamNet, config: dict[str, Any]) -> dict[str, Any]:
    """JSON-able architecture description: constructor config + the shape of every layer.

    The layer shapes record pruned widths, so :func:`build_from_description` can
    rebuild a physically pruned network exactly.
    """
    layers: dict[str, dict[str, Any]] = {}
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv1d):
            layers[name] = {
                "type": "conv",
                "in": m.in_channels,
                "out": m.out_channels,
                "kernel": m.kernel_size[0],
                "stride": m.stride[0],
                "padding": m.padding[0],
                "groups": m.groups,
                "bias": m.bias is not None,
            }
        elif isinstance(m, DOConv1d):
            layers[name] = {
                "type": "doconv",
                "in": m.in_channels,
                "out": m.out_channels,
                "kernel": m.kernel_size,
                "stride": m.stride,
                "padding": m.padding,
                "depth_multiplier": m.depth_multiplier,
                "bias": m.bias is not None,
            }
        elif isinstance(m, nn.BatchNorm1d):
            layers[name] = {"type": "bn", "features": m.num_features}
        elif isinstance(m, nn.Linear):
            layers[name] = {"type": "linear", "in": m.in_features, "out": m.out_features}
    return {"config": config, "layers": layers}


def build_stream_nets(config: dict[str, Any]) -> TwoStreamNet:
    """Build an (unpruned) :class:`TwoStreamNet` from a config dict."""
    streams = {}
    for name, n_in in config["stream_inputs"].items():
        streams[name] = StreamNet(
            n_in,
            config["n_classes"],
            channels=config["channels"],
            strides=config.get("strides"),
            kernel_size=config["kernel_size"],
            stem_kernel=config["stem_kernel"],
            residual_coefs=config["residual_coefs"],
            non_local=config["non_local"],
            motion_excitation=config["motion_excitation"],
            temporal_shift=config["temporal_shift"],
            doconv=config["doconv"],
            depth_multiplier=config.get("depth_multiplier"),
            dropout=config["dropout"],
        )
    return TwoStreamNet(streams)


def _set_module(root: nn.Module, dotted: str, new: nn.Module) -> None:
    parent = root
    parts = dotted.split(".")
    for p in parts[:-1]:
        parent = getattr(parent, p)
    setattr(parent, parts[-1], new)


def build_from_description(desc: dict[str, Any]) -> TwoStreamNet:
    """Rebuild a (possibly pruned) network from :func:`describe` output (weights not loaded).

    Examples
    --------
    >>> import torch
    >>> cfg = dict(stream_inputs={"a": 6}, n_classes=3, channels=[8, 8], strides=None, kernel_size=3,
    ...            stem_kernel=5, residual_coefs="ones", non_local=False, motion_excitation=False,
    ...            temporal_shift=False, doconv=False, dropout=0.0)
    >>> net = build_stream_nets(cfg)
    >>> net2 = build_from_description(describe(net, cfg))
    >>> sum(p.numel() for p in net2.parameters()) == sum(p.numel() for p in net.parameters())
    True
    """
    net = build_stream_nets(desc["config"])
    current = dict(net.named_modules())
    for name, spec in desc["layers"].items():
        old = current.get(name)
        if old is None:
            raise ParameterError(f"architecture description names an unknown layer {name!r}")
        t = spec["type"]
        if t == "conv":
            new: nn.Module = nn.Conv1d(
                spec["in"],
                spec["out"],
                spec["kernel"],
                stride=spec["stride"],
                padding=spec["padding"],
                groups=spec["groups"],
                bias=spec["bias"],
            )
        elif t == "doconv":
            new = DOConv1d(
                spec["in"],
                spec["out"],
                spec["kernel"],
                stride=spec["stride"],
                padding=spec["padding"],
                bias=spec["bias"],
                depth_multiplier=spec["depth_multiplier"],
            )
        elif t == "bn":
            new = nn.BatchNorm1d(spec["features"])
        elif t == "linear":
            new = nn.Linear(spec["in"], spec["out"])
        else:
            raise ParameterError(f"unknown layer type {t!r} in architecture description")
        _set_module(net, name, new)
    return net
