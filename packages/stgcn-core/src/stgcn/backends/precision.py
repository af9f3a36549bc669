"""The precision part every backend shares: which dtype each mixed precision casts to.

The cuda and npu backends each held a copy of this table and of the autocast choice;
one copy keeps the precision names meaning the same dtype on every accelerator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch

#: the mixed precisions and the dtype autocast computes in; fp32 is no autocast at all
AUTOCAST_DTYPES: Mapping[str, torch.dtype] = MappingProxyType(
    {"bf16": torch.bfloat16, "fp16": torch.float16}
)


def autocast_for(
    device_type: str, precision: str, **options: Any
) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` on ``device_type`` for a mixed ``precision`` (``options`` go to
    it), a context that does nothing for fp32."""
    dtype = AUTOCAST_DTYPES.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype, **options)
