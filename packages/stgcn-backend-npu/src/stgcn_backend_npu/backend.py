"""The ``npu`` backend: Ascend NPUs through torch-npu, HCCL between cards.

``stgcn`` starts with torch's device-extension autoload switched off (see the core
README), so this backend imports torch_npu itself, in ``setup``, and only after the
availability checks have passed: on a host without CANN, that import is what fails.

Defaults follow the chip, as the availability probe reports it: bf16 autocast without
a loss scaler where ``torch.npu.is_bf16_supported()`` (910B and newer), else fp16 with
torch_npu's GradScaler (:mod:`stgcn_backend_npu.scaler`). The operator compile mode is
torch_npu's own default for the chip unless ``jit_compile`` is given.

``--precision fp32`` means fp32 on every chip. Below the 910B1 torch_npu's default
precision mode is ``allow_fp32_to_fp16`` (torch_npu/csrc/framework/LazyInitAclops.cpp,
SetPrecisionMode), which runs convolutions and matmuls in fp16 without a loss scaler, so
an fp32 run there calls ``torch.npu.set_option({"ACL_PRECISION_MODE":
"must_keep_origin_dtype"})`` once, before the model's first operator. Once is enough,
by torch_npu 2.13's sources (v26.2.0-0day-pytorch2.13.0): ``set_option`` stores the
value and applies it at once, or when the device initialises if it has not yet
(core/npu/register/OptionRegister.cpp:16-28); SetPrecisionMode prefers that stored
value to the chip's default (LazyInitAclops.cpp:212-224); and with ACL_OP_INIT_MODE at
its default 0 (OptionsManager.cpp:525-543) aclops initialise with the device
(npu_sys_ctrl.cpp:269-271), before this call, not at the first operator after it.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from datetime import timedelta
from types import ModuleType

import torch

from stgcn.errors import StgcnError, first_line
from stgcn.plugins.backend import Precision
from stgcn.records import Availability, BackendBase
from stgcn_backend_npu.availability import NPUStatus, check_npu
from stgcn_backend_npu.options import NPUOptions
from stgcn_backend_npu.precision import NPUPrecision, quiet_float_status
from stgcn_backend_npu.scaler import loss_scaler
from stgcn_backend_npu.timeout import hccl_timeout
from stgcn_backend_npu.visible import VARIABLE, reading


def import_device_module() -> ModuleType:
    """Import torch_npu and return the device module it registers as ``torch.npu``."""
    try:
        importlib.import_module("torch_npu")
    except Exception as error:  # torch_npu reports a missing CANN library as ImportError
        raise StgcnError(f"torch_npu failed to import: {first_line(error)}") from error
    return torch.npu  # type: ignore[attr-defined]  # torch_npu registers it on import


class NPUBackend(BackendBase[NPUOptions]):
    """One run's NPUs; its run settings are :class:`NPUOptions` (``for_run``)."""

    name = "npu"
    description = "Ascend NPU through torch-npu (HCCL between cards; bf16 or fp16 autocast)"
    collective = "hccl"
    precisions: tuple[str, ...] = ("bf16", "fp16", "fp32")
    device_type = "npu"
    settings_type = NPUOptions
    #: torch_npu turns a non_blocking copy from unpinned host memory into a stream
    #: synchronisation (CachingHostAllocator.cpp); pinned batches copy asynchronously.
    pin_memory = True

    def __init__(self, settings: NPUOptions | None = None) -> None:
        super().__init__(settings)
        self._status: NPUStatus | None = None
        self._npu: ModuleType | None = None
        self._device: torch.device | None = None

    @property
    def options(self) -> NPUOptions:
        """The run's settings under the name this backend gave them first."""
        return self.settings

    def status(self) -> NPUStatus:
        """Checked once per host: the launcher hands its answer to the workers."""
        if self._status is None:
            self._status = check_npu()
        return self._status

    def availability(self) -> Availability:
        return self.status().availability

    def device_count(self) -> int:
        if self._npu is not None:
            return int(self._npu.device_count())
        return self.status().device_count

    def default_precision(self) -> str:
        return "bf16" if self.status().bf16 else "fp16"

    def setup(self, local_rank: int) -> torch.device:
        """Bind this process to ``npu:local_rank``; must precede the HCCL process group,
        which takes its device from the current one."""
        availability = self.availability()
        if not availability.available:
            raise StgcnError(f"backend 'npu' is unavailable: {availability.reason}")
        npu = import_device_module()
        quiet_float_status()  # torch_npu's scaler and the overflow watch use those ops
        count = int(npu.device_count())
        if not 0 <= local_rank < count:
            visible = os.environ.get(VARIABLE)
            seen = reading(visible, count) if visible is not None else f"{count} visible"
            raise StgcnError(
                f"local rank {local_rank} has no NPU: {seen}; ask for at most that many --cards"
            )
        if self.options.jit_compile is not None:
            npu.set_compile_mode(jit_compile=self.options.jit_compile)
        npu.set_device(local_rank)
        self._npu = npu
        self._device = torch.device(f"npu:{local_rank}")
        return self._device

    def collective_timeout(self, requested: timedelta) -> timedelta:
        return hccl_timeout(requested)

    def grad_scaler(self, precision: str) -> torch.amp.GradScaler | None:
        """torch_npu's scaler, which agrees on overflows across the cards, for fp16."""
        if precision != "fp16":
            return None
        return loss_scaler(self.options.loss_scale)

    def precision_part(self, precision: str) -> Precision | None:
        """The shared precision part with the npu's additions (:mod:`.precision`): the
        overflow status read on saturating chips, the scaler's prints said once. None
        before :meth:`setup` (the shared part then serves)."""
        if self._device is None:
            return None
        return NPUPrecision(
            precision,
            functools.partial(self.autocast, precision),
            self.grad_scaler(precision),
            device=self._device,
        )

    def _keeps_fp32(self, precision: str) -> bool:
        """fp32 on a chip whose default precision mode lets fp32 run in fp16."""
        return precision == "fp32" and not self.status().bf16 and self._npu is not None

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        if precision == "bf16" and not self.status().bf16:
            chip = self.status().chip or "this NPU"
            raise StgcnError(
                f"{chip} has no bf16 (torch.npu.is_bf16_supported() is False; bf16 needs "
                "an Ascend 910B or newer): use --precision fp16 or fp32"
            )
        if self._keeps_fp32(precision):
            # chips before the 910B1 default to allow_fp32_to_fp16: keep fp32 as asked
            assert self._npu is not None
            self._npu.set_option({"ACL_PRECISION_MODE": "must_keep_origin_dtype"})
            if os.environ.get("RANK", "0") == "0":
                print(fp32_note(self.status().chip or "this NPU"), file=sys.stderr)
        return model

    def synchronize(self) -> None:
        if self._npu is not None:
            self._npu.synchronize()

    def rng_state(self) -> torch.Tensor | None:
        return self._npu.get_rng_state() if self._npu is not None else None

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        if self._npu is not None and state is not None:
            self._npu.set_rng_state(state)


def fp32_note(chip: str) -> str:
    """The run's first line where fp32 is not the chip's own default: what the chip does
    and what stgcn asks of it."""
    return (
        f"stgcn: note: {chip} runs fp32 convolutions and matmuls in fp16 by default "
        "(ACL_PRECISION_MODE=allow_fp32_to_fp16); this run sets must_keep_origin_dtype so "
        "that fp32 stays fp32"
    )
