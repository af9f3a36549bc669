"""A STAND-IN for torch_npu, for tests on hosts that have no Ascend NPU.

On import it does what the real torch_npu does that stgcn relies on, so that the same
code path runs here as on an Ascend host:

- torch's PrivateUse1 device becomes "npu", backed by host memory (``csrc/device.cpp``,
  built once with torch's C++ extension tools): tensors really live on ``npu:N``,
  operators run through torch's CPU kernels, autocast works on "npu";
- ``torch.npu`` is this package's device module (``npu/``), with the chip's facts
  (bf16, saturation mode, operator compile mode) taken from ``NPU_STAND_IN_CHIP``;
- "hccl" is a process-group backend (``hccl.py``) that refuses what ProcessGroupHCCL
  refuses and moves data with gloo underneath.

``NPU_STAND_IN_DEVICES`` sets how many NPUs the host has (2 by default).
``NPU_STAND_IN_IMPORT_LOG`` names a file where every import appends a line, so that a
test can count the processes that imported torch_npu.
"""

import atexit
import os
import sys
import time
import warnings

import torch

from torch_npu import _native

torch.utils.rename_privateuse1_backend("npu")
torch.utils.generate_methods_for_privateuse1_backend()

from torch_npu import npu  # noqa: E402

torch._register_device_module("npu", npu)
npu._initialise()

from torch_npu import hccl  # noqa: E402, F401  (registers the "hccl" backend)

__version__ = "2.13.0"
__all__ = ["npu", "npu_clear_float_status", "npu_get_float_status"]


#: the deprecated ops that have warned in this process
_deprecation_said: set[str] = set()


def _deprecated(name: str) -> None:
    """op-plugin's generated wrapper of an op listed in config/deprecated.yaml
    (torchnpugen/gen.py:275-283; npu_get_float_status and npu_clear_float_status are
    listed, deprecated.yaml:58,60): TORCH_WARN_ONCE, a Python UserWarning once per
    process, on every rank (c10's warning, not torch_npu's rank-0 one)."""
    if name not in _deprecation_said:
        _deprecation_said.add(name)
        warnings.warn(
            f"torch_npu.{name} is deprecated and will be removed in future version.",
            UserWarning,
            stacklevel=3,
        )


def npu_get_float_status(self: torch.Tensor) -> torch.Tensor:
    """op-plugin's npu_get_float_status: 8 float32 numbers on the npu, the first non-zero
    where the float-status register is raised (saturation mode); no host read."""
    _deprecated("npu_get_float_status")
    return torch.full((8,), float(_native.float_status()), dtype=torch.float32, device=self.device)


def npu_clear_float_status(self: torch.Tensor) -> torch.Tensor:
    """op-plugin's npu_clear_float_status: lowers the register, returns zeros."""
    _deprecated("npu_clear_float_status")
    _native.clear_float_status()
    return torch.zeros(8, dtype=torch.float32, device=self.device)


_native.set_device_count(npu.device_count())

if os.environ.get("NPU_STAND_IN_IMPORT_LOG"):
    with open(os.environ["NPU_STAND_IN_IMPORT_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {'probe' if sys.argv[0] == '-c' else 'worker'}\n")


@atexit.register
def _let_worker_threads_finish() -> None:
    """gloo's worker threads (under "hccl") and autograd's npu thread let go of a finished
    collective's or backward pass's tensors just after reporting it done, and letting go
    of a tensor Python has seen takes the GIL. An interpreter that finalises before they
    have it kills them halfway (std::terminate, exit by SIGABRT), so the exit first
    waits a moment without the GIL."""
    time.sleep(0.2)
