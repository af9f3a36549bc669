"""What a training worker needs to know about the other workers.

A single-card run is a world of one, and every function here is then a cheap
no-op, so the trainer has a single code path. The launcher (``stgcn.training.launch``, or
torchrun, or a cluster launcher) tells a worker its place through the standard
RANK, LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sized
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, Sampler

from stgcn.errors import StgcnError
from stgcn.plugins.records import Accelerator

#: how long a collective may wait for a slow rank before the job fails instead of hanging
TIMEOUT = timedelta(minutes=int(os.environ.get("STGCN_COLLECTIVE_TIMEOUT_MIN", "30")))


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1
    local_size: int = 1

    @classmethod
    def from_env(cls) -> World:
        env = os.environ
        return cls(
            rank=int(env.get("RANK", 0)),
            local_rank=int(env.get("LOCAL_RANK", 0)),
            size=int(env.get("WORLD_SIZE", 1)),
            local_size=int(env.get("LOCAL_WORLD_SIZE", 1)),
        )

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes logs, metrics and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def launched_externally() -> bool:
    """True inside a worker started by torchrun, a cluster launcher or ``stgcn.training.launch``."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def collective_timeout(backend: Accelerator, requested: timedelta = TIMEOUT) -> timedelta:
    """The timeout to hand the backend's process group so that ``requested`` holds.

    A backend whose collective library reads the timeout its own way translates it
    (``Accelerator.collective_timeout``); the default passes it as it is.
    """
    return backend.collective_timeout(requested)


def join(world: World, backend: Accelerator) -> None:
    """Join the process group with the backend's collective (after ``backend.setup``).

    Under the elastic agent the workers share the agent's key-value store, which
    outlives a restart: each attempt gets its own key prefix there, or the restarted
    workers would read the dead ones' addresses.
    """
    if not world.distributed or dist.is_initialized():
        return
    timeout = collective_timeout(backend)
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if attempt is None or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        dist.init_process_group(backend.collective, timeout=timeout)
        return
    agent_store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        world.size,
        is_master=False,
        timeout=TIMEOUT,
    )
    dist.init_process_group(
        backend.collective,
        store=dist.PrefixStore(f"stgcn/attempt-{attempt}", agent_store),
        rank=world.rank,
        world_size=world.size,
        timeout=timeout,
    )


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(
    model: torch.nn.Module, world: World, device: torch.device, sync_bn: bool
) -> torch.nn.Module:
    """DistributedDataParallel around the model where there is more than one card."""
    if not world.distributed:
        return model
    if sync_bn:
        if device.type == "cpu":
            raise StgcnError("--sync-bn needs an accelerator: SyncBatchNorm cannot run on a cpu")
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = None if device.type == "cpu" else [device]
    return DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain model inside DDP and torch.compile wrappers: its keys have no prefix."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)


class StridedSampler(Sampler[int]):
    """Every ``size``-th index from ``rank``: each sample on exactly one rank, no padding.

    DistributedSampler pads the last round with repeated samples, which would count
    them twice in validation; ranks here simply get one sample more or less.
    """

    def __init__(self, data: Sized, world: World) -> None:
        self.indices = range(world.rank, len(data), world.size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def train_sampler(data: Sized, world: World, seed: int, drop_last: bool) -> DistributedSampler[int]:
    # DistributedSampler only takes len() of its dataset: range(size) serves as well
    return DistributedSampler(
        data,  # type: ignore[arg-type]
        num_replicas=world.size,
        rank=world.rank,
        shuffle=True,
        seed=seed,
        drop_last=drop_last,
    )


def sum_across(world: World, *values: float | torch.Tensor) -> list[torch.Tensor]:
    """Each value summed over all ranks, as float64 tensors on the cpu.

    The collective carries only dtypes every backend reduces: HCCL refuses float64 in
    its reductions, where gloo and NCCL take it (bool it takes, but only because its
    allreduce casts bool to int32 first, and its reduce_scatter refuses it). Integers travel as
    int64, exactly. A float travels as two float32 numbers, its float32 rounding and
    the remainder, whose sums added in float64 keep about 48 bits of the mantissa
    where a single float32 would keep 24.
    """
    tensors = [_as_tensor(v) for v in values]
    if world.distributed:
        whole = _summed([t.long() for t in tensors if not t.is_floating_point()])
        real = _summed_float([t.double() for t in tensors if t.is_floating_point()])
        tensors = [next(real if t.is_floating_point() else whole) for t in tensors]
    return [t.double() for t in tensors]


def _as_tensor(value: float | torch.Tensor) -> torch.Tensor:
    if isinstance(value, float):  # not through torch's default float32
        return torch.tensor(value, dtype=torch.float64)
    return torch.as_tensor(value).detach().cpu()


def _summed(tensors: list[torch.Tensor]) -> Iterator[torch.Tensor]:
    """The tensors summed over the ranks, in one all_reduce on the collective's device."""
    if not tensors:
        return iter(())
    flat = torch.cat([t.reshape(-1) for t in tensors]).to(_collective_device())
    dist.all_reduce(flat)
    parts = flat.cpu().split([t.numel() for t in tensors])
    return iter(part.reshape(t.shape) for part, t in zip(parts, tensors, strict=True))


def _summed_float(tensors: list[torch.Tensor]) -> Iterator[torch.Tensor]:
    """float64 tensors summed as float32 pairs (high part, remainder)."""
    high = [t.float() for t in tensors]
    low = [(t - h.double()).float() for t, h in zip(tensors, high, strict=True)]
    sums = list(_summed(high + low))
    count = len(tensors)
    return iter(h.double() + r.double() for h, r in zip(sums[:count], sums[count:], strict=True))


def broadcast_buffers(model: torch.nn.Module, world: World) -> None:
    """Give every rank rank 0's BatchNorm statistics, so that all evaluate the model saved."""
    if world.distributed:
        for buffer in unwrap(model).buffers():
            dist.broadcast(buffer, src=0)


def share_from_main(value: Any, world: World) -> Any:
    """Rank 0's ``value`` on every rank (a resumed checkpoint: only rank 0 need see the
    work dir, which on several hosts may live on rank 0's host alone)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    """Wait for every rank; on an accelerator, on this rank's device (torch warns when it
    has to guess which one)."""
    if world.distributed:
        device = _collective_device()
        dist.barrier(device_ids=None if device.type == "cpu" else [device.index])


def _collective_device() -> torch.device:
    """gloo reduces cpu tensors; nccl and hccl want them on the rank's device."""
    if dist.get_backend() == "gloo":
        return torch.device("cpu")
    accelerator = torch.accelerator.current_accelerator()
    if accelerator is None:
        return torch.device("cpu")
    return torch.device(accelerator.type, torch.accelerator.current_device_index())
