"""The STAND-IN's ``torch.npu`` device module.

Facts it follows, from torch_npu's sources:
- device_count reads ASCEND_RT_VISIBLE_DEVICES as torch_npu/npu/__init__.py does
  (v26.2.0-0day-pytorch2.13.0): _parse_visible_devices (:409-422) keeps the text before
  the first character that is not a digit or a comma and stops at the first empty id,
  so "0, 1, 2, 3" is [0], " 3" and "+3" are [], "1_0" is [1]; _device_count_ascend_hal
  (:455-461) then counts ids up to the first one at or above the host's count, and
  gives 0 for a list that does not ascend: "1,3,8" on a 4-card host shows 2, "1,0" none;
- get_device_name returns the SoC name of the chip (aclrtGetSocName), whatever device
  index is passed (torch_npu/npu/utils.py);
- is_bf16_supported is true from Ascend910B1 on (csrc/core/npu/NpuVariables.cpp,
  IsBF16Supported);
- set_compile_mode(jit_compile=...) sets the operator compile mode; left alone, the mode
  is CANN's default for the chip: compiled (jit) on the Atlas training series (910A,
  910 Pro) and 310P, prebuilt binaries on 910B and newer (csrc/framework/LazyInitAclops.cpp
  reads it from CANN; the per-chip defaults are CANN's documented ones).

- manual_seed / manual_seed_all / initial_seed / get_rng_state / set_rng_state work on
  each npu's own generator (torch_npu/npu/random.py over csrc/aten/NPUGeneratorImpl.cpp),
  separate from the CPU's, randomly seeded until seeded, its state 16 bytes (seed and
  Philox offset; csrc/device.cpp says more); torch.manual_seed reaches them through
  manual_seed_all;
- set_option(dict) takes torch_npu's options and refuses a value its _option_map does
  not list (npu_config.py); ACL_PRECISION_MODE holds from the call on
  (acl_precision_mode).

``calls`` records what was asked of the device, for the tests.
"""

import os

import torch

from torch_npu import _native
from torch_npu.npu import amp, utils  # noqa: F401
from torch_npu.npu.utils import (  # noqa: F401
    clear_npu_overflow_flag,
    get_npu_overflow_flag,
    get_soc_version,
    is_support_inf_nan,
)

calls: list[tuple] = []
_jit_compile: bool | None = None


def _initialise() -> None:
    _native.set_saturation_mode(not utils.is_support_inf_nan())


def _physical_count() -> int:
    return int(os.environ.get("NPU_STAND_IN_DEVICES", "2"))


def _parse_visible_devices() -> list[int]:
    """torch_npu/npu/__init__.py:409-422: the ids before the first character that is not
    a digit or a comma, up to the first empty one (``int()`` is never given a space or a
    sign); every id when the variable is unset."""
    value = os.environ.get("ASCEND_RT_VISIBLE_DEVICES")
    if value is None:
        return list(range(64))
    end = 0
    while end < len(value) and (value[end].isdigit() or value[end] == ","):
        end += 1
    ids: list[int] = []
    for part in value[:end].split(","):
        if not part:
            break
        ids.append(int(part))
    return ids


def device_count() -> int:
    """torch_npu/npu/__init__.py:455-461 (_device_count_ascend_hal): the visible ids
    counted up to the first at or above the host's count; 0 once one does not ascend."""
    ids = _parse_visible_devices()
    for index, value in enumerate(ids):
        if index > 0 and value <= ids[index - 1]:
            return 0
        if value >= _physical_count():
            return index
    return len(ids)


def is_available() -> bool:
    return device_count() > 0


def _index(device) -> int:
    if isinstance(device, str):
        device = torch.device(device)
    if isinstance(device, torch.device):
        return torch.accelerator.current_device_index() if device.index is None else device.index
    return int(device)


def set_device(device) -> None:
    index = _index(device)
    if not 0 <= index < device_count():
        raise RuntimeError(f"Invalid device ID: {index} (the host shows {device_count()} NPUs)")
    calls.append(("set_device", index))
    torch.accelerator.set_device_index(index)


def current_device() -> int:
    return torch.accelerator.current_device_index()


def synchronize(device=None) -> None:
    calls.append(("synchronize",))


def set_compile_mode(*, jit_compile: bool = False) -> None:
    global _jit_compile
    calls.append(("set_compile_mode", jit_compile))
    _jit_compile = bool(jit_compile)


def is_jit_compile_false() -> bool:
    if _jit_compile is not None:
        return not _jit_compile
    return not utils.default_jit_compile()


def get_device_name(device=None) -> str:
    return utils.soc_name()


def is_bf16_supported() -> bool:
    return utils.get_soc_version() >= utils.SOC_VERSIONS["Ascend910B1"]


def get_amp_supported_dtype() -> list:
    return [torch.float16, torch.bfloat16]


def is_initialized() -> bool:
    return True


def _is_in_bad_fork() -> bool:
    return False


def manual_seed(seed: int) -> None:
    _native.manual_seed(current_device(), int(seed) & 0xFFFF_FFFF_FFFF_FFFF)


def manual_seed_all(seed: int) -> None:
    for index in range(device_count()):
        _native.manual_seed(index, int(seed) & 0xFFFF_FFFF_FFFF_FFFF)


def initial_seed() -> int:
    return int(_native.initial_seed(current_device()))


def get_rng_state(device="npu") -> torch.Tensor:
    return _native.get_rng_state(_index(device))


def set_rng_state(new_state: torch.Tensor, device="npu") -> None:
    """torch_npu/npu/random.py: a contiguous copy to the generator's set_state, which
    takes a CPU uint8 tensor of 16 (or 8) bytes (NPUGeneratorImpl.cpp:315-370)."""
    _native.set_rng_state(_index(device), new_state.clone(memory_format=torch.contiguous_format))


#: torch_npu/npu/npu_config.py:22 (_option_map): the values set_option accepts for the
#: options it checks; the precision mode takes two, not all of CANN's five
OPTION_VALUES = {
    "ACL_PRECISION_MODE": ("allow_fp32_to_fp16", "must_keep_origin_dtype"),
    "ACL_OP_SELECT_IMPL_MODE": ("high_performance", "high_precision"),
    "ACL_OP_DEBUG_LEVEL": ("0", "1", "2", "3", "4"),
    "ACL_OP_COMPILER_CACHE_MODE": ("disable", "enable", "force"),
}
#: the options set, as OptionRegister keeps them (its Set stores the value before it
#: applies it: torch_npu/csrc/core/npu/register/OptionRegister.cpp:16-28)
_options: dict[str, str] = {}


def _chip_precision_mode() -> str:
    """LazyInitAclops.cpp's SetPrecisionMode without a stored option (:212-224)."""
    if utils.get_soc_version() >= utils.SOC_VERSIONS["Ascend910B1"]:
        return "must_keep_origin_dtype"
    return "allow_fp32_to_fp16"


def acl_precision_mode() -> str:
    """The precision mode CANN compiles operators with (the stand-in's own accessor).

    SetPrecisionMode (LazyInitAclops.cpp:212-224) prefers a stored ACL_PRECISION_MODE
    to the chip's default, and with ACL_OP_INIT_MODE at its default 0
    (OptionsManager.cpp:525-543) aclops initialise with the device (npu_sys_ctrl.cpp:
    269-271), which this stand-in's import stands for; set_option after that applies the
    value at once (OptionRegister.cpp:16-28). Either way the last value set holds: there
    is no later reset at the first operator.
    """
    return _options.get("ACL_PRECISION_MODE", _chip_precision_mode())


def set_option(option: dict) -> None:
    """torch_npu/npu/npu_config.py:66-73: a dict, each value given as a string, refused
    with ValueError where _option_map lists the values and this is not one of them."""
    if not isinstance(option, dict):
        raise TypeError("npu option must be a dict.")
    for name, value in option.items():
        allowed = OPTION_VALUES.get(name)
        if allowed is not None and str(value) not in allowed:
            raise ValueError(f"value of {name} should be in {list(allowed)} but got {value}")
    calls.append(("set_option", dict(option)))
    _options.update({name: str(value) for name, value in option.items()})
