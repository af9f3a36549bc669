"""Training time and throughput of one epoch, without the time spent writing checkpoints."""

from __future__ import annotations

import time


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
