"""Clips read straight from a release tree, converted as they are read.

Convenient for small sets (a few hundred clips, a subset for a test): no conversion
step and no extra disk. Each item parses its JSON file, which costs far more than a
row of a memory-mapped array, so large sets are better converted once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError
from stgcn_data_kinetics.clip import ClipError, ClipShape, read_clip


class ReleaseClips:
    """The clip files of one split, each converted on reading with ``shape``."""

    def __init__(self, paths: list[Path], labels: list[int], shape: ClipShape, name: str) -> None:
        self.paths = paths
        self.expected = labels
        self.shape = shape
        self.name = name

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, index: int) -> np.ndarray:
        path = self.paths[index]
        try:
            clip = read_clip(path, self.shape)
        except ClipError as error:
            raise StgcnError(f"{error} (sample {index})") from None
        if clip.label_index is not None and clip.label_index != self.expected[index]:
            raise StgcnError(
                f"{path}: label_index {clip.label_index} differs from "
                f"{self.expected[index]} in the label file (sample {index})"
            )
        return clip.data
