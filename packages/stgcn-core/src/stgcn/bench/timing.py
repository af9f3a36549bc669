"""One model's steps under the bench's clock: warm-up, memory figures, a synchronised step.

The bench's own models and the reference process (:mod:`stgcn.bench.reference`) time
their steps through the same :class:`TimedStep`, so that both sides of a ratio are
measured alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from stgcn.system.allocator import release_freed_memory
from stgcn.system.memory import DeviceMemory, PeakRSS


@dataclass
class TimedStep:
    """A model's step under the harness, and how to wait for its device."""

    step: Callable[[], Any]
    synchronize: Callable[[], None]
    device: torch.device
    #: the process's RSS as the warm-up began (after freed memory was given back), set by
    #: :meth:`warm_up`: the peak less this is what the steps themselves held
    rss_start_mib: float | None = None

    def warm_up(self, warmup: int) -> tuple[float | None, float | None]:
        """The warm-up steps, then one more for the memory figures: the peak RSS of the
        stretch, and the device memory of the steady-state step (cuDNN's autotuning
        tries algorithms with large workspaces on the first steps of a new shape)."""
        memory = DeviceMemory(self.device)
        # with malloc keeping freed memory (the cpu backend's reuse_memory), what the
        # model before left would otherwise count in this one's peak RSS
        release_freed_memory()
        with PeakRSS() as rss:
            for _ in range(warmup):
                self.seconds()
            memory.reset()
            self.seconds()
        self.rss_start_mib = rss.start_mib
        return rss.peak_mib, memory.peak_mib()

    def seconds(self) -> float:
        self.synchronize()
        start = time.perf_counter()
        self.step()
        self.synchronize()
        return time.perf_counter() - start


class Stepper(Protocol):
    """What the bench needs of a model: in this process (:class:`TimedStep`) or in the
    reference's own (:class:`stgcn.bench.reference.ReferenceProcess`)."""

    def warm_up(self, warmup: int) -> tuple[float | None, float | None]: ...

    def seconds(self) -> float: ...
