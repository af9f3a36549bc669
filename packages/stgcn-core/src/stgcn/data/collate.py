"""Stacking a split's items into batches, with the rule it needs said in the error.

A DataLoader stacks the clips of a batch into one tensor, so every clip of a split
must have the same shape (channels, frames, joints, persons, and clips where the
validation items carry a clip axis). torch's own message for a clip that does not
("stack expects each tensor to be equal size") names neither the dataset nor the
rule; this one does.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import default_collate

from stgcn.errors import StgcnError


class StackClips:
    """``default_collate`` for the items of dataset ``name``; clips of different shapes
    are one StgcnError line (picklable, for DataLoader worker processes)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, items: list[Any]) -> Any:
        shapes = {
            tuple(item[0].shape)
            for item in items
            if isinstance(item, tuple | list) and item and isinstance(item[0], torch.Tensor)
        }
        if len(shapes) > 1:
            listed = ", ".join(str(shape) for shape in sorted(shapes)[:3])
            raise StgcnError(
                f"dataset {self.name!r} gave clips of different shapes in one batch ({listed}): "
                "every clip of a split must have the same shape; pad or sample each to a fixed "
                "number of frames (the clip_len or window data options, where the dataset has one)"
            )
        return default_collate(items)
