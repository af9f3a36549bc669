"""The cores this process may run on."""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on: its affinity mask where the platform has one
    (``taskset`` and container CPU sets narrow it), else every core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
