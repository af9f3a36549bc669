"""A second, deliberately plain ST-GCN, written straight from the reference description.

Why it exists: :class:`stgcn.model.network.STGCN` is allowed to rearrange its arithmetic for speed
(matmul over a joined ``K*V`` axis today, perhaps fusion or reordering tomorrow). Such
changes are only safe if something independent says what the reference network computes.
This module is that something:

* the oracle in tests: same state_dict keys and shapes as ``STGCN`` (a state_dict moves
  between the two with ``strict=True``), so both can be run on the same weights and their
  logits compared;
* the comparison point for ``stgcn bench --baseline``: fp32, eager, the reference's einsum
  graph convolution and ``avg_pool2d`` pooling, with no fusion and no tricks, so a speed-up
  measured against it is a speed-up over the reference structure.

It shares no module classes with ``stgcn.model.network`` on purpose: a mistake copied into both
would make the comparison meaningless. Only the graph (``stgcn.model.graph.Graph``) is shared,
and that is tested against hand-worked adjacency on its own.
The lines a duplicate finder shows between this module and ``stgcn.model.network`` are
this independence, kept on purpose: do not merge them.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stgcn.model.graph import Graph
from stgcn.model.layouts import Layout

# (output channels, temporal stride) of blocks 0..9, as the reference description lists them.
_BLOCK_PLAN: tuple[tuple[int, int], ...] = (
    (64, 1),
    (64, 1),
    (64, 1),
    (64, 1),
    (128, 2),
    (128, 1),
    (128, 1),
    (256, 2),
    (256, 1),
    (256, 1),
)
_TEMPORAL_KERNEL = 9


class _EinsumGraphConv(nn.Module):
    """The reference's spatial step: 1x1 conv to ``K*C`` channels, then an einsum with ``A``."""

    def __init__(self, in_channels: int, out_channels: int, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions
        self.conv = nn.Conv2d(in_channels, out_channels * partitions, kernel_size=(1, 1))

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        n, kc, t, v = x.size()
        # partition index first, as the reference views it
        x = x.view(n, self.partitions, kc // self.partitions, t, v)
        return torch.einsum("nkctv,kvw->nctw", x, A).contiguous()


class _BaselineBlock(nn.Module):
    """One ST-GCN unit: ``relu(tcn(gcn(x)) + residual(x))``.

    ``residual_mode`` is ``"none"`` (block 0), ``"identity"`` or ``"project"``; only the last
    owns modules, so only it adds ``residual.*`` keys, as in the reference.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        partitions: int,
        stride: int,
        dropout: float,
        use_residual: bool,
    ) -> None:
        super().__init__()
        self.gcn = _EinsumGraphConv(in_channels, out_channels, partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(
                out_channels,
                out_channels,
                kernel_size=(_TEMPORAL_KERNEL, 1),
                stride=(stride, 1),
                padding=(_TEMPORAL_KERNEL // 2, 0),
            ),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )
        if not use_residual:
            self.residual_mode = "none"
        elif in_channels == out_channels and stride == 1:
            self.residual_mode = "identity"
        else:
            self.residual_mode = "project"
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=(1, 1), stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, A))
        if self.residual_mode == "identity":
            y = y + x
        elif self.residual_mode == "project":
            y = y + self.residual(x)
        return F.relu(y)


def _reference_trainer_init(module: nn.Module) -> None:
    """N(0, 0.02) conv weights with zero bias, N(1, 0.02) norm weights with zero bias.

    The reference trainer applies this after building the network; doing it here too keeps
    a freshly built baseline statistically the same as a freshly built ``STGCN``.
    """
    if isinstance(module, nn.Conv1d | nn.Conv2d):
        module.weight.data.normal_(0.0, 0.02)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        module.weight.data.normal_(1.0, 0.02)
        module.bias.data.zero_()


class BaselineSTGCN(nn.Module):
    """Plain fp32 eager ST-GCN with the reference's structure and state_dict.

    It is the reference-structure oracle for the tests and the ``stgcn bench --baseline``
    comparison point (see the module docstring). The constructor takes the same arguments
    as :class:`stgcn.model.network.STGCN`, so either can be built from one config.

    Input ``(N, C, T, V, M)``; output ``(N, num_class)`` logits, averaged over persons.
    """

    def __init__(
        self,
        num_class: int,
        layout: str | Layout | dict[str, Any] = "openpose",
        strategy: str = "spatial",
        in_channels: int = 3,
        edge_importance_weighting: bool = True,
        dropout: float = 0.0,
        max_hop: int = 1,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        self.graph = Graph(layout, strategy, max_hop=max_hop, dilation=dilation)
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.register_buffer("A", A)
        partitions, num_node = A.size(0), A.size(1)

        self.data_bn = nn.BatchNorm1d(in_channels * num_node)
        blocks = []
        channels = in_channels
        for index, (out_channels, stride) in enumerate(_BLOCK_PLAN):
            blocks.append(
                _BaselineBlock(
                    channels,
                    out_channels,
                    partitions,
                    stride=stride,
                    # the reference gives block 0 neither dropout nor a residual
                    dropout=dropout if index > 0 else 0.0,
                    use_residual=index > 0,
                )
            )
            channels = out_channels
        self.st_gcn_networks = nn.ModuleList(blocks)

        self.edge_importance: nn.ParameterList | None
        if edge_importance_weighting:
            self.edge_importance = nn.ParameterList(
                nn.Parameter(torch.ones(A.size())) for _ in blocks
            )
        else:
            self.edge_importance = None
        self.fcn = nn.Conv2d(channels, num_class, kernel_size=(1, 1))
        self.apply(_reference_trainer_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.size()
        # data_bn normalises each (joint, channel) pair over persons and frames
        x = x.permute(0, 4, 3, 1, 2).contiguous().view(n * m, v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).contiguous().view(n * m, c, t, v)

        for index, block in enumerate(self.st_gcn_networks):
            A = self.A if self.edge_importance is None else self.A * self.edge_importance[index]
            x = block(x, A)

        x = F.avg_pool2d(x, kernel_size=x.size()[2:])  # (N*M, C, 1, 1)
        x = x.view(n, m, -1, 1, 1).mean(dim=1)  # average the persons
        x = self.fcn(x)
        return x.view(n, -1)
