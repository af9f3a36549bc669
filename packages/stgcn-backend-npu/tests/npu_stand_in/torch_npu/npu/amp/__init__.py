"""The STAND-IN's ``torch_npu.npu.amp``: the loss scaler."""

from torch_npu.npu.amp.grad_scaler import GradScaler

__all__ = ["GradScaler"]
