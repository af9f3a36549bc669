"""What may end or checkpoint an epoch between two steps, agreed by every rank."""

from __future__ import annotations

import time
from pathlib import Path

from stgcn.training.preemption.agreement import Agreement
from stgcn.training.preemption.position import EpochPosition
from stgcn.training.preemption.schedule import CheckpointEvery
from stgcn.training.preemption.signals import Preempted, StopSignals
from stgcn.training.work_dir import LATEST


class StopOrCheckpoint:
    """Decides after each step whether to stop (a SIGTERM/SIGUSR1 arrived on some rank)
    and whether a step checkpoint is due (``--checkpoint-every``); knows, on a resume
    from a step checkpoint, the position the run starts from.

    Every rank asks at the same step and gets the same answer (:class:`Agreement`), so
    no rank waits in a collective that another has left.
    """

    def __init__(
        self,
        work_dir: Path,
        checkpoint_every: str | None,
        agreement: Agreement,
        start: EpochPosition | None,
    ) -> None:
        self.work_dir = work_dir
        self.agreement = agreement
        self.signals = StopSignals()
        self.schedule = CheckpointEvery.parse(checkpoint_every)
        self.start = start
        self.last_checkpoint = time.monotonic()

    def start_in(self, epoch: int) -> EpochPosition | None:
        """The step checkpoint's position where the run resumes inside ``epoch``."""
        return self.start if self.start is not None and self.start.epoch == epoch else None

    def after_step(self, global_step: int) -> tuple[bool, bool]:
        """(stop, checkpoint) after ``global_step``, agreed by every rank."""
        due = self.schedule.due(global_step, time.monotonic() - self.last_checkpoint)
        return self.agreement.decide(self.signals.received is not None, due)

    def stop_requested(self) -> bool:
        """Whether any rank was told to stop (asked at the end of an epoch)."""
        return self.agreement.decide(self.signals.received is not None, False)[0]

    def checkpointed(self) -> None:
        """A checkpoint was just written: ``--checkpoint-every`` SECONDS counts from now."""
        self.last_checkpoint = time.monotonic()

    def stopped(self, where: str) -> Preempted:
        """The error that ends a stopped run, saying where and how to go on."""
        why = self.signals.name or "a signal to another rank"
        return Preempted(
            f"stopped by {why} {where}; saved {self.work_dir / 'checkpoints' / LATEST}; "
            f"continue with: stgcn run --resume --work-dir {self.work_dir}"
        )
