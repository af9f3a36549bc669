"""A STAND-IN for torch_npu, for tests on hosts that have no Ascend NPU.

On import it does what the real torch_npu does that the npu backend relies on: it
names torch's PrivateUse1 device "npu" (so ``torch.device("npu:1")`` and
``torch.autocast("npu")`` work), registers its device module as ``torch.npu``, and
registers the "hccl" process-group backend. Every call the backend makes is recorded
in ``torch_npu.npu.calls``, so tests can check what was asked of the device. It
computes nothing on a device: the "hccl" groups it makes are gloo groups underneath,
and no tensor can live on "npu" here.
"""

import torch
import torch.distributed as dist

from torch_npu import npu

torch.utils.rename_privateuse1_backend("npu")
torch._register_device_module("npu", npu)


def _new_hccl_group(store, rank, world_size, timeout):
    # HCCL binds a process group to the device current when it is made.
    npu.calls.append(("hccl_process_group", rank, world_size, npu.current_device()))
    return dist.ProcessGroupGloo(store, rank, world_size, timeout)


dist.Backend.register_backend("hccl", _new_hccl_group, devices=["npu"])
npu.calls.append(("import",))
