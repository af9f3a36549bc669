"""The npu's precision part: the shared :class:`~stgcn.plugins.backend.Precision` plus
what Ascend chips need beside it.

Saturation mode. Chips before the Ascend 910B1 (910A, 910 ProB, 310P) saturate on an
overflow: the result is the dtype's largest finite value, not inf, and the device's
float-status register is raised (torch_npu/csrc/core/npu/NpuVariables.cpp,
IsSupportInfNan). A fixed loss scale (``loss_scale=64``) steps through an overflow, and
the poisoned weights then give a large but finite loss, which the loop's ``isfinite``
watch never flags. So where saturation mode is on and no dynamic scaler reads the
register itself, each step's update reads it on the device with torch_npu's ops
``torch_npu.npu_get_float_status`` and ``npu_clear_float_status``, and hands the flag to
the loop with the loss: the run ends in one line naming the epoch and step, before any
checkpoint keeps those weights.

Why those ops and not ``torch_npu.npu.utils.get_npu_overflow_flag`` and
``clear_npu_overflow_flag``: the two are thin wrappers over the same ops (utils.py,
v26.2.0-0day-pytorch2.13.0), and ``get_npu_overflow_flag`` reads the result on the host
(``result.cpu()[0]``), a wait for the device every step; the loop reads the flag on the
device, with the loss it reads anyway. Calling the wrappers would avoid no warning
either, since they call the same ops.

Their deprecation warning. op-plugin lists both ops as deprecated
(config/deprecated.yaml:58,60), so each warns once per process with a UserWarning
"torch_npu.npu_get_float_status is deprecated ..." (torchnpugen/gen.py:275-283), on
every rank; torch_npu's own GradScaler calls ``npu_clear_float_status`` at every step
in saturation mode too. There is no other way to read the register (the wrappers call
the same ops), and the user can do nothing about it, so :func:`quiet_float_status`
drops exactly those two warnings, and a run's stderr keeps stgcn's own lines.

The scaler's prints. torch_npu's GradScaler prints "Gradient overflow. Skipping step"
and "Loss scaler reducing loss scale to X" on stdout, on every rank, every time
(torch_npu/npu/amp/grad_scaler.py, _maybe_opt_step and _npu_update_scale). They are
caught here and said once per run, by rank 0, as a ``stgcn: warning:`` line on stderr,
as the run's other warnings are; the scale itself is kept in every checkpoint.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import warnings
from typing import Any

import torch
import torch.distributed as dist

from stgcn.plugins.backend import Precision

#: torch_npu's float-status buffer: 8 float32 numbers, the first non-zero on an overflow
STATUS_SIZE = 8


#: the deprecation warnings of the float-status ops (torchnpugen/gen.py:275-283)
FLOAT_STATUS_DEPRECATED = r"torch_npu\.npu_(get|clear)_float_status is deprecated"


def quiet_float_status() -> None:
    """Drop the float-status ops' deprecation warning in this process (see above)."""
    warnings.filterwarnings("ignore", message=FLOAT_STATUS_DEPRECATED, category=UserWarning)


def saturation_mode() -> bool:
    """True on chips that saturate instead of giving inf (before the 910B1)."""
    return not bool(importlib.import_module("torch_npu.npu.utils").is_support_inf_nan())


def _is_main_rank() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


class NPUPrecision(Precision):
    """The shared precision part, with the overflow status read on saturating chips and
    torch_npu's scaler prints said once."""

    def __init__(
        self,
        *args: Any,
        device: torch.device,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.device = device
        dynamic = self.scaler is not None and bool(getattr(self.scaler, "_dynamic", True))
        #: the loop must read the register: saturation mode, and no dynamic scaler
        #: skipping the overflowing steps itself
        self.watch_status = saturation_mode() and not dynamic
        self._overflow: torch.Tensor | None = None
        self._said: str | None = None

    def _status_buffer(self) -> torch.Tensor:
        return torch.zeros(STATUS_SIZE, dtype=torch.float32, device=self.device)

    def _clear_status(self) -> None:
        importlib.import_module("torch_npu").npu_clear_float_status(self._status_buffer())

    def forward_context(self) -> contextlib.AbstractContextManager[Any]:
        """The register is cleared before each forward pass, so that only this step's
        overflows (not an evaluation's) are read after its update."""
        if self.watch_status:
            self._clear_status()
        return super().forward_context()

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            super().optimizer_step(optimizer)
        self._say_once(printed.getvalue())
        if self.watch_status:
            torch_npu = importlib.import_module("torch_npu")
            status = torch_npu.npu_get_float_status(self._status_buffer())
            self._overflow = status[0] != 0

    def step_overflowed(self) -> torch.Tensor | None:
        return self._overflow if self.watch_status else None

    def _say_once(self, printed: str) -> None:
        lines = [line.strip() for line in printed.splitlines() if line.strip()]
        if not lines or self._said is not None:
            return
        self._said = "; ".join(lines)
        if _is_main_rank():
            print(
                f"stgcn: warning: torch_npu's GradScaler: {self._said} (said once; later "
                "overflows are handled the same way without a word)",
                file=sys.stderr,
            )
