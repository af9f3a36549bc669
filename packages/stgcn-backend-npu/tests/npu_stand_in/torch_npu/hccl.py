"""The STAND-IN's "hccl" process-group backend: HCCL's rules, gloo's transport.

What it refuses and does, as torch_npu/csrc/distributed/ProcessGroupHCCL.cpp ("PG",
line numbers at v26.2.0-0day-pytorch2.13.0) does:
- a tensor that is not on an npu, or not dense: "Tensors must be NPU and dense"
  (check_npu_single_tensor / check_npu_tensors_different_devices); one that is not
  contiguous: "Tensors must be contiguous" (PG:3160-3162, 3213);
- in allreduce, reduce and reduce_scatter, a dtype outside int8, int16, int32, int64,
  fp16, fp32 and bf16: "HCCL allreduce: Unsupported data type at::kDouble"
  (checkSupportedDataType, named by the calling function). allreduce and reduce first
  cast bool and uint8 to int32 (PG:4734-4737, 5072-5075), reduce and write the result
  back, so those pass there; reduce_scatter does not cast and refuses them
  ("Unsupported data type at::kByte", "at::kBool");
- in broadcast and allgather, which take every dtype getHcclDataType maps
  (HCCLUtils.cpp:50-66), a dtype outside that map: "Unsupported data type for HCCL
  process group";
- in the reductions, ReduceOp.BAND, BOR and BXOR: "Cannot use ReduceOp.BAND with HCCL"
  (getHcclReduceOp and its unsupportedOp map). ReduceOp.AVG it takes, in allreduce and
  allreduce_coalesced (PG:5007-5012) alike, as a sum followed by ``tensor.div_(size)``
  in place (PG:4746-4751), so AVG of an integer tensor fails there as torch's div_ does;
barrier() is an allreduce of a float32 one on the current npu, as ProcessGroupHCCL's is.
The watchdog timeout is read as ProcessGroupHCCL's constructor reads it: exactly its
DEFAULT_TIMEOUT (30 minutes) means "not set" and becomes HCCL_EXEC_TIMEOUT + 1800 s;
a timeout at or below HCCL_EXEC_TIMEOUT (1836 s when unset) draws its warning that the
plog may not be recorded. The result is recorded in ``torch_npu.npu.calls``.
A group binds to the npu current when it is made. Data moves through a gloo group on
host copies; results are written back into the npu tensors.
"""

import os
import warnings
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.futures import Future

from torch_npu import npu

#: checkSupportedDataType: the reduction collectives' dtypes.
REDUCE_TYPES = {
    torch.int8: "at::kChar",
    torch.int16: "at::kShort",
    torch.int32: "at::kInt",
    torch.int64: "at::kLong",
    torch.float16: "at::kHalf",
    torch.float32: "at::kFloat",
    torch.bfloat16: "at::kBFloat16",
}
#: getHcclDataType's map (HCCLUtils.cpp:50-66): every dtype HCCL can carry (broadcast,
#: allgather), named as kHcclDataTypeToStringMap names them (bool travels as uint8)
TYPE_NAMES = {
    **REDUCE_TYPES,
    torch.uint8: "at::kByte/at::kBool",
    torch.bool: "at::kByte/at::kBool",
    torch.float64: "at::kDouble",
    torch.float8_e4m3fn: "at::kFloat8_e4m3fn",
    torch.float8_e5m2: "at::kFloat8_e5m2",
}
#: HCCL's fp8 types, which gloo underneath cannot carry but as bytes
FLOAT8 = (torch.float8_e4m3fn, torch.float8_e5m2)
#: what the reduction collectives cast to int32 before checking (allreduce, reduce).
CAST_TO_INT = (torch.bool, torch.uint8)
#: ProcessGroupHCCL.cpp's unsupportedOp map: the ops getHcclReduceOp refuses by name.
UNSUPPORTED_OPS = {
    dist.ReduceOp.BAND: "BAND",
    dist.ReduceOp.BOR: "BOR",
    dist.ReduceOp.BXOR: "BXOR",
}


DEFAULT_TIMEOUT = timedelta(minutes=30)
DEFAULT_EXEC_TIMEOUT_S = 1836


def watchdog_timeout(timeout: timedelta) -> tuple[timedelta, str | None]:
    """The timeout ProcessGroupHCCL enforces for ``timeout``, and its warning if any."""
    try:
        exec_s = int(os.environ.get("HCCL_EXEC_TIMEOUT", DEFAULT_EXEC_TIMEOUT_S))
    except ValueError:
        exec_s = DEFAULT_EXEC_TIMEOUT_S
    exec_s = DEFAULT_EXEC_TIMEOUT_S if exec_s < 0 else exec_s
    if timeout == DEFAULT_TIMEOUT:
        return timedelta(seconds=exec_s + 1800), None
    milliseconds = int(timeout.total_seconds() * 1000)
    if exec_s and milliseconds <= exec_s * 1000:
        return timeout, (
            f"The watchdog timeout {milliseconds}ms(which is set by init_process_group) is "
            f"less than or equal to HCCL execution timeout {exec_s * 1000}ms! The plog may "
            "not be recorded."
        )
    return timeout, None


def _name(dtype: torch.dtype) -> str:
    return TYPE_NAMES.get(dtype, f"at::k{str(dtype).removeprefix('torch.')}")


def _check_npu(tensors) -> None:
    for tensor in tensors:
        if tensor.device.type != "npu" or tensor.layout != torch.strided:
            raise RuntimeError("Tensors must be NPU and dense")
        if not tensor.is_contiguous():
            raise RuntimeError("Tensors must be contiguous")


def _check_mapped(tensors) -> None:
    for tensor in tensors:
        if tensor.dtype not in TYPE_NAMES:
            raise RuntimeError("Unsupported data type for HCCL process group")


def _check_reduce_type(function: str, tensors, cast: bool) -> None:
    for tensor in tensors:
        if cast and tensor.dtype in CAST_TO_INT:
            continue
        if tensor.dtype not in REDUCE_TYPES:
            raise RuntimeError(f"HCCL {function}: Unsupported data type {_name(tensor.dtype)}")


def _hccl_op(op: dist.ReduceOp) -> dist.ReduceOp:
    """What getHcclReduceOp (ProcessGroupHCCL.cpp) makes of ``op``: AVG becomes a SUM
    (divided afterwards), BAND/BOR/BXOR are refused by name."""
    if op == dist.ReduceOp.AVG:
        return dist.ReduceOp.SUM
    for refused, name in UNSUPPORTED_OPS.items():
        if op == refused:
            raise RuntimeError(f"Cannot use ReduceOp.{name} with HCCL")
    return op


def _divide(tensors, size: int) -> None:
    """AVG's second half, PG:4746-4751: ``tensor.div_(size)`` in place, which torch
    refuses for an integer tensor (its float result cannot be cast back)."""
    for tensor in tensors:
        tensor.div_(size)


def _as_int32(tensors) -> list:
    """PG:4734-4737 and 5072-5075: bool and uint8 reduced as int32 copies."""
    return [t.to(torch.int32) if t.dtype in CAST_TO_INT else t for t in tensors]


def _carried(host: torch.Tensor) -> torch.Tensor:
    """What gloo moves for ``host``: its bytes where gloo has no such type (float8)."""
    return host.view(torch.uint8) if host.dtype in FLOAT8 else host


class Done(dist.distributed_c10d.Work):
    """A collective that has finished: HCCL's work objects complete on the device."""

    def __init__(self, result) -> None:
        super().__init__()
        self._future = Future(devices=[torch.device("npu", npu.current_device())])
        self._future.set_result(result)

    def wait(self, timeout=None) -> bool:
        return True

    def get_future(self) -> Future:
        return self._future


class StandInHCCL(dist.ProcessGroup):
    def __init__(self, store, rank: int, size: int, timeout) -> None:
        super().__init__(rank, size)
        self.device_index = npu.current_device()
        npu.calls.append(("hccl_process_group", rank, size, self.device_index))
        enforced, warning = watchdog_timeout(timeout)
        npu.calls.append(("hccl_timeout", enforced.total_seconds(), warning))
        if warning:
            warnings.warn(warning, stacklevel=2)
        self._gloo = dist.ProcessGroupGloo(store, rank, size, timeout)

    @property
    def _device_types(self) -> list[torch.device]:
        return [torch.device("npu")]

    def getBackendName(self) -> str:
        return "hccl"

    def name(self) -> str:
        return "hccl"

    def _through_gloo(self, collective, tensors, *rest):
        host = [t.cpu() for t in tensors]
        collective([_carried(h) for h in host], *rest).wait()
        for tensor, value in zip(tensors, host, strict=True):
            tensor.copy_(value)

    def allreduce(self, tensors, opts=None):
        opts = opts if opts is not None else dist.AllreduceOptions()
        return self._all_reduce("allreduce", tensors, opts)

    def allreduce_coalesced(self, tensors, opts=None):
        opts = opts if opts is not None else dist.AllreduceCoalescedOptions()
        return self._all_reduce("allreduce_coalesced", tensors, opts)

    def _all_reduce(self, function: str, tensors, opts):
        """allreduce and allreduce_coalesced alike: bool and uint8 reduced as int32
        copies, AVG as a SUM divided after, through gloo's collective of that name."""
        _check_npu(tensors)
        _check_reduce_type(function, tensors, cast=True)
        summed = type(opts)()
        summed.reduceOp = _hccl_op(opts.reduceOp)
        summed.timeout = opts.timeout
        reduced = _as_int32(tensors)
        self._through_gloo(getattr(self._gloo, function), reduced, summed)
        for tensor, value in zip(tensors, reduced, strict=True):
            if value is not tensor:
                tensor.copy_(value)
        if opts.reduceOp == dist.ReduceOp.AVG:
            _divide(tensors, self.size())
        return Done(tensors)

    def broadcast(self, tensors, opts=None):
        _check_npu(tensors)
        _check_mapped(tensors)
        opts = opts if opts is not None else dist.BroadcastOptions()
        self._through_gloo(self._gloo.broadcast, tensors, opts)
        return Done(tensors)

    def allgather(self, output_lists, inputs, opts=None):
        _check_npu(inputs)
        _check_mapped(inputs)
        for outputs in output_lists:
            _check_npu(outputs)
        host_outputs = [[t.cpu() for t in outputs] for outputs in output_lists]
        carried = [[_carried(t) for t in outputs] for outputs in host_outputs]
        self._gloo.allgather(carried, [_carried(t.cpu()) for t in inputs]).wait()
        for outputs, values in zip(output_lists, host_outputs, strict=True):
            for tensor, value in zip(outputs, values, strict=True):
                tensor.copy_(value)
        return Done(output_lists)

    def _allgather_base(self, output, input, opts=None):
        _check_npu([output, input])
        _check_mapped([input])
        host = output.cpu()
        self._gloo._allgather_base(_carried(host), _carried(input.cpu())).wait()
        output.copy_(host)
        return Done([output])

    def reduce_scatter(self, outputs, input_lists, opts=None):
        _check_npu(outputs)
        _check_reduce_type("reduce_scatter", outputs, cast=False)
        host_outputs = [t.cpu() for t in outputs]
        host_inputs = [[t.cpu() for t in inputs] for inputs in input_lists]
        opts = opts if opts is not None else dist.ReduceScatterOptions()
        _hccl_op(opts.reduceOp)
        self._gloo.reduce_scatter(host_outputs, host_inputs, opts).wait()
        for tensor, value in zip(outputs, host_outputs, strict=True):
            tensor.copy_(value)
        return Done(outputs)

    def barrier(self, opts=None):
        ones = torch.ones(1, dtype=torch.float32, device=torch.device("npu", self.device_index))
        return self.allreduce([ones])


def _new_group(store, rank: int, size: int, timeout) -> StandInHCCL:
    return StandInHCCL(store, rank, size, timeout)


dist.Backend.register_backend("hccl", _new_group, devices=["npu"])
