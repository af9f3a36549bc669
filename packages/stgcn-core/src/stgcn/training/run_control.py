"""What may end or checkpoint an epoch between two steps, agreed by every rank."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from stgcn.training.loop_parts import DeviceLossSum, StepClock, restore_generators
from stgcn.training.preemption.agreement import Agreement
from stgcn.training.preemption.position import EpochPosition
from stgcn.training.preemption.schedule import CheckpointEvery
from stgcn.training.preemption.signals import Preempted, StopSignals
from stgcn.training.work_dir import LATEST

if TYPE_CHECKING:
    from stgcn.training.session import Session


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

    def epoch_start(
        self, epoch: int, session: Session, device: torch.device
    ) -> tuple[int, StepClock, DeviceLossSum]:
        """The step ``epoch`` starts at, its clock and its loss sum: fresh, or as the step
        checkpoint of a resume left them (with this rank's generators, where exact)."""
        start = self.start_in(epoch)
        if start is None:
            return 0, StepClock(), DeviceLossSum(device, epoch)
        world, batch_size = session.world, session.config.batch_size
        first = start.step_for(world.size, batch_size)
        exact = start.exact_for(world.size, batch_size)
        if not exact and world.is_main:
            print(  # a warning: on stderr, and also under --quiet
                f"stgcn: warning: the step checkpoint was written by {start.world_size} card(s) "
                f"at batch {start.batch_size}; going on from step {first} of epoch {epoch + 1}, "
                "which is close to but not exactly the interrupted run",
                file=sys.stderr,
            )
        if exact:
            restore_generators(start.rng[world.rank], session.backend, device)
        # the epoch's partial sums over every rank, counted once (by rank 0)
        samples, loss_sum = (start.samples, start.loss_sum) if world.is_main else (0, 0.0)
        return first, StepClock(start.seconds, samples), DeviceLossSum(device, epoch, loss_sum)

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
