"""Worker functions for tests that start real gloo processes (importable by spawned children)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as torch_dist
import torch.nn.functional as F

from stgcn.backends.cpu import CPUBackend
from stgcn.backends.precision import Precision
from stgcn.data.synthetic import SyntheticSkeletons
from stgcn.model.network import STGCN
from stgcn.training import distributed as dist
from stgcn.training.distributed import World
from stgcn.training.evaluation import evaluate
from stgcn.training.runtime import Runtime

FRAMES = 12


def model_and_data(per_card_batch: int, val_size: int):
    torch.manual_seed(0)
    model = STGCN(10, dropout=0.0)
    # BatchNorm uses running statistics: batch statistics over B and over 2B samples would
    # differ by design, and this compares the gradient reduction, not BatchNorm.
    model.eval()
    train = SyntheticSkeletons("train", size=4 * per_card_batch, seed=0, frames=FRAMES)
    val = SyntheticSkeletons("val", size=val_size, seed=0, frames=FRAMES)
    return model, train, val


def one_step_grads(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    inner = dist.unwrap(model)
    return {name: p.grad.detach().clone() for name, p in inner.named_parameters()}


def rank_main(rank: int, world_size: int, port: int, per_card_batch: int, val_size: int, out: str):
    """One rank: a DDP training step on its share of the batch, then a sharded evaluation."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
    )
    world = World.from_env()
    backend = CPUBackend()
    device = backend.setup(world.local_rank)
    dist.join(world, backend)
    model, train, val = model_and_data(per_card_batch, val_size)
    wrapped = dist.wrap_model(model, world, device, sync_bn=False)
    sampler = dist.train_sampler(train, world, seed=0, drop_last=True)
    sampler.set_epoch(0)
    indices = list(sampler)[:per_card_batch]
    x = torch.stack([train[i][0] for i in indices])
    y = torch.tensor([train[i][1] for i in indices])
    grads = one_step_grads(wrapped, x, y)
    loader = torch.utils.data.DataLoader(val, batch_size=4, sampler=dist.StridedSampler(val, world))
    runtime = Runtime(device, dist.unwrap(wrapped), Precision.for_backend(backend, "fp32"))
    result = evaluate(runtime, loader, 10, world)
    torch.save(
        {"indices": indices, "grads": grads, "eval": result.to_dict()},
        Path(out) / f"rank{rank}.pt",
    )
    torch_dist.barrier()
    dist.leave()
