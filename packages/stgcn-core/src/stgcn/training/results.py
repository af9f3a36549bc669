"""What training hands back: a run's :class:`TrainResult`, an epoch's
:class:`EpochTotals` on one rank, and the :class:`EpochPlace` of a step checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns: the last epoch's metrics, the best validation top-1,
    and where the run is (``stgcn run`` prints the last two)."""

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
