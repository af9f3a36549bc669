"""The npu backend's ``--backend-option KEY=VALUE`` settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option, parse_bool


def parse_loss_scale(value: object, what: str = "backend option loss_scale") -> float | None:
    """``dynamic`` is None; anything else must be a finite positive number."""
    text = str(value).strip().lower()
    if text == "dynamic":
        return None
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not math.isfinite(scale) or scale <= 0:
        raise StgcnError(f"{what}: expected 'dynamic' or a positive number, got {value!r}")
    return scale


def _no_compile(value: object, what: str) -> bool:
    """``compile=false`` is what every run passes; ``--compile`` (true) is refused."""
    if parse_bool(value, what):
        raise StgcnError(
            "backend 'npu' does not run torch.compile (--compile); "
            "leave it off, or see --backend-option jit_compile"
        )
    return False


@dataclass(frozen=True)
class NPUOptions(Settings):
    """``loss_scale``: "dynamic" (torch_npu's GradScaler) or a fixed factor, such as the
    64 the original Ascend recipe used. ``jit_compile``: None leaves torch_npu's (CANN's)
    default for the chip; False runs CANN's prebuilt (binary) operators; True compiles
    operators for each new shape, which is slow to start."""

    family: ClassVar[str] = "backend 'npu'"
    unknown_line: ClassVar[str] = "{family} has no option {key!r} (known: {known})"
    value_line: ClassVar[str] = "backend option {key}"

    loss_scale: float | None = option(
        None, '"dynamic" or a fixed loss scale factor', parse=parse_loss_scale
    )
    jit_compile: bool | None = option(None, "compile operators for each new shape")
    compile: bool = option(
        False, "refused when true: the npu runs no torch.compile", parse=_no_compile
    )
