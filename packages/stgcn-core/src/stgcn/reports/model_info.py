"""``stgcn info``: what a model is, without training or data.

FLOPs are counted by ``torch.utils.flop_counter`` on one sample of the given frames and
persons (a forward pass on zeros), as multiply-adds times two; the graph convolutions'
einsums and the temporal convolutions dominate.
"""

from __future__ import annotations

from typing import Any

import torch

from stgcn.model.checkpoint import Checkpoint
from stgcn.model.contract import SkeletonModel, as_module


def forward_flops(model: SkeletonModel, frames: int, persons: int) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    channels, _, joints, _ = model.input_shape(frames)
    sample = torch.zeros(1, channels, frames, joints, persons)
    counter = FlopCounterMode(display=False)
    as_module(model).eval()
    with torch.no_grad(), counter:
        model(sample)
    return int(counter.get_total_flops())


def model_info(
    named: tuple[str, SkeletonModel],
    frames: int,
    persons: int,
    checkpoint: Checkpoint | None = None,
    class_names: list[str] | None = None,
) -> dict[str, Any]:
    """Parameters, GFLOP per sample, layout, classes and the training configuration of
    ``named``, a model's registered name and its network."""
    name, model = named
    parameters = list(as_module(model).parameters())
    config = model.config()
    layout = config["layout"]
    saved = checkpoint.class_names if checkpoint is not None else None
    names = list(saved or class_names or [])
    training = dict(checkpoint.run_config) if checkpoint is not None else {}
    return {
        "model": name,
        "parameters": sum(p.numel() for p in parameters),
        "trainable_parameters": sum(p.numel() for p in parameters if p.requires_grad),
        "gflop_per_sample": forward_flops(model, frames, persons) / 1e9,
        "frames": frames,
        "persons": persons,
        "num_class": model.num_class,
        "class_names": names,
        "layout": layout if isinstance(layout, str) else layout.get("name", "custom"),
        "joints": model.layout.num_node,
        "strategy": config.get("strategy"),
        "in_channels": model.in_channels,
        "dataset": checkpoint.run_dataset if checkpoint is not None else None,
        "epoch": checkpoint.epoch if checkpoint is not None else None,
        "best_top1": checkpoint.best_top1 if checkpoint is not None else None,
        "config": training,
    }
