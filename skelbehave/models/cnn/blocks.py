"""Optional temporal blocks of the lightweight CNN.

- :class:`NonLocal1d`: self-attention over time (embedded Gaussian), added as a
  residual so it starts as the identity.
- :class:`MotionExcitation`: channel attention from differences between adjacent
  frames, weighted by how dissimilar (cosine) the frames are; ``X + X * a``.
- :class:`AdaptiveTemporalShift`: a depthwise temporal convolution initialised
  to the fixed temporal-shift pattern (1/8 of channels from the past, 1/8 from the
  future, the rest unchanged), then learnt.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AdaptiveTemporalShift", "MotionExcitation", "NonLocal1d"]


class NonLocal1d(nn.Module):
    """Non-local (self-attention over time) block, ``x + BN(W(attn(x)))``.

    Parameters
    ----------
    channels : int
        Input and output channels.
    inner : int or None
        Width of the query/key/value embeddings; ``None`` means ``channels // 2``.

    Examples
    --------
    >>> import torch
    >>> blk = NonLocal1d(8)
    >>> x = torch.randn(2, 8, 10)
    >>> torch.allclose(blk(x), x)  # the output BN starts at zero scale
    True
    """

    def __init__(self, channels: int, inner: int | None = None) -> None:
        super().__init__()
        inner = max(1, channels // 2) if inner is None else inner
        self.theta = nn.Conv1d(channels, inner, 1)
        self.phi = nn.Conv1d(channels, inner, 1)
        self.g = nn.Conv1d(channels, inner, 1)
        self.out = nn.Conv1d(inner, channels, 1)
        self.bn = nn.BatchNorm1d(channels)
        nn.init.zeros_(self.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.theta(x).transpose(1, 2)  # (B, T, c)
        k = self.phi(x)  # (B, c, T)
        v = self.g(x).transpose(1, 2)  # (B, T, c)
        attn = torch.softmax(torch.bmm(q, k) / max(1.0, k.shape[1]) ** 0.5, dim=-1)
        y = torch.bmm(attn, v).transpose(1, 2)  # (B, c, T)
        return x + self.bn(self.out(y))


class MotionExcitation(nn.Module):
    """Motion excitation: channel attention from adjacent-frame differences.

    Parameters
    ----------
    channels : int
        Input and output channels.
    reduction : int
        Channel reduction of the inner embedding.

    Examples
    --------
    >>> import torch
    >>> me = MotionExcitation(8)
    >>> me(torch.randn(2, 8, 10)).shape
    torch.Size([2, 8, 10])
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        inner = max(1, channels // reduction)
        self.squeeze = nn.Conv1d(channels, inner, 1, bias=False)
        self.bn = nn.BatchNorm1d(inner)
        self.expand = nn.Conv1d(inner, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.bn(self.squeeze(x))
        # the frame-similarity weight is a fixed statistic (no gradient): detaching it also
        # keeps the channel-pruning dependency graph small
        xd = x.detach()
        cos = F.cosine_similarity(xd[:, :, 1:], xd[:, :, :-1], dim=1, eps=1e-6).unsqueeze(1)
        weight = (1.0 - cos).clamp_min(0.0)  # (B, 1, T-1): frames that change more count more
        # sum_t w_t (r_{t+1} - r_t) = sum_s r_s (w_{s-1} - w_s): one product with fixed
        # coefficients instead of two slices of r, which Torch-Pruning's graph cannot resolve
        coef = F.pad(weight, (1, 0)) - F.pad(weight, (0, 1))  # (B, 1, T)
        pooled = (r * coef).sum(-1, keepdim=True) / (weight.sum(-1, keepdim=True) + 1e-6)
        attn = torch.sigmoid(self.expand(pooled)) - 0.5  # (B, C, 1), zero-centred
        return x + x * attn


class AdaptiveTemporalShift(nn.Module):
    """Learnable temporal shift: depthwise conv initialised to the shift pattern.

    Parameters
    ----------
    channels : int
        Channels (each gets its own 3-tap temporal kernel).
    fold_div : int
        ``channels // fold_div`` channels are shifted each way at initialisation.

    Examples
    --------
    >>> import torch
    >>> ts = AdaptiveTemporalShift(8, fold_div=8)
    >>> x = torch.arange(8 * 5.0).reshape(1, 8, 5)
    >>> ts(x)[0, 0].tolist()  # channel 0 sees the next frame
    [1.0, 2.0, 3.0, 4.0, 0.0]
    """

    def __init__(self, channels: int, fold_div: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1, groups=channels, bias=False)
        with torch.no_grad():
            w = torch.zeros(channels, 1, 3)
            fold = max(1, channels // fold_div)
            w[:fold, 0, 2] = 1.0  # take from t+1
            w[fold : 2 * fold, 0, 0] = 1.0  # take from t-1
            w[2 * fold :, 0, 1] = 1.0  # unchanged
            self.conv.weight.copy_(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)
