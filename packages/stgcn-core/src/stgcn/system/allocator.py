"""Keep freed memory in the process for the next training step.

glibc's malloc hands blocks above its mmap threshold (at most 32 MiB) straight back to
the kernel when they are freed, and a training step frees nearly all its activations. So
every step maps its largest tensors afresh and the kernel zeroes them page by page: on a
2-core VM that made the graph convolution's 1x1 products 2-4x slower than the same
products on reused memory, and a whole step about 1.25x slower. Serving every block from
the heap and never trimming it keeps the pages mapped; the cost is that the process holds
on to its peak footprint (which a training run reaches every step anyway).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

# mallopt parameters, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_TOP_PAD_BYTES = 64 << 20  # grow the heap in large steps: fewer brk calls


def _glibc() -> Any | None:
    """The process's C library where it has glibc's malloc controls, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Make malloc keep freed memory; returns whether it took effect.

    Elsewhere than glibc (macOS, Windows, musl) nothing changes and the result is False.
    """
    libc = _glibc()
    if libc is None:
        return False
    # a trim threshold of -1 switches trimming off altogether (mallopt(3))
    settings = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1), (_M_TOP_PAD, _TOP_PAD_BYTES))
    return all(libc.mallopt(param, value) == 1 for param, value in settings)


def release_freed_memory() -> None:
    """Hand what the heap holds unused back to the kernel now, so that the next stretch
    of work starts, and is measured, from its own footprint."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
