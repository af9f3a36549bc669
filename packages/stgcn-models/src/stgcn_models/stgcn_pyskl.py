"""PYSKL's ST-GCN: PYSKL's ``STGCN`` backbone (``pyskl/models/gcns/stgcn.py``) with its
own defaults, as every ``configs/stgcn/*/j.py`` of kennymckormick/pyskl builds it (both
the "vanilla" and the "PYSKL" practice: they differ in the recipe, not the network),
and its ``GCNHead``.

Not the reference ST-GCN of stgcn's core (``stgcn``), though it computes the same kind
of network: PYSKL's files name and split its tensors otherwise (``gcn.PA``, ``gcn.bn``,
``tcn.conv``) and its graph is PYSKL's (``mode='stgcn_spatial'`` of PYSKL's own bones,
whose NTU hands hang from the wrists). Key for key PYSKL's, so that PYSKL's released
ST-GCN checkpoints load strictly and give PYSKL's logits:

- the spatial unit (PYSKL's ``unit_gcn`` with ``adaptive='importance'``,
  ``conv_pos='pre'``, ``with_res=False``): a 1×1 convolution to ``out × K`` channels,
  each of the K parts mixed over joints by the fixed graph ``A`` (a buffer) times a
  learnt importance mask ``PA`` (initialised to ones), summed; batch norm and ReLU;
- the temporal unit (``unit_tcn``): one 9×1 convolution, batch norm, dropout;
- PYSKL's ``STGCNBlock`` residual and ``STGCN`` stages, as ST-GCN++'s
  (:class:`~stgcn_models.blocks.STGCNBlock`, :class:`~stgcn_models.pyskl.STGCNBackbone`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from stgcn.model.graph import Graph
from stgcn.records import Layout, ModelSpec, RecogniseRequest
from stgcn_models.blocks import TemporalConv, stgcn_blocks
from stgcn_models.plugin import Stages, STGCNPysklOptions
from stgcn_models.pyskl import (
    DATA_BN_WEIGHT,
    HEAD_WEIGHT,
    PysklRecognizer,
    STGCNBackbone,
    class_count,
    has_keys,
    input_channels,
    layout_for,
    pyskl_layout,
)

#: the stages (counted from 1) that double the channels and halve the frames
INFLATE_STAGES = (5, 8)
DOWN_STAGES = (5, 8)
#: PYSKL's ``unit_tcn`` in ``STGCNBlock``: a 9-frame temporal convolution
TEMPORAL_KERNEL = 9

#: the keys every PYSKL ST-GCN state_dict has: the graph buffer and its importance mask,
#: the convolution before them, and the single temporal convolution
KEYS = (
    DATA_BN_WEIGHT,
    "backbone.gcn.0.gcn.A",
    "backbone.gcn.0.gcn.PA",
    "backbone.gcn.0.gcn.conv.weight",
    "backbone.gcn.0.gcn.bn.weight",
    "backbone.gcn.0.tcn.conv.weight",
    HEAD_WEIGHT,
)
#: keys of PYSKL's other settings, which this network lacks: a residual inside the
#: spatial unit (``gcn_with_res``), the multi-scale temporal block (``tcn_type='mstcn'``)
NOT_KEYS = ("backbone.gcn.0.gcn.down.0.weight", "backbone.gcn.0.tcn.branches.0.0.weight")


def stgcn_spatial(layout: Layout) -> torch.Tensor:
    """PYSKL's ``stgcn_spatial`` graph, ``(3, V, V)``, of PYSKL's bones for ``layout``:
    the reference ST-GCN's spatial partition (self, towards the centre or level with it,
    away from it; column-normalised over the joints one hop away), which is what the
    core's :class:`~stgcn.model.graph.Graph` computes."""
    adjacency = Graph(pyskl_layout(layout), strategy="spatial", max_hop=1).A
    return torch.from_numpy(np.ascontiguousarray(adjacency, dtype=np.float32))


class ImportanceGraphConv(nn.Module):
    """PYSKL's ``unit_gcn`` with its defaults: a 1×1 convolution to ``out × K``
    channels, part k mixed over joints by ``A[k] * PA[k]``, the parts summed, then batch
    norm and ReLU. ``A`` is a buffer (saved, not learnt), ``PA`` learnt from ones."""

    A: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor) -> None:
        super().__init__()
        self.parts = A.shape[0]
        self.register_buffer("A", A.clone())
        self.PA = nn.Parameter(torch.ones_like(A))
        self.conv = nn.Conv2d(in_channels, out_channels * self.parts, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        mixed = self.conv(x).view(n, self.parts, -1, t, v)
        mixed = torch.einsum("nkctv,kvw->nctw", mixed, self.A * self.PA).contiguous()
        return self.act(self.bn(mixed))


def temporal_conv(channels: int, stride: int, dropout: float) -> TemporalConv:
    """PYSKL's ST-GCN's temporal unit (``unit_tcn``): a 9×1 convolution, which strides."""
    return TemporalConv(channels, channels, TEMPORAL_KERNEL, stride=stride, dropout=dropout)


class PysklSTGCN(PysklRecognizer):
    """PYSKL's ST-GCN for ``spec``: PYSKL's ``STGCN`` backbone of this network's blocks,
    with its defaults (doubling the channels and halving the frames at stages 5 and 8),
    and PYSKL's ``GCNHead``."""

    def __init__(self, spec: ModelSpec) -> None:
        options = spec.options if spec.options is not None else STGCNPysklOptions()
        A = stgcn_spatial(spec.layout)
        backbone = STGCNBackbone(
            spec.in_channels,
            A.shape[1],
            stgcn_blocks(functools.partial(ImportanceGraphConv, A=A), temporal_conv),
            Stages(options.num_stages, INFLATE_STAGES, DOWN_STAGES),
            options.base_channels,
            options.dropout,
        )
        super().__init__(spec, backbone, backbone.out_channels)


def build(spec: ModelSpec) -> PysklSTGCN:
    """PYSKL's ST-GCN for ``spec`` with fresh weights (PyTorch's initialisation and
    ``PA`` all ones, as PYSKL's; the head N(0, 0.01))."""
    return PysklSTGCN(spec)


def recognise(request: RecogniseRequest) -> ModelSpec | None:
    """The spec of the PYSKL ST-GCN these weights fit (PYSKL's ``configs/stgcn``
    checkpoints, or ``stgcn run --model stgcn-pyskl``'s), None for any other network's."""
    weights = request.weights
    if not has_keys(weights, KEYS) or any(key in weights for key in NOT_KEYS):
        return None
    joints = int(weights["backbone.gcn.0.gcn.A"].shape[-1])
    channels = input_channels(weights, joints)
    base = int(weights["backbone.gcn.0.gcn.bn.weight"].shape[0])
    # PYSKL drops the first block where the input already has the base channels
    blocks = _blocks(weights) + (channels == base)
    options = STGCNPysklOptions(base_channels=base, num_stages=blocks)
    return ModelSpec(class_count(request), channels, layout_for(request, joints), options=options)


def _blocks(weights: Mapping[str, Any]) -> int:
    """The number of blocks in the backbone's ``gcn`` list."""
    prefix = "backbone.gcn."
    found = {key[len(prefix) :].split(".")[0] for key in weights if key.startswith(prefix)}
    return len(found)
