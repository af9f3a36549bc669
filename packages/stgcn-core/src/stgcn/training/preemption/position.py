"""Where an epoch stands, and the parts that let a resumed run repeat the rest of it.

Three things make a resume from the middle of an epoch exact:

- the epoch's sample order is computed from ``(seed, epoch)`` alone
  (:func:`epoch_order`), so the resumed run knows which samples are left and skips
  the batches already trained on without reading them (:class:`OrderSampler`);
- each sample's augmentation is drawn from generators seeded by
  ``(seed, epoch, index)`` (:class:`SeededSamples`), not from a worker's running
  state, which depends on how many batches that worker has produced;
- the step checkpoint holds the epoch's partial sums and every rank's generators
  as they stood (:class:`EpochPosition`), which is what dropout draws from.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import Sampler

from stgcn.training.distributed import World, train_sampler

_MASK = 2**64 - 1


def _mix(value: int) -> int:
    """splitmix64's finaliser: nearby inputs give unrelated outputs."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's augmentation in one epoch (32 bits, numpy's limit)."""
    return _mix(_mix(_mix(seed & _MASK) ^ epoch) ^ index) % 2**32


def epoch_order(
    size: int, rank: int, world_size: int, seed: int, epoch: int, drop_last: bool
) -> list[int]:
    """This rank's training indices for ``epoch``, in the order they are trained on.

    One card shuffles with a generator seeded from ``(seed, epoch)``; several share
    the set as DistributedSampler does (each a disjoint share, reshuffled per epoch).
    """
    if world_size > 1:
        world = World(rank=rank, local_rank=rank, size=world_size, local_size=world_size)
        sampler = train_sampler(range(size), world, seed, drop_last)
        sampler.set_epoch(epoch)
        return list(sampler)
    generator = torch.Generator().manual_seed(seed * 7919 + epoch)
    return torch.randperm(size, generator=generator).tolist()


class OrderSampler(Sampler[int]):
    """The given indices, in the given order: an epoch's order from a position on."""

    def __init__(self, indices: Sequence[int]) -> None:
        self.indices = list(indices)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class Split(Protocol):
    """A map-style dataset: what :class:`SeededSamples` wraps."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class SeededSamples(torch.utils.data.Dataset[Any]):
    """A training split whose every sample draws its augmentation from generators
    seeded by ``(seed, epoch, index)``.

    The caller's generators are put back after each sample, so that reading data
    leaves the main process's draws (dropout) as they were, with or without workers.
    As a consequence a run's augmentation no longer depends on ``--workers``.
    """

    def __init__(self, inner: Split, seed: int) -> None:
        self.inner = inner
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> Any:
        value = sample_seed(self.seed, self.epoch, int(index))
        saved = random.getstate(), np.random.get_state(), torch.default_generator.get_state()
        random.seed(value)
        np.random.seed(value)
        torch.default_generator.manual_seed(value)
        try:
            return self.inner[index]
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.default_generator.set_state(saved[2])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "inner":  # also while being unpickled
            raise AttributeError(name)
        return getattr(self.inner, name)


@dataclass
class EpochPosition:
    """How far into epoch ``epoch`` (0-based) a step checkpoint was written.

    ``step`` counts each rank's batches; ``loss_sum`` and ``samples`` are the epoch's
    partial sums over every rank; ``rng`` holds each rank's generators, rank order.
    """

    epoch: int
    step: int
    steps: int
    loss_sum: float
    samples: int
    seconds: float
    world_size: int
    batch_size: int
    rng: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "step": self.step,
            "steps": self.steps,
            "loss_sum": self.loss_sum,
            "samples": self.samples,
            "seconds": self.seconds,
            "world_size": self.world_size,
            "batch_size": self.batch_size,
            "rng": self.rng,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EpochPosition:
        return cls(
            epoch=int(values["epoch"]),
            step=int(values["step"]),
            steps=int(values["steps"]),
            loss_sum=float(values["loss_sum"]),
            samples=int(values["samples"]),
            seconds=float(values["seconds"]),
            world_size=int(values["world_size"]),
            batch_size=int(values["batch_size"]),
            rng=list(values.get("rng", [])),
        )

    def exact_for(self, world_size: int, batch_size: int) -> bool:
        """Whether a run of this shape can continue exactly where this one stopped."""
        return world_size == self.world_size and batch_size == self.batch_size

    def step_for(self, world_size: int, batch_size: int) -> int:
        """The step to continue from: this one, or for a different number of cards the
        one at which as many samples have been seen (close, no longer exact)."""
        if self.exact_for(world_size, batch_size):
            return self.step
        return min(self.samples // (world_size * batch_size), self.steps)
