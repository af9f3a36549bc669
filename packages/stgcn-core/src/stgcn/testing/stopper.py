"""A run logger for tests of stopping and resuming: at a chosen step it sends a signal to
its own process or to the one that started it, as a scheduler preempting a job would.

A test's plugin registers it (``register(Logger(name="stopper", create=lambda context:
Stopper()))``) and sets ``STGCN_TEST_STOP=STEP:SIGNAL:TARGET`` for the run,
``TARGET`` being ``self`` or ``parent`` (``3:SIGTERM:self`` by rank 0 at step 3, say).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the variable that says when, how and whom to stop
STOP_VARIABLE = "STGCN_TEST_STOP"


class Stopper:
    """At step STEP, sends SIGNAL to this process (``self``) or its parent (``parent``)."""

    def __init__(self) -> None:
        step, name, target = os.environ.get(STOP_VARIABLE, "0:SIGTERM:self").split(":")
        self.at, self.signal, self.target = int(step), getattr(signal, name), target

    def run_started(self, config: Mapping[str, Any]) -> None:
        pass

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        pass

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None:
        pass

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        pass

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        if step == self.at:
            os.kill(os.getpid() if self.target == "self" else os.getppid(), self.signal)
