"""The npu backend's ``--backend-option KEY=VALUE`` settings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from stgcn.errors import StgcnError
from stgcn.plugins.settings import parse_bool

KNOWN = ("loss_scale", "jit_compile")


@dataclass(frozen=True)
class NPUOptions:
    """``loss_scale``: "dynamic" (torch_npu's GradScaler) or a fixed factor, such as the
    64 the original Ascend recipe used. ``jit_compile``: None leaves torch_npu's (CANN's)
    default for the chip; False runs CANN's prebuilt (binary) operators; True compiles
    operators for each new shape, which is slow to start."""

    loss_scale: float | None = None
    jit_compile: bool | None = None

    @classmethod
    def parse(cls, options: Mapping[str, str]) -> NPUOptions:
        options = dict(options)
        if parse_bool(options.pop("compile", "false"), "backend option compile"):
            raise StgcnError(
                "backend 'npu' does not run torch.compile (--compile); "
                "leave it off, or see --backend-option jit_compile"
            )
        unknown = sorted(set(options) - set(KNOWN))
        if unknown:
            raise StgcnError(
                f"backend 'npu' has no option {unknown[0]!r} (known: {', '.join(KNOWN)})"
            )
        return cls(
            loss_scale=parse_loss_scale(options.get("loss_scale", "dynamic")),
            jit_compile=(
                parse_bool(options["jit_compile"], "backend option jit_compile")
                if "jit_compile" in options
                else None
            ),
        )


def parse_loss_scale(value: str) -> float | None:
    """``dynamic`` is None; anything else must be a finite positive number."""
    text = str(value).strip().lower()
    if text == "dynamic":
        return None
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not math.isfinite(scale) or scale <= 0:
        raise StgcnError(
            f"backend option loss_scale: expected 'dynamic' or a positive number, got {value!r}"
        )
    return scale
