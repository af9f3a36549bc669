"""PYSKL's ST-GCN++ (Duan et al., "PYSKL: Towards Good Practices for Skeleton Action
Recognition", 2022): PYSKL's ``STGCN`` backbone with the settings of its
``configs/stgcn++/*/j.py`` (``gcn_adaptive='init'``, ``gcn_with_res=True``,
``tcn_type='mstcn'``, graph mode ``spatial`` of PYSKL's own bones) and its ``GCNHead``.

Module for module and key for key PYSKL's (``backbone.gcn.<i>.gcn.A``,
``backbone.gcn.<i>.tcn.branches...``, ``cls_head.fc_cls.weight``), so that a PYSKL
checkpoint loads strictly and gives PYSKL's logits. The adjacency is a parameter
initialised from the graph and trained with the rest, so a trained network's ``A`` no
longer tells its layout: a checkpoint's layout is the one registered layout with its
joint count, or ``--layout``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from stgcn.records import ModelSpec, RecogniseRequest
from stgcn_models.blocks import MultiScaleTemporal, aggregate_joints, stgcn_blocks
from stgcn_models.plugin import STGCNPP_PRESETS, STGCNPPOptions
from stgcn_models.pyskl import (
    DATA_BN_WEIGHT,
    HEAD_WEIGHT,
    PysklRecognizer,
    STGCNBackbone,
    class_count,
    has_keys,
    input_channels,
    layout_for,
    pyskl_graph,
)

#: the keys every ST-GCN++ state_dict has: a learnt adjacency with a convolution before
#: it (``adaptive='init'``, ``conv_pos='pre'``), the spatial unit's residual
#: (``with_res``) and the multi-scale temporal block; PYSKL's plain ST-GCN has ``PA``
#: and a single temporal ``conv`` instead, CTR-GCN ``convs``
KEYS = (
    DATA_BN_WEIGHT,
    "backbone.gcn.0.gcn.A",
    "backbone.gcn.0.gcn.conv.weight",
    "backbone.gcn.0.tcn.branches.0.0.weight",
    "backbone.gcn.0.tcn.transform.2.weight",
    HEAD_WEIGHT,
)
#: keys of PYSKL's other spatial units, which ST-GCN++'s lacks
NOT_KEYS = ("backbone.gcn.0.gcn.PA", "backbone.gcn.0.gcn.convs.0.conv1.weight")


class AdaptiveGraphConv(nn.Module):
    """PYSKL's ``unit_gcn`` as ST-GCN++ sets it: a 1×1 convolution to ``out × K``
    channels, each of the K parts mixed over joints by its own adjacency ``A`` (a
    parameter, initialised from the graph), summed; batch norm, plus the input (through
    a 1×1 convolution and batch norm where the channels change), then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor) -> None:
        super().__init__()
        self.parts = A.shape[0]
        self.A = nn.Parameter(A.clone())
        self.conv = nn.Conv2d(in_channels, out_channels * self.parts, 1)
        self.down: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.down = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels)
            )
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = aggregate_joints(self.conv(x), self.A)
        return self.act(self.bn(mixed) + self.down(x))


def multi_scale_temporal(channels: int, stride: int, dropout: float) -> MultiScaleTemporal:
    """ST-GCN++'s temporal unit (``tcn_type='mstcn'``), which strides."""
    return MultiScaleTemporal(channels, channels, stride=stride, dropout=dropout)


class STGCNPlusPlus(PysklRecognizer):
    """ST-GCN++ for ``spec``: PYSKL's ``STGCN`` backbone of ST-GCN++'s blocks, staged
    as the options' preset names (5 and 8 in the standard one, 6 in the gesture one),
    and PYSKL's ``GCNHead``."""

    def __init__(self, spec: ModelSpec) -> None:
        options = spec.options if spec.options is not None else STGCNPPOptions()
        A = pyskl_graph(spec.layout)
        backbone = STGCNBackbone(
            spec.in_channels,
            A.shape[1],
            stgcn_blocks(functools.partial(AdaptiveGraphConv, A=A), multi_scale_temporal),
            options.stages,
            options.base_channels,
            options.dropout,
            channels_last=True,
        )
        super().__init__(spec, backbone, backbone.out_channels)


def build(spec: ModelSpec) -> STGCNPlusPlus:
    """An ST-GCN++ for ``spec`` with fresh weights (PyTorch's initialisation, the head's
    N(0, 0.01), as PYSKL's)."""
    return STGCNPlusPlus(spec)


def recognise(request: RecogniseRequest) -> ModelSpec | None:
    """The spec of the ST-GCN++ these weights fit (PYSKL's keys, checkpoints of PYSKL
    or of ``stgcn run --model stgcnpp``), None for any other network's."""
    weights = request.weights
    if not has_keys(weights, KEYS) or any(key in weights for key in NOT_KEYS):
        return None
    joints = int(weights["backbone.gcn.0.gcn.A"].shape[-1])
    channels = input_channels(weights, joints)
    base = int(weights["backbone.gcn.0.gcn.bn.weight"].shape[0])
    widths = _block_widths(weights)
    # PYSKL drops the first block where the input already has the base channels
    first_stage = 1 + (channels == base)
    stages = len(widths) + first_stage - 1
    widened = tuple(
        first_stage + index for index in range(1, len(widths)) if widths[index] > widths[index - 1]
    )
    preset = next(
        (name for name, staged in STGCNPP_PRESETS.items() if staged.inflate_stages == widened),
        "standard",
    )
    options = STGCNPPOptions(preset=preset, base_channels=base, num_stages=stages)
    return ModelSpec(class_count(request), channels, layout_for(request, joints), options=options)


def _block_widths(weights: Mapping[str, Any]) -> list[int]:
    """Each block's output channels, in order (from its spatial unit's batch norm)."""
    prefix, suffix = "backbone.gcn.", ".gcn.bn.weight"
    blocks = {
        int(key[len(prefix) : -len(suffix)]): int(value.shape[0])
        for key, value in weights.items()
        if key.startswith(prefix) and key.endswith(suffix)
    }
    return [blocks[index] for index in sorted(blocks)]
