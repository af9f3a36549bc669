"""The STAND-IN's ``torch.npu`` device module: records calls, owns no hardware.

``NPU_STAND_IN_DEVICES`` sets how many NPUs it claims (2 by default).
"""

import os

import torch

calls: list[tuple] = []
_current = -1


def device_count() -> int:
    return int(os.environ.get("NPU_STAND_IN_DEVICES", "2"))


def is_available() -> bool:
    return device_count() > 0


def set_device(device) -> None:
    global _current
    calls.append(("set_device", device))
    _current = int(device)


def current_device() -> int:
    return _current


def set_compile_mode(*, jit_compile: bool) -> None:
    calls.append(("set_compile_mode", jit_compile))


def synchronize(device=None) -> None:
    calls.append(("synchronize",))


def get_amp_supported_dtype() -> list:
    return [torch.float16, torch.bfloat16]
