"""Loss scaling for fp16 training, with torch_npu's own GradScaler.

torch's generic ``GradScaler`` lets each rank decide alone whether to skip a step. On
chips in saturation mode (Ascend 910A, 910 ProB) an overflow is read from each device's
own status register, so one rank may skip while the others step, and the DDP replicas
drift apart without a word. ``torch_npu.npu.amp.GradScaler`` sums that verdict over the
ranks (in saturation mode) so that all of them skip together; on inf/nan chips (910B and
newer) it checks the gradients as torch does.

A fixed scale (``loss_scale=64``, the original recipe's apex O2 setting) is that scaler
with ``dynamic=False``. It then behaves as apex does at a static loss scale: no overflow
check, the optimizer steps whatever the gradients hold, the scale never changes. A step
that overflows therefore reaches the weights, and the next non-finite loss stops the
run with the error naming the epoch and step. In saturation mode (910A) that loss stays
finite, so the backend's precision part reads the chip's overflow status after each
such step instead (:mod:`stgcn_backend_npu.precision`).

torch_npu's ``load_state_dict`` requires the "dynamic" key its ``state_dict`` adds
(torch_npu/npu/amp/grad_scaler.py, load_state_dict: ``state_dict["dynamic"]``). A
checkpoint written on cuda or the cpu holds torch's scaler state, without it: resumed
here, it is read as the dynamic scaler it was. torch_npu's constructor of some versions
prints its options on stdout; that is dropped.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from typing import Any

import torch


def loss_scaler(loss_scale: float | None) -> torch.amp.GradScaler:
    """torch_npu's scaler: dynamic for None, else fixed at ``loss_scale``.

    A fixed scaler resumed from a checkpoint keeps the scale asked for now, whatever
    the checkpoint's run used.
    """
    grad_scaler: Any = importlib.import_module("torch_npu.npu.amp").GradScaler

    class DynamicScale(grad_scaler):
        def load_state_dict(self, state_dict: dict[str, Any]) -> None:
            # torch's scaler (a cuda or cpu run's) has no "dynamic": it was dynamic
            super().load_state_dict({"dynamic": True, **state_dict})

    class FixedScale(grad_scaler):
        def load_state_dict(self, state_dict: dict[str, Any]) -> None:
            super().load_state_dict({**state_dict, "scale": loss_scale, "dynamic": False})

    with contextlib.redirect_stdout(io.StringIO()):  # "GradScaler options are: ..."
        if loss_scale is None:
            return DynamicScale()
        return FixedScale(init_scale=loss_scale, dynamic=False)
