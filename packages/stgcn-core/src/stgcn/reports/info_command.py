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
