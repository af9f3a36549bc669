"""The dataset contract, one check per function.

Every check takes the dataset's registered name, the folder of (small) data it should
read and its ``--data-option`` pairs, so that a plugin author points the kit at a few
generated files rather than at the real release.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import ConcatDataset, DataLoader, Subset

from stgcn.data.coordinates import CONVENTIONS
from stgcn.errors import StgcnError, first_line
from stgcn.plugins.kinds import DATASETS
from stgcn.plugins.layouts import resolve_layout
from stgcn.plugins.records import BuildRequest, Dataset
from stgcn.plugins.registry import get_registry
from stgcn.testing.samples import (
    ContractError,
    Item,
    build_split,
    read_item,
    require,
    same_items,
    sample_indices,
)

SPLITS = ("train", "val")
#: The checks :func:`check_dataset` runs, by the name its ``skip`` argument takes.
CHECKS = (
    "registered",
    "samples",
    "layout",
    "validation_deterministic",
    "dataloader_workers",
    "distributed_sampling",
    "bad_paths",
)

__all__ = [
    "CHECKS",
    "ContractError",
    "check_bad_paths",
    "check_dataloader_workers",
    "check_dataset",
    "check_layout",
    "check_recipes",
    "check_registered",
    "check_samples",
    "check_validation_deterministic",
    "described",
]


def _path(data_path: str | Path | None) -> Path | None:
    return Path(data_path) if data_path is not None else None


def check_registered(name: str) -> Dataset:
    """The installed plugins register a dataset ``name`` whose record is consistent."""
    registry = get_registry()
    require(
        name in registry.table(DATASETS),
        name,
        f"not registered; known: {sorted(registry.table(DATASETS))}",
    )
    record = registry.get(DATASETS, name)
    require(isinstance(record, Dataset), name, "the registered record is not a stgcn Dataset")
    require(record.name == name, name, f"the record is named {record.name!r}")
    if record.describe is None:
        require(record.num_class >= 1, name, f"num_class is {record.num_class}")
    else:  # 0: the classes are known only from the data
        require(record.num_class >= 0, name, f"num_class is {record.num_class}")
    require(record.in_channels >= 1, name, f"in_channels is {record.in_channels}")
    require(record.num_person >= 1, name, f"num_person is {record.num_person}")
    require(
        record.coordinates in CONVENTIONS,
        name,
        f"coordinates {record.coordinates!r} is none of {', '.join(sorted(CONVENTIONS))}",
    )
    if record.class_names is not None:
        require(
            len(record.class_names) == record.num_class,
            name,
            f"{len(record.class_names)} class names for {record.num_class} classes",
        )
    check_recipes(record)
    return record


def check_recipes(record: Dataset) -> None:
    """The recipe and every preset name only settings ``stgcn run`` knows, with values
    it takes: found when the plugin is tested, not when a user's training starts."""
    from stgcn.training.config import RunConfig

    for label, recipe in [("recipe", record.recipe)] + [
        (f"preset {preset!r}", values) for preset, values in record.presets.items()
    ]:
        try:
            RunConfig().updated(dict(recipe), label)
        except StgcnError as error:
            raise ContractError(f"dataset {record.name!r}: {error}") from None


def described(
    name: str, data_path: str | Path | None, options: Mapping[str, Any] | None
) -> Dataset:
    """The registered record as its data describes it (``Dataset.describe``),
    checked as the trainer checks it."""
    from stgcn.data.facts import describe
    from stgcn.data.streams import split_options

    record = check_registered(name)
    try:
        return describe(record, _path(data_path), split_options(options)[1])
    except StgcnError as error:
        raise ContractError(f"dataset {name!r}: {first_line(error)}") from None


def check_samples(
    name: str,
    data_path: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    limit: int = 8,
) -> None:
    """Items of both splits are (float32 (in_channels, T, V, num_person), int label in range),
    finite, with V the layout's joint count."""
    record = described(name, data_path, options)
    joints = resolve_layout(record.layout).num_node
    expected = f"(in_channels={record.in_channels}, T, V={joints}, num_person={record.num_person})"
    for split in SPLITS:
        data = build_split(record, split, _path(data_path), options)
        first: tuple[int, ...] | None = None
        for index in sample_indices(len(data), limit):
            where = f"{split}[{index}]"
            x, y = read_item(data, index, name, where)
            require(x.dtype == torch.float32, name, f"{where}: sample dtype is {x.dtype}")
            clip = x[0] if x.ndim == 5 and split == "val" else x  # a clip axis: val only
            require(
                clip.ndim == 4
                and (clip.shape[0], clip.shape[2], clip.shape[3])
                == (record.in_channels, joints, record.num_person)
                and clip.shape[1] >= 1,
                name,
                f"{where}: sample shape is {tuple(x.shape)}, expected {expected}"
                + (" or, for val, (clips, ...) of those" if split == "val" else ""),
            )
            if first is None:
                first = tuple(x.shape)
            require(
                tuple(x.shape) == first,
                name,
                f"{where} has shape {tuple(x.shape)} but {split}[0] {first}: every clip of a "
                "split must have the same shape, because the DataLoader stacks them into "
                "batches; pad or sample the clips to one number of frames",
            )
            require(bool(torch.isfinite(x).all()), name, f"{where}: sample has NaN or inf")
            require(
                0 <= y < record.num_class,
                name,
                f"{where}: label {y} outside [0, {record.num_class})",
            )


def check_layout(
    name: str, data_path: str | Path | None = None, options: Mapping[str, Any] | None = None
) -> None:
    """The layout and strategy build a graph, and the model built from the record takes a
    real sample and answers ``num_class`` scores: the joint count matches the data."""
    from stgcn.model.contract import as_module
    from stgcn.networks.loading import (
        DEFAULT_MODEL,
        model_named,
        network_for_data,
        options_for_data,
    )

    record = described(name, data_path, options)
    try:
        chosen = model_named(DEFAULT_MODEL)
        model = network_for_data(chosen, record, options_for_data(chosen, record, {}, {}))
    except (ValueError, KeyError, StgcnError) as error:
        raise ContractError(f"dataset {name!r}: layout or strategy refused: {error}") from None
    x, _ = read_item(build_split(record, "val", _path(data_path), options), 0, name, "val[0]")
    x = x[0] if x.ndim == 5 else x  # the first clip of an item with a clip axis
    require(
        x.ndim == 4 and x.shape[2] == model.layout.num_node,
        name,
        f"samples have {x.shape[2] if x.ndim == 4 else '?'} joints, "
        f"the {model.layout.name} layout {model.layout.num_node}",
    )
    as_module(model).eval()
    with torch.no_grad():
        scores = model(x.unsqueeze(0))
    require(
        tuple(scores.shape) == (1, record.num_class),
        name,
        f"model output {tuple(scores.shape)}",
    )


def _items(data: Any, indices: Iterable[int], name: str, split: str) -> list[Item]:
    return [read_item(data, index, name, f"{split}[{index}]") for index in indices]


def check_validation_deterministic(
    name: str,
    data_path: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    limit: int = 8,
) -> None:
    """Building the validation split twice gives the same samples in the same order, and
    reading an item twice gives the same tensor: evaluations compare across epochs and runs."""
    record = check_registered(name)
    first = build_split(record, "val", _path(data_path), options)
    second = build_split(record, "val", _path(data_path), options)
    require(len(first) == len(second), name, f"val has {len(first)} then {len(second)} samples")
    indices = sample_indices(len(first), limit)
    once = _items(first, indices, name, "val")
    require(
        same_items(once, _items(second, indices, name, "val")), name, "val differs between builds"
    )
    require(
        same_items(once, _items(first, indices, name, "val")),
        name,
        "val items differ when read again",
    )


def check_dataloader_workers(
    name: str,
    data_path: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    limit: int = 8,
    workers: int = 2,
) -> None:
    """Both splits load through DataLoader worker processes started by ``spawn`` (so the
    dataset is pickled, as under spawn or forkserver elsewhere): training labels and
    validation samples arrive as read in this process."""
    record = check_registered(name)
    train = build_split(record, "train", _path(data_path), options)
    val = build_split(record, "val", _path(data_path), options)
    train_indices = sample_indices(len(train), limit)
    val_indices = sample_indices(len(val), limit)
    expected_train = [y for _, y in _items(train, train_indices, name, "train")]
    expected_val = _items(val, val_indices, name, "val")
    both: ConcatDataset[Any] = ConcatDataset(
        [Subset(train, train_indices), Subset(val, val_indices)]
    )
    loader = DataLoader(both, batch_size=None, num_workers=workers, multiprocessing_context="spawn")
    try:
        received = list(loader)
    except Exception as error:  # a worker's failure comes back wrapped: keep its message
        raise ContractError(
            f"dataset {name!r}: loading in DataLoader worker processes failed: "
            f"{type(error).__name__}: {first_line(error)}"
        ) from None
    require(len(received) == len(both), name, f"workers gave {len(received)} of {len(both)} items")
    labels = [int(y) for _, y in received]
    require(
        labels[: len(train_indices)] == expected_train,
        name,
        "training labels differ when read in worker processes",
    )
    val_received = [(x, int(y)) for x, y in received[len(train_indices) :]]
    require(
        same_items(val_received, expected_val),
        name,
        "validation samples differ when read in worker processes",
    )


def check_bad_paths(name: str, options: Mapping[str, Any] | None = None) -> None:
    """A missing path, an empty folder and an empty file are refused with a one-line
    StgcnError (which the ``stgcn`` command prints as one error line), never another
    exception: a dataset reads a folder or a file, and neither kind of reader may take
    the other kind of path, or an empty one, as data."""
    record = check_registered(name)
    if not record.needs_data_path:
        return
    with tempfile.TemporaryDirectory(prefix="stgcn-contract-") as folder:
        empty = Path(folder) / "empty"
        empty.mkdir()
        empty_file = Path(folder) / "empty.dat"
        empty_file.touch()
        for label, path in (
            ("a missing path", Path(folder) / "missing"),
            ("an empty folder", empty),
            ("an empty file", empty_file),
        ):
            try:
                record.build(BuildRequest("train", path, dict(options or {}), training=True))
            except StgcnError as error:
                message = str(error).strip()
                require(bool(message), name, f"{label}: the StgcnError has no message")
                require(
                    "\n" not in message, name, f"{label}: the error is not one line: {message!r}"
                )
                continue
            except Exception as error:
                raise ContractError(
                    f"dataset {name!r}: {label} raised {type(error).__name__} ({error}); "
                    "raise stgcn.errors.StgcnError for what the user can fix"
                ) from None
            raise ContractError(f"dataset {name!r}: {label} was accepted: {path}")


def check_dataset(
    name: str,
    data_path: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    limit: int = 8,
    skip: Iterable[str] = (),
) -> None:
    """Every check of the contract, in order; ``skip`` names checks to leave out."""
    from stgcn.testing.distributed_checks import check_distributed_sampling

    left_out = set(skip)
    unknown = left_out - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
    runs = {
        "registered": lambda: check_registered(name),
        "samples": lambda: check_samples(name, data_path, options, limit=limit),
        "layout": lambda: check_layout(name, data_path, options),
        "validation_deterministic": lambda: check_validation_deterministic(
            name, data_path, options, limit=limit
        ),
        "dataloader_workers": lambda: check_dataloader_workers(
            name, data_path, options, limit=limit
        ),
        "distributed_sampling": lambda: check_distributed_sampling(name, data_path, options),
        "bad_paths": lambda: check_bad_paths(name, options),
    }
    for check in CHECKS:
        if check not in left_out:
            runs[check]()
