"""malloc keeping freed memory (stgcn.system.allocator), observed as resident memory.

Each case runs in its own interpreter: the setting is process-wide and cannot be undone,
and the pytest process should keep glibc's defaults.
"""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the malloc controls are glibc's",
)

MEASURE = """
import os, sys
import torch
from stgcn.system.allocator import keep_freed_memory, release_freed_memory

def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = resident_mib()
block = torch.ones(64 << 20)  # 256 MiB, every page touched
del block
kept = resident_mib() - before
release_freed_memory()
print(round(kept), round(resident_mib() - before))
"""


def kept_and_after_release(mode: str) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, mode], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    kept, released = result.stdout.split()
    return int(kept), int(released)


def test_by_default_a_freed_large_block_goes_back_to_the_kernel() -> None:
    kept, _ = kept_and_after_release("default")
    assert kept < 64


def test_kept_freed_memory_stays_resident_until_released() -> None:
    kept, released = kept_and_after_release("keep")
    assert kept > 200
    assert released < 64
