"""The STAND-IN's chip facts: the SoC, its overflow mode, its float-status register.

Chip names and numbers are torch_npu's SocVersion enum (csrc/core/npu/NpuVariables.h);
``NPU_STAND_IN_CHIP`` picks one (Ascend910B3 by default). Inf/nan mode, where an
overflow gives inf or nan, is on from Ascend910B1 up to the 310B parts and from
Ascend910_9391 on; every other chip runs in saturation mode, where an overflow
saturates and raises a status register instead. INF_NAN_MODE_FORCE_DISABLE=1 forces
saturation mode, and INF_NAN_MODE_ENABLE=0 on a chip that defaults to inf/nan mode is
refused (csrc/core/npu/NpuVariables.cpp, IsSupportInfNan). Reading the register in
inf/nan mode is refused, and clearing it warns, as torch_npu/npu/utils.py does.
"""

import os
import warnings

SOC_VERSIONS = {
    "Ascend910PremiumA": 100,
    "Ascend910ProA": 101,
    "Ascend910A": 102,
    "Ascend910ProB": 103,
    "Ascend910B": 104,
    "Ascend310P1": 200,
    "Ascend310P3": 202,
    "Ascend910B1": 220,
    "Ascend910B2": 221,
    "Ascend910B2C": 222,
    "Ascend910B3": 223,
    "Ascend910B4": 224,
    "Ascend910B4-1": 225,
    "Ascend310B1": 240,
    "Ascend910_9391": 250,
    "Ascend910_9392": 251,
    "Ascend910_9381": 252,
    "Ascend910_9382": 253,
    "Ascend910_9372": 254,
    "Ascend910_9362": 255,
}


def soc_name() -> str:
    return os.environ.get("NPU_STAND_IN_CHIP", "Ascend910B3")


def get_soc_version() -> int:
    name = soc_name()
    if name not in SOC_VERSIONS:
        raise RuntimeError(f"Unsupported soc version: {name}")
    return SOC_VERSIONS[name]


def _chip_default_inf_nan() -> bool:
    soc = get_soc_version()
    return SOC_VERSIONS["Ascend910B1"] <= soc < SOC_VERSIONS["Ascend310B1"] or soc >= 250


def is_support_inf_nan() -> bool:
    if os.environ.get("INF_NAN_MODE_FORCE_DISABLE") == "1":
        return False
    if _chip_default_inf_nan() and os.environ.get("INF_NAN_MODE_ENABLE") == "0":
        raise RuntimeError(
            "INF_NAN_MODE_ENABLE shouldn't be set to 0 on the current device. If you want to "
            "disable inf-nan mode, please export INF_NAN_MODE_FORCE_DISABLE=1"
        )
    return _chip_default_inf_nan()


def default_jit_compile() -> bool:
    """CANN's operator compile mode when nobody sets it: jit before the 910B."""
    return get_soc_version() < SOC_VERSIONS["Ascend910B1"]


def get_npu_overflow_flag() -> bool:
    """torch_npu/npu/utils.py: refused in inf/nan mode; else the deprecated
    npu_get_float_status on a fresh buffer, its first number read on the host."""
    import torch

    import torch_npu

    if is_support_inf_nan():
        raise RuntimeError(
            "Unsupported api when soc_version >= Ascend910B1, please use npu_check_overflow"
        )
    result = torch_npu.npu_get_float_status(torch.zeros(8).to("npu"))
    return bool(result.cpu()[0] != 0)


def clear_npu_overflow_flag() -> None:
    """torch_npu/npu/utils.py:396-399: in inf/nan mode a warning and nothing else; else
    the deprecated npu_clear_float_status on a fresh buffer."""
    import torch

    import torch_npu

    if is_support_inf_nan():
        warnings.warn(
            "When soc_version >= Ascend910B1, clear_npu_overflow_flag is useless, "
            "please remove it.",
            stacklevel=2,
        )
        return
    torch_npu.npu_clear_float_status(torch.zeros(8).to("npu"))
