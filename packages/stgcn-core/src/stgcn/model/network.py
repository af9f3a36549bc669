"""The ST-GCN network, module for module and key for key the reference one.

Attribute names and nesting are part of the public contract: they make the
state_dict keys, and a released reference checkpoint must load with
``strict=True``. Change them and those checkpoints stop loading.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from stgcn.model import INIT_SCHEMES, spectral
from stgcn.model.graph import Graph
from stgcn.model.layouts import Layout

#: (output channels, temporal stride) of blocks 0..9.
# one row per stage (64, 128, 256 channels), as the paper draws them: kept by hand
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (64, 1), (64, 1), (64, 1),
    (128, 2), (128, 1), (128, 1),
    (256, 2), (256, 1), (256, 1),
)  # fmt: skip
TEMPORAL_KERNEL = 9
#: How a TemporalConv computes: oneDNN/cuDNN's convolution, or through the DFT.
TEMPORAL_ALGORITHMS = ("direct", "dft")


class GraphConv(nn.Module):
    """A 1x1 convolution to K partitions, then aggregation over joints with ``A``.

    The aggregation is one matrix product over a joined ``K*V`` axis rather than an
    einsum: every backend has a fast matmul, and ONNX opsets below 12 have no Einsum.
    """

    def __init__(self, in_channels: int, out_channels: int, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions
        self.conv = nn.Conv2d(in_channels, out_channels * partitions, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        K, V, W = A.shape
        n, _, t, _ = x.shape
        y = self.conv(x)  # (N, K*C, T, V)
        c = y.shape[1] // K
        if not y.is_contiguous() and y.is_contiguous(memory_format=torch.channels_last):
            return _aggregate_channels_last(y, A, K, c)
        # (N, K, C, T, V) -> (N, C, T, K, V) so that K and V are adjacent for the product
        y = y.view(n, K, c, t, V).permute(0, 2, 3, 1, 4).reshape(n, c, t, K * V)
        return torch.matmul(y, A.reshape(K * V, W))  # (N, C, T, W)


def _aggregate_channels_last(y: torch.Tensor, A: torch.Tensor, K: int, c: int) -> torch.Tensor:
    """The aggregation without a copy when ``y`` is stored channels-last.

    Stored as ``(N, T, V, K, C)``, each frame is already a ``(V*K, C)`` matrix, so one
    batched product with ``A`` laid out as ``(W, V*K)`` gives ``(N, T, W, C)``: the
    channels-last storage of the ``(N, C, T, W)`` result, ready for the next convolution.
    ``A`` is broadcast over the frames as a stride-0 batch of ``bmm``: a 2-D by 3-D
    ``matmul`` copies the frames transposed to fold them into one product, forward and
    backward (ST-GCN's bf16 training step, one thread, batch 16: 1.87-1.94 s of CPU
    against 1.99-2.00 s with ``matmul``, on a Zen 5).
    """
    n, _, t, V = y.shape
    W = A.shape[2]
    rows = y.permute(0, 2, 3, 1).reshape(n * t, V * K, c)  # a view: no copy
    weight = A.permute(2, 1, 0).reshape(W, V * K)
    mixed = torch.bmm(weight.expand(n * t, W, V * K), rows)
    return mixed.view(n, t, W, c).permute(0, 3, 1, 2)


class TemporalConv(nn.Conv2d):
    """The ``(9, 1)`` convolution over frames.

    ``algorithm = "dft"`` computes it through the discrete Fourier transform wherever
    that gives the same function and is faster (:mod:`stgcn.model.spectral`), and directly
    elsewhere. It is a plain attribute, not state: the parameters, their keys and the
    checkpoints are those of an ``nn.Conv2d``.
    """

    algorithm = "direct"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.algorithm == "dft" and spectral.applies(self, x) and spectral.pays_off(self, x):
            return spectral.temporal_conv(x, self)
        return super().forward(x)


def set_temporal_algorithm(model: nn.Module, algorithm: str) -> int:
    """Switch every TemporalConv in ``model``; returns how many there are."""
    if algorithm not in TEMPORAL_ALGORITHMS:
        raise ValueError(
            f"unknown temporal algorithm {algorithm!r}; known: {', '.join(TEMPORAL_ALGORITHMS)}"
        )
    convs = [module for module in model.modules() if isinstance(module, TemporalConv)]
    for conv in convs:
        conv.algorithm = algorithm
    return len(convs)


class STGCNBlock(nn.Module):
    """Spatial graph convolution, then temporal convolution, with a residual."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        partitions: int,
        stride: int = 1,
        dropout: float = 0.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        padding = (TEMPORAL_KERNEL - 1) // 2
        self.gcn = GraphConv(in_channels, out_channels, partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            TemporalConv(
                out_channels,
                out_channels,
                (TEMPORAL_KERNEL, 1),
                (stride, 1),
                (padding, 0),
            ),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout, inplace=True),
        )
        self.residual: nn.Module | None
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x, A))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out)


class STGCN(nn.Module):
    """Spatial temporal graph convolutional network (Yan et al., AAAI 2018).

    Input ``(N, C, T, V, M)``: batch, channels, frames, joints, persons.
    Output ``(N, num_class)`` logits, averaged over persons. It meets the model contract
    (:class:`stgcn.model.contract.SkeletonModel`); ``persons`` is the data's most persons
    per clip (the network itself takes any number: it is no state).
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
        persons: int = 2,
    ) -> None:
        super().__init__()
        self.graph = Graph(layout, strategy, max_hop=max_hop, dilation=dilation)
        self.num_class = num_class
        self.in_channels = in_channels
        self.persons = persons
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        self.register_buffer("A", A)
        partitions, num_node, _ = A.shape

        self.data_bn = nn.BatchNorm1d(in_channels * num_node)
        blocks = []
        channels = in_channels
        for index, (out_channels, stride) in enumerate(BLOCKS):
            first = index == 0
            blocks.append(
                STGCNBlock(
                    channels,
                    out_channels,
                    partitions,
                    stride=stride,
                    dropout=0.0 if first else dropout,
                    residual=not first,
                )
            )
            channels = out_channels
        self.st_gcn_networks = nn.ModuleList(blocks)
        self.edge_importance: nn.ParameterList | None
        if edge_importance_weighting:
            self.edge_importance = nn.ParameterList(
                [nn.Parameter(torch.ones_like(A)) for _ in blocks]
            )
        else:
            self.edge_importance = None
        self.fcn = nn.Conv2d(channels, num_class, kernel_size=1)
        self.reset_parameters()

    def reset_parameters(self, scheme: str = "reference") -> None:
        """Draw fresh weights; the edge importances stay ones.

        ``reference`` is the reference trainer's N(0, 0.02) convolutions and N(1, 0.02)
        norms. ``pytorch`` is PyTorch's own fan-in scaled draw, which learns small data
        much sooner: N(0, 0.02) draws the 3-input first convolution about 16x smaller than
        the fan-in rule, and as a BatchNorm follows it, an SGD step changes it about 270x
        more relative to its size, so early training mostly shakes the input layer.
        """
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {scheme!r}; known: {', '.join(INIT_SCHEMES)}")
        convs, norms = nn.Conv2d | nn.Conv1d, nn.BatchNorm1d | nn.BatchNorm2d
        for module in self.modules():
            if scheme == "pytorch" and isinstance(module, convs | norms):
                module.reset_parameters()
            elif isinstance(module, convs):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, norms):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

    @property
    def layout(self) -> Layout:
        return self.graph.layout

    def input_shape(self, frames: int) -> tuple[int, int, int, int]:
        return (self.in_channels, frames, self.graph.layout.num_node, self.persons)

    def config(self) -> dict[str, Any]:
        """What it takes to build this network again (stored in checkpoints)."""
        return {
            "num_class": self.num_class,
            "layout": self.graph.layout.to_dict(),
            "persons": self.persons,
            "strategy": self.graph.strategy,
            "in_channels": self.in_channels,
            "edge_importance_weighting": self.edge_importance is not None,
            "dropout": self._dropout(),
            "max_hop": self.graph.max_hop,
            "dilation": self.graph.dilation,
        }

    def _dropout(self) -> float:
        # the second block's: the first is built without dropout
        block = cast(STGCNBlock, self.st_gcn_networks[1])
        return float(cast(nn.Dropout, block.tcn[4]).p)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Block outputs before pooling: ``(N*M, 256, T', V)``."""
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for index, block in enumerate(self.st_gcn_networks):
            A = self.A if self.edge_importance is None else self.A * self.edge_importance[index]
            x = block(x, A)
        return x

    def head(self, features: torch.Tensor, persons: int) -> torch.Tensor:
        """Logits ``(N, num_class)`` from :meth:`features` of clips of ``persons`` persons
        (apart, so that a class activation map can take the features' gradient)."""
        n = features.shape[0] // persons
        x = features.mean(dim=(2, 3)).view(n, persons, -1).mean(dim=1)  # T, V, then persons
        return self.fcn(x[:, :, None, None]).view(n, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x), x.shape[4])
