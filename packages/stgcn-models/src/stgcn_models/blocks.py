"""Building blocks PYSKL's graph networks share, named and shaped as PYSKL's are
(``pyskl/models/gcns/utils/tcn.py``), so that the state_dict keys of a network made of
them are PYSKL's: ``conv``, ``bn`` in a temporal unit; ``branches``, ``transform``,
``bn`` in the multi-scale temporal block.

The convolutions and batch norms start from PyTorch's default initialisation, as
PYSKL's do (its ST-GCN backbone's ``init_weights`` only loads a pretrained file).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: PYSKL's ``mstcn`` branches: a dilated 3×1 convolution of dilation 1 to 4, a 3×1
#: max-pool, and a 1×1 convolution
MSTCN_BRANCHES: tuple[tuple[str | int, int] | str, ...] = (
    (3, 1),
    (3, 2),
    (3, 3),
    (3, 4),
    ("max", 3),
    "1x1",
)


class TemporalConv(nn.Module):
    """PYSKL's ``unit_tcn``: a ``kernel``×1 convolution over time (padded to keep the
    frames at stride 1), then batch norm (none where ``norm`` is False) and dropout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 9,
        stride: int = 1,
        dilation: int = 1,
        norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        pad = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1),
        )
        self.bn: nn.Module = nn.BatchNorm2d(out_channels) if norm else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))


def block_residual(
    in_channels: int, out_channels: int, stride: int, residual: bool
) -> nn.Module | None:
    """The residual around a block of PYSKL's ``STGCNBlock`` and ``CTRGCNBlock``: none
    (the first block), the identity where the block keeps the shape (no tensors), else a
    strided 1×1 :class:`TemporalConv` (the keys ``residual.conv.*``, ``residual.bn.*``)."""
    if not residual:
        return None
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return TemporalConv(in_channels, out_channels, kernel=1, stride=stride)


def _branch(
    spec: tuple[str | int, int] | str, in_channels: int, channels: int, stride: int
) -> nn.Module:
    """One branch of :class:`MultiScaleTemporal`: a bare 1×1 convolution (``"1x1"``),
    or a 1×1 convolution, batch norm and ReLU followed by a max-pool (``("max", k)``)
    or a dilated temporal convolution without norm (``(k, dilation)``)."""
    if isinstance(spec, str):
        if spec != "1x1":
            raise ValueError(f"not a temporal branch: {spec!r}")
        return nn.Conv2d(in_channels, channels, kernel_size=1, stride=(stride, 1))
    kind, size = spec
    reduce = [nn.Conv2d(in_channels, channels, kernel_size=1), nn.BatchNorm2d(channels), nn.ReLU()]
    if kind == "max":
        # PYSKL pads the pool by one frame whatever its size (3 in every config)
        pool = nn.MaxPool2d(kernel_size=(size, 1), stride=(stride, 1), padding=(1, 0))
        return nn.Sequential(*reduce, pool)
    if not isinstance(kind, int):
        raise ValueError(f"not a temporal branch: {spec!r}")
    temporal = TemporalConv(channels, channels, kind, stride=stride, dilation=size, norm=False)
    return nn.Sequential(*reduce, temporal)


class MultiScaleTemporal(nn.Module):
    """PYSKL's ``mstcn``: parallel temporal branches (:data:`MSTCN_BRANCHES`) of
    ``out_channels // len(branches)`` channels each (the first takes the remainder),
    concatenated, then batch norm, ReLU, a 1×1 convolution, batch norm and dropout.

    Many small convolutions in place of one 9×1 convolution: as wide a receptive field
    for far fewer parameters and FLOPs (ST-GCN++'s half of ST-GCN's cost)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        dropout: float = 0.0,
        branches: Sequence[tuple[str | int, int] | str] = MSTCN_BRANCHES,
    ) -> None:
        super().__init__()
        count = len(branches)
        mid = out_channels // count
        first = out_channels - mid * (count - 1)
        widths = [first] + [mid] * (count - 1)
        self.branches = nn.ModuleList(
            _branch(spec, in_channels, width, stride)
            for spec, width in zip(branches, widths, strict=True)
        )
        joined = sum(widths)
        self.transform = nn.Sequential(
            nn.BatchNorm2d(joined), nn.ReLU(), nn.Conv2d(joined, out_channels, kernel_size=1)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.drop(self.bn(self.transform(joined)))
