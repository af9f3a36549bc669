"""SIGTERM and SIGUSR1 as requests to stop at the next step boundary.

Slurm sends SIGTERM at preemption and at the time limit (and SIGUSR1 ahead of it
with ``--signal=USR1@SECONDS``); torch's elastic agent sends SIGTERM to the
workers it stops. Killing the process there loses the epoch in progress, so the
handler only records the signal: the loop finishes its step, writes a checkpoint
and ends with :data:`EXIT_PREEMPTED`.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from stgcn.errors import StgcnError

#: the exit status of a run stopped by a signal after saving: EX_TEMPFAIL of
#: sysexits.h, "try again later", which is what a requeued or restarted job does
EXIT_PREEMPTED = 75

#: what a restarted job sets: Slurm after a requeue, torch's agent after a restart
RESTART_VARIABLES = ("SLURM_RESTART_COUNT", "TORCHELASTIC_RESTART_COUNT")


def stop_signals() -> list[signal.Signals]:
    return [signal.SIGTERM, *([signal.SIGUSR1] if hasattr(signal, "SIGUSR1") else [])]


def restarted() -> bool:
    """True in a job that Slurm requeued or torch's elastic agent restarted: such a job
    continues its work dir rather than refusing it."""
    for name in RESTART_VARIABLES:
        try:
            if int(os.environ.get(name, "0")) > 0:
                return True
        except ValueError:
            continue
    return False


class Preempted(StgcnError):
    """The run stopped at a signal's request, its state saved: ``stgcn run --resume``
    continues it exactly."""

    exit_code = EXIT_PREEMPTED


class StopSignals:
    """While active, SIGTERM and SIGUSR1 set :attr:`received` instead of ending the process.

    A second SIGTERM while the first is being honoured still only waits for the
    checkpoint: the elastic agent and Slurm both follow up with SIGKILL if the
    process takes too long, and that needs no help from here. Outside the main
    thread (a run started from a thread) no handler can be installed; the run is then
    as interruptible as before.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in stop_signals():
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    @property
    def name(self) -> str:
        return self.received.name if self.received is not None else ""
