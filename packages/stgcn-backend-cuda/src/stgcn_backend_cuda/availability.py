"""Can this host train on NVIDIA GPUs, and if not, what would fix it?

Four different things stand in the way, each with its own remedy, so each gets its
own reason: a torch built without CUDA (reinstall torch), a ROCm build (this backend
is for NVIDIA), no NVIDIA driver (install it), and a driver that shows no GPU (a
too-old driver, ``CUDA_VISIBLE_DEVICES``, a container without the devices).

The check must stay cheap and must not create a CUDA context, because it runs for
every ``stgcn plugins`` and before a launcher starts its workers. Reading torch's
build flags, loading the driver library and ``torch.cuda.device_count()`` (answered
through NVML where it can be) do neither.
"""

from __future__ import annotations

import ctypes
import os
import sys
import warnings

import torch

from stgcn.errors import first_line
from stgcn.records import Availability

#: The CUDA driver library, as the NVIDIA driver installs it.
DRIVER_LIBRARY = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
INDEX_URL = "https://download.pytorch.org/whl/cu128"


def cpu_only_reason(torch_version: str) -> str:
    release = torch_version.split("+", 1)[0]
    return (
        f"torch {torch_version} was built without CUDA; install a CUDA build of torch, "
        f"e.g. pip install torch=={release} --index-url {INDEX_URL} "
        "(pytorch.org/get-started lists the CUDA versions)"
    )


def driver_error() -> str | None:
    """Why the NVIDIA driver library cannot be loaded, or None when it loads."""
    try:
        ctypes.CDLL(DRIVER_LIBRARY)
    except OSError as error:
        return first_line(error)
    return None


def no_gpu_reason(torch_warnings: list[str]) -> str:
    """The driver loads, yet torch counts no GPU: say what torch said, and what hides them."""
    said = [text for text in torch_warnings if "CUDA initialization" in text]
    if said:
        reason = f"the NVIDIA driver cannot start CUDA: {said[0]}"
    else:
        reason = "the NVIDIA driver is installed but shows no GPU"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        reason += f" (CUDA_VISIBLE_DEVICES={visible!r})"
    return reason


def probe() -> Availability:
    """Whether a GPU is usable here, with the reason and remedy when it is not."""
    if getattr(torch.version, "hip", None):
        return Availability(
            False,
            f"torch {torch.__version__} is a ROCm (AMD) build; the cuda backend needs "
            "a CUDA build of torch and an NVIDIA GPU",
        )
    if not torch.backends.cuda.is_built():
        return Availability(False, cpu_only_reason(torch.__version__))
    problem = driver_error()
    if problem is not None:
        return Availability(False, f"no NVIDIA driver found ({problem}); install the NVIDIA driver")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        count = torch.cuda.device_count()
    if count > 0:
        return Availability(True)
    return Availability(
        False,
        no_gpu_reason([first_line(w.message) for w in caught if isinstance(w.message, Warning)]),
    )
