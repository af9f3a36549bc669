"""What a training worker needs to know about the other workers.

A single-card run is a world of one, and every function here is then a cheap
no-op, so the trainer has a single code path. The launcher (``stgcn.launch``, or
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
from stgcn.records import Backend

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
    """True inside a worker started by torchrun, a cluster launcher or ``stgcn.launch``."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def join(world: World, backend: Backend) -> None:
    """Join the process group with the backend's collective (after ``backend.setup``).

    Under the elastic agent the workers share the agent's key-value store, which
    outlives a restart: each attempt gets its own key prefix there, or the restarted
    workers would read the dead ones' addresses.
    """
    if not world.distributed or dist.is_initialized():
        return
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if attempt is None or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        dist.init_process_group(backend.collective, timeout=TIMEOUT)
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
        timeout=TIMEOUT,
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


def train_sampler(data: Sized, world: World, seed: int, drop_last: bool) -> DistributedSampler:
    return DistributedSampler(
        data, num_replicas=world.size, rank=world.rank, shuffle=True, seed=seed, drop_last=drop_last
    )


def sum_across(world: World, *values: float | torch.Tensor) -> list[torch.Tensor]:
    """Each value summed over all ranks (as float64 on the cpu: gloo and exact counts)."""
    tensors = [torch.as_tensor(v, dtype=torch.float64).clone().cpu() for v in values]
    if world.distributed:
        flat = torch.cat([t.reshape(-1) for t in tensors])
        flat = flat.to(_collective_device())
        dist.all_reduce(flat)
        flat = flat.cpu()
        out, start = [], 0
        for t in tensors:
            out.append(flat[start : start + t.numel()].reshape(t.shape))
            start += t.numel()
        tensors = out
    return tensors


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
    if world.distributed:
        dist.barrier()


def _collective_device() -> torch.device:
    """gloo reduces cpu tensors; nccl and hccl want them on the rank's device."""
    if dist.get_backend() == "gloo":
        return torch.device("cpu")
    accelerator = torch.accelerator.current_accelerator()
    if accelerator is None:
        return torch.device("cpu")
    return torch.device(accelerator.type, torch.accelerator.current_device_index())
