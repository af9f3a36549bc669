"""Can the npu backend run here, and if not, what exactly should the user do?

The checks go from cheapest to dearest and stop at the first problem: package
metadata (is torch-npu installed, does it match torch), then the CANN libraries on
disk, and only then a real import of torch_npu in a child process, which also counts
the NPUs. torch_npu is never imported into the asking process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from stgcn.records import Availability
from stgcn_backend_npu.cann import CannToolkit, find_cann
from stgcn_backend_npu.installation import check_installation
from stgcn_backend_npu.probe import ProbeResult, probe_devices

NO_DEVICE = (
    "no Ascend NPU visible: torch.npu.device_count() is 0 (check the driver with "
    "`npu-smi info`, and ASCEND_RT_VISIBLE_DEVICES if it is set)"
)


@dataclass(frozen=True)
class NPUStatus:
    """The verdict and the number of NPUs this process may use."""

    availability: Availability
    device_count: int = 0


def loaded_device_count() -> int | None:
    """The count from torch_npu when this process already imported it, else None."""
    if "torch_npu" not in sys.modules:
        return None
    import torch

    return int(torch.npu.device_count())


def check_npu(
    installation: Callable[[], str | None] = check_installation,
    cann: Callable[[], CannToolkit] = find_cann,
    probe: Callable[[], ProbeResult] = probe_devices,
) -> NPUStatus:
    """Run the checks in order; the first problem found is the reason given."""
    loaded = loaded_device_count()
    if loaded is not None:
        return _counted(loaded)
    problem = installation() or cann().problem()
    if problem:
        return NPUStatus(Availability(False, problem))
    result = probe()
    if result.error:
        return NPUStatus(Availability(False, result.error))
    return _counted(result.count)


def _counted(count: int) -> NPUStatus:
    if count < 1:
        return NPUStatus(Availability(False, NO_DEVICE))
    return NPUStatus(Availability(True), count)
