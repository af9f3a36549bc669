"""Where ``stgcn export NAME`` and ``stgcn predict`` get their model and its dataset.

A stgcn checkpoint names its dataset; a bare reference state_dict does not, and may
need its layout, strategy or class count spelled out
(:func:`stgcn.commands.options.bare_model_params`). The
dataset plugin need not be installed to export or to predict from a ``.npy`` sample: it
only adds class names (and reads clips in its own format), so a missing one is an error
only when the user named it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stgcn.data.class_names import class_names
from stgcn.data.facts import from_checkpoint
from stgcn.errors import StgcnError
from stgcn.model.checkpoint import Checkpoint
from stgcn.model.contract import SkeletonModel
from stgcn.networks.loading import load_model_and_checkpoint
from stgcn.plugins.kinds import DATASETS, LAYOUTS
from stgcn.plugins.layouts import layout_names
from stgcn.plugins.records import Dataset, Layout
from stgcn.plugins.registry import get_registry


def parse_layout(value: str | None) -> Layout | dict[str, Any] | None:
    """A registered layout's name (the core's or a plugin's), or a JSON file
    ``{"num_node", "edges", "center"}`` for a custom one."""
    if value is None:
        return None
    layouts = get_registry().table(LAYOUTS)
    if value in layouts:
        return layouts[value]
    path = Path(value)
    if path.suffix.lower() != ".json":
        raise StgcnError(
            f"unknown layout {value!r}: give one of {', '.join(layout_names())} "
            "or a .json file with num_node, edges and center"
        )
    if not path.is_file():
        raise StgcnError(f"layout file not found: {path}")
    try:
        layout = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise StgcnError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(layout, dict):
        raise StgcnError(f"{path} holds no JSON object")
    missing = [key for key in ("num_node", "edges", "center") if key not in layout]
    if missing:
        raise StgcnError(f"{path} lacks {', '.join(missing)}")
    return layout


def load_checkpoint_model(
    path: str, layout: str | None, strategy: str | None, num_class: int | None
) -> tuple[SkeletonModel, Checkpoint | None]:
    """The model in eval mode, and the stgcn checkpoint (None for a bare state_dict, whose
    layout, unless given, is the registered one its adjacency was built from)."""
    try:
        return load_model_and_checkpoint(path, parse_layout(layout), strategy, num_class)
    except ValueError as error:  # a custom layout whose edges make no graph
        raise StgcnError(f"bad layout: {error}") from None


def find_dataset(
    name: str | None,
    explicit: bool,
    num_class: int | None,
    checkpoint: Checkpoint | None = None,
) -> Dataset | None:
    """The installed dataset record called ``name`` with the facts the checkpoint stored
    for it (classes a dataset found in its data, say), checked against the model's class
    count (where known); None when no name is known, or the remembered one is not
    installed."""
    if not name:
        return None
    registry = get_registry()
    if name not in registry.table(DATASETS) and not explicit:
        return None
    dataset = registry.get(DATASETS, name)  # an unknown name the user typed: one-line error
    if checkpoint is not None and checkpoint.run_dataset == name:
        dataset = from_checkpoint(dataset, checkpoint)
    if dataset.describe is not None and dataset.num_class == 0:
        return dataset  # its classes come from data this model file does not describe
    if num_class is not None and dataset.num_class != num_class:
        raise StgcnError(
            f"the model predicts {num_class} classes but dataset {name!r} has {dataset.num_class}"
        )
    return dataset


def class_names_of(dataset: Dataset | None, num_class: int) -> Sequence[str] | None:
    """The dataset's class names where they name the model's ``num_class`` classes."""
    return class_names(num_class, dataset.class_names if dataset is not None else None)
