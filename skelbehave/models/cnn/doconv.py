"""Depthwise over-parameterised 1-D convolution (DO-Conv) and its folding.

During training a depthwise kernel ``D`` of shape ``(C_in, D_mul, K)`` with
``D_mul >= K`` is composed with an ordinary kernel ``W`` of shape
``(C_out, C_in / groups, D_mul)``; the effective kernel is
``W'[o, c, k] = sum_d W[o, c, d] * D[c, d, k]``. ``D`` is stored as an
offset from the identity, so the composition starts as an ordinary
convolution. For inference :meth:`DOConv1d.fold` returns a plain
:class:`torch.nn.Conv1d` with the same outputs and exactly the plain cost.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ParameterError

__all__ = ["DOConv1d", "fold_doconv", "unfold_to_doconv"]


class DOConv1d(nn.Module):
    """1-D convolution with a depthwise over-parameterisation (Cao et al., 2020).

    Parameters
    ----------
    in_channels, out_channels : int
        Channel counts.
    kernel_size : int
        Temporal kernel size ``K``.
    stride, padding, groups : int
        As in :class:`torch.nn.Conv1d` (``groups`` must be 1).
    bias : bool
        Whether the folded convolution has a bias.
    depth_multiplier : int or None
        ``D_mul``; ``None`` means ``K``. Must be at least ``K``.

    Examples
    --------
    >>> import torch
    >>> conv = DOConv1d(4, 8, 3, padding=1)
    >>> x = torch.randn(2, 4, 16)
    >>> torch.allclose(conv(x), conv.fold()(x), atol=1e-5)
    True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bias: bool = True,
        depth_multiplier: int | None = None,
    ) -> None:
        super().__init__()
        if groups != 1:
            raise ParameterError("DOConv1d supports groups=1 only")
        d_mul = kernel_size if depth_multiplier is None else int(depth_multiplier)
        if d_mul < kernel_size:
            raise ParameterError(f"depth_multiplier must be >= kernel_size ({kernel_size}), got {d_mul}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.depth_multiplier = d_mul
        self.W = nn.Parameter(torch.empty(out_channels, in_channels, d_mul))
        # D is stored as an offset from the identity: D_eff = D + I (zeros -> identity at start)
        self.D = nn.Parameter(torch.zeros(in_channels, d_mul, kernel_size))
        eye = torch.zeros(d_mul, kernel_size)
        eye[:kernel_size, :kernel_size] = torch.eye(kernel_size)
        self.register_buffer("_identity", eye.unsqueeze(0).repeat(in_channels, 1, 1), persistent=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(in_channels * kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)

    def effective_weight(self) -> torch.Tensor:
        """The composed kernel ``(C_out, C_in, K)`` an ordinary conv would use."""
        return torch.einsum("ocd,cdk->ock", self.W, self.D + self._identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.effective_weight(), self.bias, self.stride, self.padding)

    @torch.no_grad()
    def fold(self) -> nn.Conv1d:
        """Return the equivalent plain :class:`torch.nn.Conv1d` (inference form)."""
        conv = nn.Conv1d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            bias=self.bias is not None,
        )
        conv.weight.copy_(self.effective_weight())
        if self.bias is not None:
            conv.bias.copy_(self.bias)
        return conv.to(self.W.device)

    @classmethod
    @torch.no_grad()
    def from_conv(cls, conv: nn.Conv1d, depth_multiplier: int | None = None) -> DOConv1d:
        """Over-parameterise a trained :class:`torch.nn.Conv1d`, keeping its function.

        ``W`` takes the conv's kernel in its first ``K`` columns (zeros after), ``D``
        starts at the identity, so the outputs are unchanged.
        """
        k = conv.kernel_size[0]
        m = cls(
            conv.in_channels,
            conv.out_channels,
            k,
            stride=conv.stride[0],
            padding=conv.padding[0],
            bias=conv.bias is not None,
            depth_multiplier=depth_multiplier,
        ).to(conv.weight.device)
        m.W.zero_()
        m.W[:, :, :k] = conv.weight
        if conv.bias is not None:
            m.bias.copy_(conv.bias)
        return m

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, depth_multiplier={self.depth_multiplier}"
        )


def fold_doconv(module: nn.Module) -> nn.Module:
    """Replace, in place, every :class:`DOConv1d` inside ``module`` by its folded conv.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(DOConv1d(2, 3, 3))
    >>> type(fold_doconv(net)[0]).__name__
    'Conv1d'
    """
    for name, child in list(module.named_children()):
        if isinstance(child, DOConv1d):
            setattr(module, name, child.fold())
        else:
            fold_doconv(child)
    return module


def unfold_to_doconv(module: nn.Module, depth_multiplier: int | None = None) -> nn.Module:
    """Replace, in place, every plain Conv1d with kernel > 1 by an equivalent :class:`DOConv1d`.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv1d(2, 3, 3))
    >>> type(unfold_to_doconv(net)[0]).__name__
    'DOConv1d'
    """
    for name, child in list(module.named_children()):
        if type(child) is nn.Conv1d and child.kernel_size[0] > 1 and child.groups == 1:
            setattr(module, name, DOConv1d.from_conv(child, depth_multiplier))
        else:
            unfold_to_doconv(child, depth_multiplier)
    return module
