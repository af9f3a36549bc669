"""The model ``stgcn info`` describes: a checkpoint's, or a fresh one for a dataset."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stgcn.reports.model_info import model_info


def describe_model(
    checkpoint: str | None,
    dataset: str | None,
    data_path: str | None,
    options: Mapping[str, Any],
    frames: int,
    persons: int,
) -> dict[str, Any]:
    if checkpoint:
        from stgcn.model.loading import load_model_and_checkpoint

        model, saved = load_model_and_checkpoint(checkpoint)
        return model_info(model, frames, persons, saved)
    from stgcn.data.facts import describe
    from stgcn.data.streams import split_options
    from stgcn.model.network import STGCN
    from stgcn.plugins.registry import get_registry

    record = get_registry().dataset(str(dataset))
    if record.describe is not None:
        folder = record.data_path_for(data_path)
        record = describe(record, Path(folder) if folder else None, split_options(options)[1])
    model = STGCN(record.num_class, record.layout, record.strategy, in_channels=record.in_channels)
    facts = model_info(model, frames, persons, None, list(record.class_names or []))
    facts["dataset"] = record.name
    return facts


#: the training settings ``stgcn info`` shows of a checkpoint's config
SHOWN_CONFIG = ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "precision")


def describe_facts(facts: Mapping[str, Any]) -> list[str]:
    """The lines ``stgcn info`` prints for what :func:`describe_model` returned."""
    names = facts["class_names"]
    shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
    lines = [
        f"parameters     {facts['parameters']:,}",
        f"forward        {facts['gflop_per_sample']:.2f} GFLOP per sample "
        f"({facts['frames']} frames, {facts['persons']} persons)",
        f"layout         {facts['layout']} ({facts['joints']} joints), {facts['strategy']} "
        f"strategy, {facts['in_channels']} input channels",
        f"classes        {facts['num_class']}" + (f": {shown}" if names else ""),
    ]
    if facts["dataset"]:
        lines.append(f"dataset        {facts['dataset']}")
    if facts["epoch"] is not None:
        lines.append(
            f"trained        {facts['epoch']} epochs, best val top1 {facts['best_top1']:.4f}"
        )
    lines += [
        f"  {key:<13}{facts['config'][key]}" for key in SHOWN_CONFIG if key in facts["config"]
    ]
    return lines
