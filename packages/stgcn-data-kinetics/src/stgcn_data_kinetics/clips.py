"""The torch dataset both storage formats share: read a clip, check it, augment it.

Where the clips come from (memory-mapped arrays, or JSON files of a release tree) is a
:class:`ClipSource`; what is done to a clip on its way to the model is the same for
both: a clip with a non-finite value is refused with its file and index, training
clips get the augmentations of the options, and evaluation clips are returned whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from stgcn.errors import StgcnError
from stgcn_data_kinetics import augment
from stgcn_data_kinetics.options import KineticsOptions


class ClipSource(Protocol):
    """Random access to the unaugmented clips of a split, float32 ``(C, T, V, M)``."""

    #: the file (or folder) the clips come from, for error messages
    name: str

    def __len__(self) -> int: ...

    def read(self, index: int) -> np.ndarray: ...


def item_generator() -> np.random.Generator:
    """A numpy generator seeded from torch's, so that ``--seed`` reproduces the draws
    (in the main process and in DataLoader workers, which torch seeds per worker)."""
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))


def training_sample(
    data: np.ndarray, options: KineticsOptions, rng: np.random.Generator
) -> np.ndarray:
    """The reference's order: shift, then choose a window (or pad to it), then move."""
    if options.random_shift:
        data = augment.random_shift(data, rng)
    if options.random_choose:
        data = augment.random_choose(data, options.window, rng)
    else:
        data = augment.pad_to(data, options.window)
    if options.random_move:
        data = augment.random_move(data, rng)
    return data


class KineticsClips(TorchDataset[tuple[torch.Tensor, int]]):
    """Items ``(float32 tensor (3, T, 18, 2), label)``; augmented when ``train`` is true."""

    def __init__(
        self,
        source: ClipSource,
        labels: np.ndarray,
        options: KineticsOptions,
        train: bool,
        class_names: Sequence[str],
        sample_names: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.labels = labels
        self.options = options
        self.train = train
        self.class_names = tuple(class_names)
        self.sample_names = list(sample_names)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        data = self.source.read(index)
        if not np.isfinite(data).all():
            raise StgcnError(f"{self.source.name}: sample {index} holds non-finite values")
        if self.train:
            data = training_sample(data, self.options, item_generator())
        return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)), int(
            self.labels[index]
        )
