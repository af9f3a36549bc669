"""PYSKL's CTR-GCN (Chen et al., "Channel-wise Topology Refinement Graph Convolution",
ICCV 2021) as ``configs/ctrgcn/ctrgcn_pyskl_*/j.py`` builds it: the ``CTRGCN`` backbone
of ``pyskl/models/gcns/ctrgcn.py`` and a ``GCNHead``.

Module for module and key for key PYSKL's, so that a checkpoint PYSKL wrote loads with
strict key matching and gives PYSKL's logits:

- a data batch norm over persons × joints × channels (``data_bn``), as PYSKL's CTR-GCN
  has it (not ST-GCN++'s joints × channels): its size fixes the persons;
- ten blocks (``net``), 64 → 128 → 256 channels, the channels doubled and the frames
  halved at blocks 5 and 8 (one-based), each a CTR-GC unit (``gcn1``), a multi-scale
  temporal block (``tcn1``) and a residual (none in block 1; a strided 1×1 temporal unit
  where the channels or frames change);
- the CTR-GC unit (PYSKL's ``unit_ctrgcn``): per partition of the graph (PYSKL's
  ``spatial`` mode: identity, inward, outward), a ``CTRGC`` that refines the shared
  topology ``A`` (a learned parameter, initialised from the graph) per channel with
  ``alpha`` × the tanh of pairwise joint differences, summed, then batch norm, a residual
  (1×1 convolution and batch norm where the channels change) and ReLU;
- the temporal block (PYSKL's ``MSTCN`` of ``msg3d_utils.py``, not ST-GCN++'s
  ``mstcn``): two branches of a 1×1 convolution, batch norm, ReLU and a 5×1 temporal unit
  of dilation 1 and 2, a max-pool branch, a 1×1 branch, concatenated, then ReLU and
  dropout (``tcn_dropout``, none in block 1; 0 in PYSKL's configs).

The graph is PYSKL's ``spatial`` graph of PYSKL's own bones where PYSKL defines the
skeleton (``stgcn_models.pyskl.pyskl_graph``). The backbone also keeps it as a buffer
``A``, unused by the forward pass but in PYSKL's state_dicts, so here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from stgcn.errors import StgcnError
from stgcn.records import ModelSpec, RecogniseRequest
from stgcn_models.blocks import TemporalConv, block_residual, reduced_branches
from stgcn_models.plugin import CTRGCNOptions
from stgcn_models.pyskl import (
    BACKBONE,
    PysklRecognizer,
    class_count,
    has_keys,
    input_channels,
    layout_for,
    pyskl_graph,
)

#: keys only a PYSKL CTR-GCN state_dict has: the first block's CTR-GC relation
#: convolution and its multi-scale temporal block's first branch
KEYS = (
    "backbone.A",
    "backbone.data_bn.weight",
    "backbone.net.0.gcn1.convs.0.conv4.weight",
    "backbone.net.0.tcn1.branches.0.3.conv.weight",
    "cls_head.fc_cls.weight",
)
#: blocks (one-based) that double the channels and halve the frames, as PYSKL's
#: ``inflate_stages`` and ``down_stages``
STAGES = 10
WIDER = (5, 8)


class CTRGC(nn.Module):
    """PYSKL's ``CTRGC``: one partition's channel-wise refinement. ``conv1`` and ``conv2``
    embed the joints (``rel`` channels: 8 for a narrow input, else an eighth of it);
    their time-averaged pairwise differences pass through tanh and ``conv4`` to one
    topology refinement per output channel; ``conv3`` embeds the features that the
    refined topology aggregates over joints (:class:`CTRGCUnit`)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        rel = 8 if in_channels <= 16 else in_channels // 8
        self.conv1 = nn.Conv2d(in_channels, rel, kernel_size=1)
        self.conv2 = nn.Conv2d(in_channels, rel, kernel_size=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.conv4 = nn.Conv2d(rel, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The features ``(N, C, T, V)`` and the refinement ``(N, C, V, V)``.

        PYSKL passes ``A`` and ``alpha`` into this call; here the unit applies them, so
        that no parameter is a module call's argument (PyTorch's FLOP counter, which
        ``stgcn info`` uses, refuses a leaf parameter there under ``no_grad``)."""
        # (N, R, V): embedded, then averaged over time, in PYSKL's order
        first, second = self.conv1(x).mean(-2), self.conv2(x).mean(-2)
        # (N, C, U, V): what joint u sends to joint v in each output channel
        refinement = self.conv4(torch.tanh(first.unsqueeze(-1) - second.unsqueeze(-2)))
        return self.conv3(x), refinement


class CTRGCUnit(nn.Module):
    """PYSKL's ``unit_ctrgcn``: per partition of ``A`` (a parameter, initialised from the
    graph) a :class:`CTRGC` whose refinement, scaled by ``alpha`` (one for all
    partitions, initially 0: the graph alone), is added to that partition's ``A``; the
    features aggregated over joints with it, summed over partitions, batch norm, the
    residual ``down`` and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor) -> None:
        super().__init__()
        self.convs = nn.ModuleList(CTRGC(in_channels, out_channels) for _ in range(A.shape[0]))
        self.down: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels)
            )
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed: torch.Tensor | None = None
        for part, conv in enumerate(self.convs):
            features, refinement = conv(x)
            topology = refinement * self.alpha + self.A[part][None, None]
            # PYSKL's einsum('ncuv,nctu->nctv') as one batched matrix product
            aggregated = torch.matmul(features, topology)
            summed = aggregated if summed is None else summed + aggregated
        assert summed is not None
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            # the per-channel products give the contiguous layout: back to the input's
            # once here, or the batch norm, the residual sum, the ReLU and the temporal
            # block's convolutions each convert over mixed layouts (forward and backward)
            summed = summed.contiguous(memory_format=torch.channels_last)
        return torch.relu(self.bn(summed) + self.down(x))


class MultiScaleTCN(nn.Module):
    """PYSKL's ``MSTCN`` (the one CTR-GCN and MS-G3D use): per dilation a branch of a 1×1
    convolution, batch norm, ReLU and a ``kernel_size``×1 temporal unit with batch norm;
    a branch ending in a 3×1 max-pool and batch norm; a strided 1×1 branch with batch
    norm (the remainder of the channels); concatenated, ReLU, dropout."""

    def __init__(
        self,
        channels: int,
        stride: int,
        kernel_size: int,
        dilations: Sequence[int] = (1, 2),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        count = len(dilations) + 2
        width = channels // count
        rest = channels - width * (count - 1)

        def reduce(out: int) -> list[nn.Module]:
            return [nn.Conv2d(channels, out, kernel_size=1), nn.BatchNorm2d(out), nn.ReLU()]

        branches: list[nn.Module] = [
            nn.Sequential(
                *reduce(width),
                TemporalConv(width, width, kernel_size, stride=stride, dilation=dilation),
            )
            for dilation in dilations
        ]
        pool = nn.MaxPool2d(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0))
        branches.append(nn.Sequential(*reduce(width), pool, nn.BatchNorm2d(width)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(channels, rest, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(rest),
            )
        )
        self.branches = nn.ModuleList(branches)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the dilated and max-pool branches' 1×1 convolutions and batch norms as one
        *reduced, last = self.branches
        outputs = [*reduced_branches(x, reduced), last(x)]
        return self.drop(torch.relu(torch.cat(outputs, dim=1)))


class CTRGCNBlock(nn.Module):
    """PYSKL's ``CTRGCNBlock``: ``relu(tcn1(gcn1(x)) + residual(x))``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: torch.Tensor,
        stride: int = 1,
        residual: bool = True,
        kernel_size: int = 5,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.gcn1 = CTRGCUnit(in_channels, out_channels, A)
        self.tcn1 = MultiScaleTCN(out_channels, stride, kernel_size, dropout=dropout)
        self.residual = block_residual(in_channels, out_channels, stride, residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn1(self.gcn1(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return torch.relu(y)


class CTRGCNBackbone(nn.Module):
    """PYSKL's ``CTRGCN`` backbone: ``(N, M, T, V, C)`` in, ``(N, M, C', T', V)`` out."""

    def __init__(
        self,
        A: torch.Tensor,
        in_channels: int,
        persons: int,
        options: CTRGCNOptions,
    ) -> None:
        super().__init__()
        self.register_buffer("A", A)
        self.data_bn = nn.BatchNorm1d(persons * in_channels * A.shape[1])
        width = options.base_channels
        blocks = [
            CTRGCNBlock(in_channels, width, A, residual=False, kernel_size=options.kernel_size)
        ]
        for stage in range(2, STAGES + 1):
            out = width * 2 if stage in WIDER else width
            blocks.append(
                CTRGCNBlock(
                    width,
                    out,
                    A,
                    stride=2 if stage in WIDER else 1,
                    kernel_size=options.kernel_size,
                    dropout=options.dropout,
                )
            )
            width = out
        self.net = nn.ModuleList(blocks)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, t, v, c = x.shape
        # the data batch norm over (M, V, C) of each frame, as PYSKL orders them
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.net:
            x = block(x)
        return x.reshape((n, m, *x.shape[1:]))

    def init_pyskl(self) -> None:
        """PYSKL's ``init_weights``: in each block's CTR-GC unit and temporal block,
        convolutions Kaiming-normal (fan-out) with zero bias and batch norms 1 and 0, the
        unit's output batch norm 1e-6 (each block starts near its residual); the block
        residuals and the data batch norm keep PyTorch's defaults, as in PYSKL."""
        for block in self.net:
            assert isinstance(block, CTRGCNBlock)
            parts: tuple[nn.Module, ...] = (block.tcn1, block.gcn1)
            for part in parts:
                for module in part.modules():
                    if isinstance(module, nn.Conv2d):
                        nn.init.kaiming_normal_(module.weight, mode="fan_out")
                        if module.bias is not None:
                            nn.init.zeros_(module.bias)
                    elif isinstance(module, nn.BatchNorm2d):
                        nn.init.ones_(module.weight)
                        nn.init.zeros_(module.bias)
            nn.init.constant_(block.gcn1.bn.weight, 1e-6)
            nn.init.zeros_(block.gcn1.bn.bias)


class CTRGCN(PysklRecognizer):
    """PYSKL's ``RecognizerGCN`` of a :class:`CTRGCNBackbone` and a ``GCNHead`` over the
    backbone's last width (256 at PYSKL's 64 base channels), as a stgcn network."""

    #: its data batch norm is per person, joint and channel: it takes its persons only
    fixed_persons = True

    def __init__(self, spec: ModelSpec) -> None:
        options = spec.options if spec.options is not None else CTRGCNOptions()
        if options.kernel_size % 2 == 0:
            raise StgcnError(
                "model ctrgcn: kernel_size must be odd (the temporal convolutions keep "
                f"the frames), not {options.kernel_size}"
            )
        A = pyskl_graph(spec.layout).float()
        backbone = CTRGCNBackbone(A, spec.in_channels, spec.persons, options)
        if options.init == "reference":
            backbone.init_pyskl()
        super().__init__(spec, backbone, backbone.out_channels)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's last features; one line where a clip's channels, joints or
        persons are not the network's, which PYSKL's data batch norm (one per person,
        joint and channel) fixes: a clip of more persons is no input for it."""
        if torch.jit.is_tracing():  # an exporter's trace: the shapes are traced values
            return super().features(x)
        _, channels, _, joints, persons = x.shape
        expected = (self.in_channels, self.layout.num_node, self.persons)
        if (channels, joints, persons) != expected:
            raise StgcnError(
                f"model ctrgcn takes clips of {expected[0]} channels, {expected[1]} joints "
                f"and {expected[2]} persons (its data batch norm is one per person, joint "
                f"and channel, as PYSKL's), not {channels}, {joints} and {persons}"
            )
        return super().features(x)


def build(spec: ModelSpec) -> CTRGCN:
    """A CTR-GCN for ``spec``: PYSKL's ``spatial`` graph of its layout, its fresh weights
    drawn as ``init`` says."""
    return CTRGCN(spec)


def recognise(request: RecogniseRequest) -> ModelSpec | None:
    """The spec of the PYSKL CTR-GCN these weights fit (None when they lack its keys):
    the classes from the head, the joints from the graph ``A``, the channels from the
    first CTR-GC unit, the persons from the data batch norm, the base width and temporal
    kernel from the first block; the layout is ``--layout`` or the registered one with
    that many joints (PYSKL's own first)."""
    weights = request.weights
    if not has_keys(weights, KEYS):
        return None
    A = weights[f"{BACKBONE}A"]
    if A.dim() != 3 or A.shape[1] != A.shape[2]:
        raise StgcnError(f"not a CTR-GCN state_dict: backbone.A has shape {tuple(A.shape)}")
    joints = int(A.shape[1])
    layout = layout_for(request, joints)
    first = weights[f"{BACKBONE}net.0.gcn1.convs.0.conv3.weight"]
    channels = int(first.shape[1])
    # the data batch norm spans persons × joints × channels
    persons, spare = divmod(input_channels(weights, joints), channels)
    if spare or persons < 1:
        raise StgcnError(
            "not a CTR-GCN state_dict: its data batch norm is not persons × joints × "
            f"{channels} channels"
        )
    temporal = weights[f"{BACKBONE}net.0.tcn1.branches.0.3.conv.weight"]
    options = CTRGCNOptions(base_channels=int(first.shape[0]), kernel_size=int(temporal.shape[2]))
    return ModelSpec(class_count(request), channels, layout, persons=persons, options=options)
