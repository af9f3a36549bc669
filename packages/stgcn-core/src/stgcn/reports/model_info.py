"""``stgcn info``: what a model is, without training or data.

FLOPs are counted by ``torch.utils.flop_counter`` on one sample of the given frames and
persons (a forward pass on zeros), as multiply-adds times two; the graph convolutions'
einsums and the temporal convolutions dominate.
"""

from __future__ import annotations

from typing import Any

import torch

from stgcn.model.checkpoint import Checkpoint
from stgcn.model.network import STGCN


def forward_flops(model: STGCN, frames: int, persons: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    sample = torch.zeros(1, model.in_channels, frames, model.graph.num_node, persons)
    counter = FlopCounterMode(display=False)
    model.eval()
    with torch.no_grad(), counter:
        model(sample)
    return int(counter.get_total_flops())


def model_info(
    model: STGCN,
    frames: int,
    persons: int,
    checkpoint: Checkpoint | None = None,
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """Parameters, GFLOP per sample, layout, classes and the training configuration."""
    config = model.config()
    layout = config["layout"]
    saved = checkpoint.class_names if checkpoint is not None else None
    names = list(saved or class_names or [])
    training = dict(checkpoint.run_config) if checkpoint is not None else {}
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "gflop_per_sample": forward_flops(model, frames, persons) / 1e9,
        "frames": frames,
        "persons": persons,
        "num_class": model.num_class,
        "class_names": names,
        "layout": layout if isinstance(layout, str) else layout.get("name", "custom"),
        "joints": model.graph.num_node,
        "strategy": config["strategy"],
        "in_channels": model.in_channels,
        "dataset": checkpoint.run_dataset if checkpoint is not None else None,
        "epoch": checkpoint.epoch if checkpoint is not None else None,
        "best_top1": checkpoint.best_top1 if checkpoint is not None else None,
        "config": training,
    }
