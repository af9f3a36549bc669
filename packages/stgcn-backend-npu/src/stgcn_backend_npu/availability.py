"""Can the npu backend run here, and if not, what exactly should the user do?

The checks go from cheapest to dearest and stop at the first problem: package
metadata (is torch-npu installed, does it match torch), then the CANN libraries on
disk, and only then a real import of torch_npu in a child process, which also counts
the NPUs. torch_npu is never imported into the asking process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stgcn.records import Availability
from stgcn_backend_npu.cann import CannToolkit, find_cann
from stgcn_backend_npu.installation import check_installation
from stgcn_backend_npu.probe import ProbeResult, hand_down, handed_down, probe_devices
from stgcn_backend_npu.visible import VARIABLE, reading, warn_if_surprising

NO_DEVICE = (
    "no Ascend NPU visible: torch.npu.device_count() is 0 (check the driver with "
    "`npu-smi info`, and ASCEND_RT_VISIBLE_DEVICES if it is set)"
)


@dataclass(frozen=True)
class NPUStatus:
    """The verdict, the number of NPUs this process may use, and the chip's facts."""

    availability: Availability
    device_count: int = 0
    chip: str | None = None
    bf16: bool = False
    inf_nan: bool | None = None


def check_npu(
    installation: Callable[[], str | None] = check_installation,
    cann: Callable[[], CannToolkit] = find_cann,
    probe: Callable[[], ProbeResult] = probe_devices,
) -> NPUStatus:
    """Run the checks in order; the first problem found is the reason given.

    A worker takes the answer its launcher handed down instead of probing again. The
    process that asks torch_npu itself says when torch_npu sees fewer NPUs than
    ASCEND_RT_VISIBLE_DEVICES lists (:mod:`.visible`).
    """
    result = loaded()
    if result is None:
        handed = handed_down()
        if handed is not None:
            return _from_probe(handed)  # the launcher that probed has said its piece
        problem = installation() or cann().problem()
        if problem:
            return NPUStatus(Availability(False, problem))
        result = probe()
        hand_down(result)
    if not result.error and result.count > 0:
        warn_if_surprising(result.count)
    return _from_probe(result)


def loaded() -> ProbeResult | None:
    """torch_npu's answer when this process has already imported it, else None."""
    if "torch_npu" not in sys.modules:
        return None
    import torch

    npu: Any = torch.npu  # type: ignore[attr-defined]  # torch_npu registers it on import
    count = int(npu.device_count())
    if count < 1:
        return ProbeResult(count=0)
    utils = sys.modules["torch_npu"].npu.utils
    return ProbeResult(
        count=count,
        chip=str(npu.get_device_name()),
        bf16=bool(npu.is_bf16_supported()),
        inf_nan=bool(utils.is_support_inf_nan()),
    )


def _from_probe(result: ProbeResult) -> NPUStatus:
    if result.error:
        return NPUStatus(Availability(False, result.error))
    if result.count < 1:
        visible = os.environ.get(VARIABLE)
        read = f"; {reading(visible, 0)}" if visible is not None else ""
        return NPUStatus(Availability(False, NO_DEVICE + read))
    return NPUStatus(Availability(True), result.count, result.chip, result.bf16, result.inf_nan)
