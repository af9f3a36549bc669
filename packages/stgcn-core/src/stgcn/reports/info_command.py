"""The model ``stgcn info`` describes: a checkpoint's, or a fresh one for a dataset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stgcn.model.checkpoint import CLIP_FRAMES_KEY
from stgcn.networks.loading import (
    DEFAULT_MODEL,
    load_model_and_checkpoint,
    network_for_data,
    options_for_data,
    registered_name,
)
from stgcn.reports.model_info import model_info

#: the sample ``stgcn info`` counts where nothing says otherwise: the reference's
#: Kinetics clips (300 frames, 2 persons)
DEFAULT_FRAMES = 300
DEFAULT_PERSONS = 2


@dataclass(frozen=True)
class InfoRequest:
    """What ``stgcn info`` describes: a checkpoint's model, or a fresh ``model`` (with
    its ``model_options``) for ``dataset`` (its data and ``data_options``), counted on a
    sample of ``frames`` and ``persons`` where given."""

    checkpoint: str | None = None
    dataset: str | None = None
    data_path: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)
    frames: int | None = None
    persons: int | None = None
    model: str = DEFAULT_MODEL
    model_options: Mapping[str, Any] = field(default_factory=dict)


def describe_model(request: InfoRequest) -> dict[str, Any]:
    """The facts of the checkpoint's model, or of a fresh one for the dataset; the FLOPs
    counted for the request's frames and persons, by default the model's own sample: the
    clip length and persons the checkpoint was trained on (a dataset's persons), else
    :data:`DEFAULT_FRAMES` and :data:`DEFAULT_PERSONS`."""
    frames, persons = request.frames, request.persons
    if request.checkpoint:
        model, saved = load_model_and_checkpoint(request.checkpoint)
        facts = saved.data_facts if saved is not None else None
        stored = dict(facts) if isinstance(facts, Mapping) else {}
        return model_info(
            (registered_name(model), model),
            frames or int(stored.get(CLIP_FRAMES_KEY) or DEFAULT_FRAMES),
            persons or int(stored.get("num_person") or DEFAULT_PERSONS),
            saved,
        )
    from stgcn.data.facts import describe
    from stgcn.data.streams import split_options
    from stgcn.plugins.kinds import DATASETS, MODELS
    from stgcn.plugins.registry import get_registry

    registry = get_registry()
    record = registry.get(DATASETS, str(request.dataset))
    if record.describe is not None:
        folder = record.data_path_for(request.data_path)
        options = split_options(request.data_options)[1]
        record = describe(record, Path(folder) if folder else None, options)
    chosen = registry.get(MODELS, request.model)
    model_options = options_for_data(chosen, record, {}, request.model_options)
    model = network_for_data(chosen, record, model_options)
    facts = model_info(
        (chosen.name, model),
        frames or DEFAULT_FRAMES,
        persons or record.num_person,
        None,
        list(record.class_names or []),
    )
    facts["dataset"] = record.name
    return facts


#: the training settings ``stgcn info`` shows of a checkpoint's config
SHOWN_CONFIG = ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "precision")


def describe_facts(facts: Mapping[str, Any]) -> list[str]:
    """The lines ``stgcn info`` prints for what :func:`describe_model` returned."""
    names = facts["class_names"]
    shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
    lines = [
        f"model          {facts['model']}",
        f"parameters     {facts['parameters']:,}",
        f"forward        {facts['gflop_per_sample']:.2f} GFLOP per sample "
        f"({facts['frames']} frames, {facts['persons']} "
        f"person{'' if facts['persons'] == 1 else 's'})",
        f"layout         {facts['layout']} ({facts['joints']} joints), "
        + (f"{facts['strategy']} strategy, " if facts["strategy"] else "")
        + f"{facts['in_channels']} input channels",
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
