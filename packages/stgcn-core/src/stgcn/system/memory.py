"""Peak memory of one stretch of work: resident set size and device memory.

The kernel's peak RSS (``VmHWM``) only ever grows, so two settings timed one after the
other in the same process would both report the larger. Linux lets a process reset it
(writing ``5`` to ``/proc/self/clear_refs``); where that is refused the figure is the
process's peak so far, and says so through ``rss_reset``.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from types import TracebackType

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _high_water_mib() -> float:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _resident_mib() -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _reset_high_water() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """``with PeakRSS() as rss: ...`` then ``rss.peak_mib``: the peak RSS inside the block,
    the whole process's (the interpreter, torch, the model, its input); ``rss.start_mib``
    is the RSS as the block began, so ``peak_mib - start_mib`` is what the block itself
    added at its peak (None where ``/proc`` does not say)."""

    def __init__(self) -> None:
        self.peak_mib: float | None = None
        self.start_mib: float | None = None
        self.rss_reset = False

    def __enter__(self) -> PeakRSS:
        self.rss_reset = _reset_high_water()
        start = _resident_mib()
        self.start_mib = round(start, 1) if start is not None else None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.peak_mib = round(_high_water_mib(), 1)


class DeviceMemory:
    """Peak memory allocated by torch on an accelerator (``None`` on the CPU).

    Works for any device whose torch module (``torch.cuda``, ``torch.npu``) has the
    usual ``reset_peak_memory_stats`` and ``max_memory_allocated``.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        module = getattr(torch, device.type, None) if device.type != "cpu" else None
        has = module is not None and hasattr(module, "max_memory_allocated")
        self.module = module if has else None

    def reset(self) -> None:
        if self.module is not None:
            self.module.reset_peak_memory_stats(self.device)

    def peak_mib(self) -> float | None:
        if self.module is None:
            return None
        return round(self.module.max_memory_allocated(self.device) / 2**20, 1)
