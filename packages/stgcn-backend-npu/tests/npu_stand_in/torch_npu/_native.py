"""The stand-in's C++ device (csrc/device.cpp), compiled on first use and cached.

torch's extension loader rebuilds only when the source or torch changes, and holds a
file lock while it builds, so workers starting together wait for one build.
"""

from pathlib import Path

from torch.utils.cpp_extension import load

_SOURCE = Path(__file__).parent / "csrc" / "device.cpp"

_module = load(name="stgcn_npu_stand_in_device", sources=[str(_SOURCE)], extra_cflags=["-O1"])

set_device_count = _module.set_device_count
set_saturation_mode = _module.set_saturation_mode
float_status = _module.float_status
clear_float_status = _module.clear_float_status
unpinned_syncs = _module.unpinned_syncs
host_reads = _module.host_reads
blocking_copies = _module.blocking_copies
manual_seed = _module.manual_seed
initial_seed = _module.initial_seed
get_rng_state = _module.get_rng_state
set_rng_state = _module.set_rng_state
