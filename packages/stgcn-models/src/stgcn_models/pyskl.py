"""What PYSKL's networks share here: the ``STGCN`` backbone's stages (ST-GCN++'s and
PYSKL's ST-GCN's, which differ only in their blocks), the recogniser that holds a
backbone and a ``GCNHead``, and reading a PYSKL checkpoint's model back from its tensors.

The networks are laid out as PYSKL's ``RecognizerGCN`` is, a ``backbone`` and a
``cls_head`` whose linear layer is ``fc_cls``, so that their state_dict keys are
PYSKL's own (``backbone.data_bn.weight``, ..., ``cls_head.fc_cls.weight``): the
``state_dict`` of a checkpoint PYSKL wrote (mmcv's ``{"meta", "state_dict"}``, which
stgcn's checkpoint reader unwraps) loads with strict key matching and no renaming, and
a network trained here saves the same keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from stgcn.errors import StgcnError
from stgcn.model.graph import pyskl_spatial
from stgcn.records import Layout, ModelSpec, RecogniseRequest
from stgcn_models.blocks import BlockFactory, features_for_blocks
from stgcn_models.plugin import Stages

#: the prefix of the backbone's keys and the head's weight, in PYSKL's recognisers
BACKBONE = "backbone."
HEAD_WEIGHT = "cls_head.fc_cls.weight"
#: the data batch norm, over joints × channels (PYSKL's ``data_bn_type='VC'``)
DATA_BN_WEIGHT = "backbone.data_bn.weight"

#: PYSKL's own bones (``pyskl/utils/graph.py``, ``Graph.get_layout``: (child, parent),
#: 0-based) and centre for the layouts it knows, by the name of the registered layout
#: with the same joints in the same order. They differ from stgcn's layouts of those
#: names: PYSKL's NTU hand joints hang from the wrists (the reference ST-GCN's chain
#: them), and its COCO graph is a tree from the nose (stgcn's COCO is mmpose's skeleton,
#: with shoulder, hip and ear-shoulder links); a network trained by PYSKL saw these.
PYSKL_BONES: Mapping[str, tuple[tuple[tuple[int, int], ...], int]] = {
    "ntu-rgb+d": (
        tuple(
            (child - 1, parent - 1)
            for child, parent in (
                (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
                (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
                (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8), (23, 8),
                (24, 12), (25, 12),
            )
        ),
        20,
    ),
    "coco": (
        (
            (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5),
            (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2),
        ),
        0,
    ),
    "openpose": (
        (
            (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
            (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
        ),
        1,
    ),
}  # fmt: skip


def pyskl_layout(layout: Layout) -> Layout:
    """The skeleton PYSKL's networks saw for ``layout``: PYSKL's own bones and centre for
    a layout PYSKL knows (:data:`PYSKL_BONES`), the layout itself for any other."""
    known = PYSKL_BONES.get(layout.name)
    if known is not None:
        bones, center = known
        size = max(max(bone) for bone in bones) + 1
        if size == layout.num_node:
            return Layout.custom(size, bones, center, name=layout.name)
    return layout


def pyskl_graph(layout: Layout) -> torch.Tensor:
    """PYSKL's ``spatial`` graph, ``(3, V, V)``, of :func:`pyskl_layout`'s bones."""
    return torch.from_numpy(np.ascontiguousarray(pyskl_spatial(pyskl_layout(layout))))


#: the channel multiplier at each inflation (PYSKL's ``ch_ratio``)
CHANNEL_RATIO = 2


class STGCNBackbone(nn.Module):
    """PYSKL's ``STGCN`` backbone (``pyskl/models/gcns/stgcn.py``), whatever its blocks:
    batch norm over joints × channels of each person's input, then the blocks in
    ``gcn``, doubling the channels at ``stages.inflate_stages`` and halving the frames at
    ``stages.down_stages`` (stages counted from 1). The first block, from the input
    channels, has no residual and no dropout, and is left out where the input already
    has ``base_channels``, as PYSKL's loop does. Takes PYSKL's ``(N, M, T, V, C)``,
    returns ``(N, M, C', T', V)``.

    ``channels_last``: in training the blocks get their input channels last on a CPU
    whatever the backend's layout, for blocks whose convolutions all pay for it in fp32
    too (ST-GCN++'s); elsewhere the features follow the parameters' layout
    (``blocks.features_for_blocks``)."""

    def __init__(
        self,
        in_channels: int,
        joints: int,
        make_block: BlockFactory,
        stages: Stages,
        base_channels: int,
        dropout: float,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.data_bn = nn.BatchNorm1d(in_channels * joints)
        blocks = []
        if in_channels != base_channels:
            blocks.append(
                make_block(in_channels, base_channels, stride=1, residual=False, dropout=0.0)
            )
        channels, inflations = base_channels, 0
        for stage in range(2, stages.num_stages + 1):
            inflations += stage in stages.inflate_stages
            out = int(base_channels * CHANNEL_RATIO**inflations + 1e-4)
            stride = 2 if stage in stages.down_stages else 1
            blocks.append(make_block(channels, out, stride=stride, residual=True, dropout=dropout))
            channels = out
        self.out_channels = channels
        self.gcn = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, t, v, c = x.shape
        x = x.permute(0, 1, 3, 4, 2).contiguous()
        x = self.data_bn(x.view(n * m, v * c, t))
        x = x.view(n * m, v, c, t).permute(0, 2, 3, 1)
        x = features_for_blocks(x, self.gcn[0], self.channels_last and self.training)
        for block in self.gcn:
            x = block(x)
        return x.reshape((n, m, *x.shape[1:]))


class GCNHead(nn.Module):
    """PYSKL's ``GCNHead``: the features averaged over time and joints, then over the
    persons of a clip, dropout (none by default, as PYSKL's) and one linear layer,
    initialised N(0, 0.01) with zero bias as PYSKL initialises it."""

    def __init__(self, in_channels: int, num_class: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout: nn.Module = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_class)
        nn.init.normal_(self.fc_cls.weight, 0.0, 0.01)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, features: torch.Tensor, persons: int) -> torch.Tensor:
        pooled = features.mean(dim=(2, 3))
        pooled = pooled.reshape(-1, persons, pooled.shape[1]).mean(dim=1)
        return self.fc_cls(self.dropout(pooled))


class PysklRecognizer(nn.Module):
    """A PYSKL backbone and its ``GCNHead`` as a stgcn network (the model contract:
    ``stgcn.records.SkeletonModel``).

    The backbone takes PYSKL's input order ``(N, M, T, V, C)`` and returns
    ``(N, M, C', T', V)``, as PYSKL's backbones do, so that each backbone's forward is
    PYSKL's step for step; this class turns stgcn's ``(N, C, T, V, M)`` into it."""

    def __init__(self, spec: ModelSpec, backbone: nn.Module, channels: int) -> None:
        super().__init__()
        self.spec = spec
        self.num_class = spec.num_class
        self.in_channels = spec.in_channels
        self.persons = spec.persons
        self.backbone = backbone
        self.cls_head = GCNHead(channels, spec.num_class)

    @property
    def layout(self) -> Layout:
        return self.spec.layout

    def input_shape(self, frames: int) -> tuple[int, int, int, int]:
        return (self.in_channels, frames, self.layout.num_node, self.persons)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's last features, ``(N*M, C', T', V)``."""
        out = self.backbone(x.permute(0, 4, 2, 3, 1))
        return out.reshape((-1, *out.shape[2:]))

    def head(self, features: torch.Tensor, persons: int) -> torch.Tensor:
        return self.cls_head(features, persons)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x), x.shape[4])

    def config(self) -> dict[str, Any]:
        options = self.spec.options
        own = {} if options is None else dataclasses.asdict(options)
        return {
            "num_class": self.num_class,
            "in_channels": self.in_channels,
            "layout": self.layout.to_dict(),
            "persons": self.persons,
            **own,
        }


def has_keys(weights: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Whether a state_dict holds every one of ``keys`` (a model's distinctive ones)."""
    return all(key in weights for key in keys)


def class_count(request: RecogniseRequest) -> int:
    """The classes of a PYSKL recogniser's head; one line where ``--num-class`` differs."""
    found = int(request.weights[HEAD_WEIGHT].shape[0])
    if request.num_class is not None and request.num_class != found:
        raise StgcnError(
            f"the state_dict has {found} classes, not the {request.num_class} asked for"
        )
    return found


def input_channels(weights: Mapping[str, Any], joints: int) -> int:
    """The input channels, from the data batch norm over joints × channels."""
    return int(weights[DATA_BN_WEIGHT].shape[0]) // joints


def layout_for(request: RecogniseRequest, joints: int) -> Layout:
    """The layout of a state_dict of ``joints`` joints: ``--layout`` where given (which
    must have as many), else the one registered layout with that many joints (PYSKL's
    own, :data:`PYSKL_BONES`, where others have as many); one line asking for
    ``--layout`` where none or several have."""
    if request.layout is not None:
        if request.layout.num_node != joints:
            raise StgcnError(
                f"layout {request.layout.name!r} has {request.layout.num_node} joints; "
                f"the state_dict has {joints}"
            )
        return request.layout
    candidates = [layout for layout in request.layouts if layout.num_node == joints]
    if len(candidates) > 1:  # PYSKL's own layouts first: its checkpoints know no others
        candidates = [layout for layout in candidates if layout.name in PYSKL_BONES] or candidates
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise StgcnError(
            f"no installed layout has {joints} joints, as the state_dict has; "
            "register one (a layout plugin) and name it with --layout"
        )
    names = ", ".join(layout.name for layout in candidates)
    raise StgcnError(
        f"the state_dict has {joints} joints, as layouts {names} have; "
        "name its layout with --layout"
    )
