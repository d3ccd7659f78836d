"""Network slimming: BatchNorm-scale sparsity, physical channel pruning, correlation init.

- :func:`bn_l1_penalty`: the L1 norm of every BatchNorm scale ``gamma``, added to
  the loss times a sparsity factor during training (Liu et al., 2017).
- :func:`prune_stream`: removes the channels with the smallest scales, by a global
  ratio or a threshold (or the same ratio in every layer, ``scope="layer"``),
  physically (smaller tensors) with Torch-Pruning. Its
  dependency graph keeps coupled channels (residual additions, the non-local and
  motion-excitation blocks, depthwise shifts) consistent; the classifier head is
  never pruned.
- :func:`correlation_scores` + ``prune_stream(..., importance="correlation")``:
  initialise a narrow network from a trained wide one by keeping, in each
  layer, the filters whose activations have the highest summed absolute
  correlation with the other filters of that layer.

DO-Conv layers are folded before pruning (the pruned network is plain); the
estimator re-expands them for fine-tuning.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import ParameterError
from .doconv import DOConv1d
from .network import StreamNet

__all__ = ["bn_l1_penalty", "bn_scales", "correlation_scores", "prune_stream", "ratio_for_threshold"]


# Scales are divided by their group's maximum before the global ranking. Chosen on held-out
# TRAINING subjects of MSR Action3D (train 1,3,5 / validate 7,9, 2 seeds): after 50 % pruning
# and fine-tuning "max" kept the validation accuracy (+0.4 pp), "mean" lost 5.7 pp; raw scales
# cut the coupled residual trunk (stem + identity blocks) to a few channels.
_NORMALIZER = "max"


def _tp():
    from . import _require

    return _require("torch_pruning")


def bn_l1_penalty(module: nn.Module) -> torch.Tensor:
    """Sum of ``|gamma|`` over every BatchNorm layer of ``module``.

    Examples
    --------
    >>> from torch import nn
    >>> float(bn_l1_penalty(nn.Sequential(nn.BatchNorm1d(4))))
    4.0
    """
    terms = [m.weight.abs().sum() for m in module.modules() if isinstance(m, nn.BatchNorm1d) and m.affine]
    if not terms:
        return torch.zeros(())
    return torch.stack(terms).sum()


def bn_scales(module: nn.Module) -> np.ndarray:
    """All BatchNorm ``|gamma|`` values of ``module`` as one flat array."""
    vals = [
        m.weight.detach().abs().cpu().numpy().ravel()
        for m in module.modules()
        if isinstance(m, nn.BatchNorm1d) and m.affine
    ]
    return np.concatenate(vals) if vals else np.zeros(0)


def ratio_for_threshold(module: nn.Module, threshold: float) -> float:
    """Fraction of BatchNorm channels whose ``|gamma|`` is below ``threshold``.

    Pruning by a threshold is carried out as pruning by this global ratio.
    """
    s = bn_scales(module)
    return float(np.mean(s < threshold)) if s.size else 0.0


class _ScoreImportance:
    """Torch-Pruning importance reading precomputed per-channel scores of BN layers."""

    def __init__(self, scores: dict[nn.Module, torch.Tensor]) -> None:
        self.scores = scores

    @torch.no_grad()
    def __call__(self, group) -> torch.Tensor | None:
        tp = _tp()
        imps, idx_lists = [], []
        for i, (dep, idxs) in enumerate(group):
            layer = dep.layer
            if dep.pruning_fn == tp.pruner.function.prune_batchnorm_out_channels and layer in self.scores:
                imps.append(self.scores[layer][idxs])
                idx_lists.append(group[i].root_idxs)
        if not imps:
            return None
        n = len(idx_lists[0])
        out = torch.zeros(n)
        for imp, ridx in zip(imps, idx_lists, strict=True):
            out.scatter_add_(0, torch.tensor(ridx), imp.float())
        return out / len(imps)


@torch.no_grad()
def correlation_scores(stream: StreamNet, x: torch.Tensor) -> dict[nn.Module, torch.Tensor]:
    """Per BatchNorm layer, each channel's summed absolute correlation with the others.

    Activations are the BN outputs on the inputs ``x`` ``(N, F, T)``, over all
    samples and time steps; scores are divided by their layer mean so layers are
    comparable in a global ranking.
    """
    acts: dict[nn.Module, torch.Tensor] = {}
    hooks = []

    def hook(mod, _inp, out):
        acts[mod] = out.detach()

    for m in stream.modules():
        if isinstance(m, nn.BatchNorm1d):
            hooks.append(m.register_forward_hook(hook))
    was_training = stream.training
    stream.eval()
    try:
        stream(x)
    finally:
        for h in hooks:
            h.remove()
        stream.train(was_training)
    scores = {}
    for m, a in acts.items():
        z = a.transpose(0, 1).reshape(a.shape[1], -1)  # (C, N*T)
        z = z - z.mean(1, keepdim=True)
        z = z / (z.norm(dim=1, keepdim=True) + 1e-8)
        corr = (z @ z.T).abs()
        s = corr.sum(1) - corr.diagonal()
        scores[m] = s / (s.mean() + 1e-8)
    return scores


def prune_stream(
    stream: StreamNet,
    example: torch.Tensor,
    ratio: float,
    *,
    importance: str = "bn_scale",
    data: torch.Tensor | None = None,
    max_layer_ratio: float = 0.9,
    round_to: int | None = None,
    normalizer: str | None = _NORMALIZER,
    scope: str = "global",
) -> dict[str, Any]:
    """Physically remove ``ratio`` of the prunable channels of one stream, in place.

    Parameters
    ----------
    stream : StreamNet
        A stream with plain convolutions (fold DO-Conv first).
    example : torch.Tensor
        Example input ``(1, F, T)`` for tracing the dependency graph.
    ratio : float
        Global fraction of channels to remove, in [0, 1).
    importance : {"bn_scale", "correlation"}
        ``"bn_scale"``: smallest ``|gamma|`` first (network slimming; each
        coupled group's scales divided by the group mean, then one global
        ranking). ``"correlation"``: keep the filters with the highest
        summed absolute correlation (needs ``data``).
    data : torch.Tensor, optional
        Inputs for the correlation scores.
    max_layer_ratio : float
        No layer loses more than this fraction of its channels.
    round_to : int, optional
        Keep channel counts multiples of this.
    normalizer : {"mean", "max", "sum", None}
        How each coupled group's BN scales are normalised before the global
        ranking (Torch-Pruning ``BNScaleImportance``); ``None``: raw scales.
    scope : {"global", "layer"}
        ``"global"``: one ranking over all layers removes ``ratio`` of all
        channels, unevenly across layers. ``"layer"``: every coupled group loses
        ``ratio`` of its channels (ranked within the group), so parameters fall
        roughly as ``(1 - ratio) ** 2``.

    Returns
    -------
    dict
        ``{"params_before", "params_after", "ratio", "scope"}``; ``scope`` is
        ``"global"`` (one ranking over all layers) or ``"per-layer"`` (the same
        ratio in every layer: the fallback when Torch-Pruning finds no global
        ranking, as with the non-local and temporal-shift blocks).

    Examples
    --------
    >>> import torch
    >>> net = StreamNet(6, 3, channels=(16, 16))
    >>> info = prune_stream(net, torch.randn(1, 6, 16), 0.5)
    >>> info["params_after"] < info["params_before"]
    True
    """
    tp = _tp()
    if any(isinstance(m, DOConv1d) for m in stream.modules()):
        raise ParameterError("fold DO-Conv layers (fold_doconv) before pruning")
    if not 0.0 <= ratio < 1.0:
        raise ParameterError(f"pruning ratio must be in [0, 1), got {ratio}")
    n_before = sum(p.numel() for p in stream.parameters())
    if ratio == 0.0:
        return {"params_before": n_before, "params_after": n_before, "ratio": 0.0}
    if importance == "bn_scale":
        imp = tp.importance.BNScaleImportance(normalizer=normalizer)
    elif importance == "correlation":
        if data is None:
            raise ParameterError("importance='correlation' needs data")
        imp = _ScoreImportance(correlation_scores(stream, data))
    else:
        raise ParameterError(f"importance must be 'bn_scale' or 'correlation', got {importance!r}")
    if scope not in ("global", "layer"):
        raise ParameterError(f"scope must be 'global' or 'layer', got {scope!r}")
    was_training = stream.training
    stream.eval()
    attempts = (True, False) if scope == "global" else (False,)
    scope = "global" if scope == "global" else "per-layer"
    for global_pruning in attempts:
        pruner = tp.pruner.MetaPruner(
            stream,
            example,
            importance=imp,
            global_pruning=global_pruning,
            pruning_ratio=ratio,
            max_pruning_ratio=max_layer_ratio,
            ignored_layers=[stream.head],
            round_to=round_to,
        )
        pruner.step()
        if sum(p.numel() for p in stream.parameters()) < n_before:
            break
        # With the non-local or temporal-shift blocks Torch-Pruning 1.6 finds no global
        # ranking (nothing is removed); fall back to the same ratio in every layer.
        scope = "per-layer"
    stream.train(was_training)
    n_after = sum(p.numel() for p in stream.parameters())
    return {"params_before": n_before, "params_after": n_after, "ratio": ratio, "scope": scope}
