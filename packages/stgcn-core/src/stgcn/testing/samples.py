"""Reading a few items of a split and comparing them, for the contract checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from stgcn.plugins.records import BuildRequest, Dataset

Item = tuple[torch.Tensor, int]


class ContractError(AssertionError):
    """A dataset plugin breaks the contract that stgcn's trainer relies on."""


def require(condition: bool, dataset: str, message: str) -> None:
    if not condition:
        raise ContractError(f"dataset {dataset!r}: {message}")


def build_split(
    record: Dataset, split: str, data_path: Path | None, options: Mapping[str, Any] | None
) -> Any:
    request = BuildRequest(split, data_path, dict(options or {}), training=split == "train")
    data = record.build(request)
    sized = isinstance(data, Sized)
    require(sized, record.name, f"build({split!r}) returned no sized dataset")
    require(len(cast(Sized, data)) > 0, record.name, f"build({split!r}) returned an empty split")
    return data


def sample_indices(length: int, limit: int) -> list[int]:
    """The first ``limit`` indices and the last one: enough to catch off-by-one ends."""
    indices = list(range(min(length, limit)))
    if length - 1 not in indices:
        indices.append(length - 1)
    return indices


def label_value(label: Any, dataset: str, where: str) -> int:
    """The label as a Python int; a float or bool label is refused (cross-entropy needs ints)."""
    if isinstance(label, torch.Tensor):
        require(
            label.numel() == 1, dataset, f"{where}: label tensor has shape {tuple(label.shape)}"
        )
        require(not label.is_floating_point(), dataset, f"{where}: label is {label.dtype}")
        return int(label.item())
    require(
        isinstance(label, int | np.integer) and not isinstance(label, bool | np.bool_),
        dataset,
        f"{where}: label {label!r} is a {type(label).__name__}, not an int",
    )
    return int(label)


def read_item(data: Any, index: int, dataset: str, where: str) -> Item:
    item = data[index]
    require(
        isinstance(item, tuple | list) and len(item) == 2,
        dataset,
        f"{where}: an item must be a pair (tensor, label), got {type(item).__name__}",
    )
    x, y = item
    require(isinstance(x, torch.Tensor), dataset, f"{where}: sample is {type(x).__name__}")
    return x, label_value(y, dataset, where)


def same_items(first: Sequence[Item], second: Sequence[Item]) -> bool:
    return len(first) == len(second) and all(
        a[1] == b[1] and a[0].shape == b[0].shape and torch.equal(a[0], b[0])
        for a, b in zip(first, second, strict=True)
    )
