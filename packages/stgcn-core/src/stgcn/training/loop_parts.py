"""The trainer's parts beside the step (:mod:`stgcn.training.step`, which the bench shares):
what one epoch counts while it runs, and what training hands back.

- :class:`StepClock`: the epoch's training time and throughput, without the time spent
  writing checkpoints;
- :class:`DeviceLossSum`: the epoch's loss, summed on the device so that the loop never
  waits for it;
- :func:`rank_generators` / :func:`restore_generators`: a rank's random generators for a
  checkpoint, the host's (Python, numpy, torch) and the device's own where it has one
  (an npu's or a cuda card's dropout draws from it);
- :class:`TrainResult`, :class:`EpochTotals`, :class:`EpochPlace`: a run's result, an
  epoch's totals on one rank, and where a step checkpoint is taken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stgcn.errors import StgcnError
from stgcn.model import checkpoint as ckpt
from stgcn.plugins.records import RunBackend


class StepClock:
    """Seconds and samples of the epoch so far (from a step checkpoint's figures on a
    resume), and of this process alone (``fresh``), for the samples-per-second shown.

    :meth:`lap` ends a step's time; :meth:`restart` begins the next one, so whatever
    happens between the two (a checkpoint's writing) is not counted as training.
    """

    def __init__(self, seconds: float = 0.0, samples: int = 0) -> None:
        self.seconds = seconds
        self.samples = samples
        self.fresh_seconds = 0.0
        self.fresh_samples = 0
        self._tick = time.perf_counter()

    def lap(self, count: int) -> None:
        """A step of ``count`` samples has ended."""
        now = time.perf_counter()
        self.seconds += now - self._tick
        self.fresh_seconds += now - self._tick
        self._tick = now
        self.samples += count
        self.fresh_samples += count

    def restart(self) -> None:
        """The next step's time starts now."""
        self._tick = time.perf_counter()

    def samples_per_second(self, world_size: int) -> float:
        """Every rank's throughput since this process started the epoch."""
        return self.fresh_samples * world_size / max(self.fresh_seconds, 1e-9)


class DeviceLossSum:
    """The epoch's summed loss and its first non-finite loss, kept on the device.

    Reading them (:meth:`read_total`) is the one host synchronisation of the loop, done
    every ``log_every`` steps, before a step checkpoint and at the end of the epoch.
    """

    def __init__(self, device: torch.device, epoch: int, start_sum: float = 0.0) -> None:
        # float64 where the device has it cheaply; accelerators sum in float32
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        self.epoch = epoch
        self.total = torch.full((), start_sum, dtype=dtype, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)
        self.bad_value = torch.zeros((), dtype=torch.float32, device=device)
        self.overflowed = torch.zeros((), dtype=torch.bool, device=device)

    def add(
        self, loss: torch.Tensor, count: int, step: int, overflow: torch.Tensor | None = None
    ) -> None:
        """Add a batch's mean ``loss`` over ``count`` samples; remember ``step`` if it is
        the first non-finite one, or the first whose update ``overflow`` (a device flag
        from the precision part) marks. Nothing here waits for the device."""
        value = loss.float()
        self.total += value.to(self.total.dtype) * count
        bad = ~torch.isfinite(value)
        if overflow is not None:
            bad = bad | overflow
        newly_bad = bad & (self.first_bad < 0)
        self.first_bad = torch.where(newly_bad, step, self.first_bad)
        self.bad_value = torch.where(newly_bad, value, self.bad_value)
        if overflow is not None:
            self.overflowed = torch.where(newly_bad, overflow, self.overflowed)

    def read_total(self) -> float:
        """The summed loss on the host; a non-finite loss so far ends the run in one line."""
        step = int(self.first_bad.item())
        if step >= 0 and bool(self.overflowed.item()):
            raise StgcnError(
                f"the update overflowed at epoch {self.epoch + 1}, step {step} (the device's "
                "overflow status; the loss was still finite); lower --lr or the loss scale"
            )
        if step >= 0:
            raise StgcnError(
                f"the loss became {self.bad_value.item()} at epoch {self.epoch + 1}, step {step}; "
                "check the data for non-finite values or lower --lr"
            )
        return float(self.total.item())


def rank_generators(backend: RunBackend, device: torch.device) -> dict[str, Any]:
    """This rank's generators: the host's, and the device's under "device" with its type."""
    state = ckpt.rng_state()
    device_state = backend.rng_state()
    if device_state is not None:
        state["device"] = {"type": device.type, "state": device_state}
    return state


def restore_generators(state: dict[str, Any], backend: RunBackend, device: torch.device) -> None:
    """Restore what :func:`rank_generators` gave; a checkpoint from before the device's
    generator was kept, or from another kind of device, leaves that generator as is."""
    ckpt.set_rng_state(state)
    saved = state.get("device")
    if isinstance(saved, dict) and saved.get("type") == device.type:
        backend.set_rng_state(saved["state"])


@dataclass(frozen=True)
class TrainResult:
    """What :func:`stgcn.training.trainer.train` returns: the last epoch's metrics, the
    best validation top-1, and where the run is (``stgcn run`` prints the last two)."""

    #: the last epoch's line of metrics.jsonl (empty when no epoch was left to train)
    last: dict[str, Any]
    best_top1: float
    work_dir: Path

    def to_dict(self) -> dict[str, Any]:
        """The summary the loggers' ``run_ended`` gets: the last metrics, best_top1, work_dir."""
        return {**self.last, "best_top1": self.best_top1, "work_dir": str(self.work_dir)}


@dataclass(frozen=True)
class EpochTotals:
    """This rank's share of an epoch: its summed loss, samples, training seconds, steps."""

    loss_sum: float
    samples: int
    seconds: float
    steps: int


@dataclass(frozen=True)
class EpochPlace:
    """Where a step checkpoint is taken: after ``step`` of ``steps`` in ``epoch``."""

    epoch: int
    step: int
    steps: int
