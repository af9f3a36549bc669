"""The contract's multi-process check: two real gloo processes share each split.

The ranks are started with ``torch.multiprocessing.spawn``, each joins a gloo process
group, builds both splits itself and takes its share as the trainer does
(``DistributedSampler`` for training, ``stgcn.training.distributed.StridedSampler`` for
validation). Rank 0 gathers the shares over the process group; this process then
checks that they are disjoint (apart from the padding DistributedSampler adds to even
out the ranks), cover the split, and hold the samples a single process reads.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from stgcn.testing.samples import ContractError, Item, build_split, read_item, require, same_items
from stgcn.training.distributed import StridedSampler, World, train_sampler

WORLD_SIZE = 2
#: how many validation samples per rank are compared tensor for tensor
COMPARED = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _share(
    rank: int,
    port: int,
    name: str,
    data_path: str | None,
    options: dict[str, Any],
    out: str,
) -> None:
    """One rank: join the group, take this rank's shares, rank 0 saves everyone's."""
    from stgcn.plugins.kinds import DATASETS
    from stgcn.plugins.registry import get_registry

    torch_dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=timedelta(seconds=120),
    )
    try:
        record = get_registry().get(DATASETS, name)
        path = Path(data_path) if data_path is not None else None
        world = World(rank=rank, local_rank=rank, size=WORLD_SIZE, local_size=WORLD_SIZE)
        train = build_split(record, "train", path, options)
        val = build_split(record, "val", path, options)
        sampler = train_sampler(train, world, seed=0, drop_last=False)
        sampler.set_epoch(0)
        train_indices = list(sampler)
        train_labels = [read_item(train, i, name, f"train[{i}]")[1] for i in train_indices]
        val_indices = list(StridedSampler(val, world))
        val_items = [read_item(val, i, name, f"val[{i}]") for i in val_indices[:COMPARED]]
        share = {
            "train_indices": train_indices,
            "train_labels": train_labels,
            "train_size": len(train),
            "val_indices": val_indices,
            "val_items": val_items,
            "val_size": len(val),
        }
        gathered: list[Any] = [None] * WORLD_SIZE
        torch_dist.all_gather_object(gathered, share)
        if rank == 0:
            torch.save(gathered, Path(out) / "shares.pt")
    finally:
        torch_dist.destroy_process_group()


def check_distributed_sampling(
    name: str,
    data_path: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Two gloo ranks split both sets as the trainer does, with the single-process samples."""
    from stgcn.plugins.kinds import DATASETS
    from stgcn.plugins.registry import get_registry

    record = get_registry().get(DATASETS, name)
    path = Path(data_path) if data_path is not None else None
    train = build_split(record, "train", path, options)
    val = build_split(record, "val", path, options)
    with tempfile.TemporaryDirectory(prefix="stgcn-contract-") as out:
        try:
            mp.spawn(
                _share,
                args=(
                    _free_port(),
                    name,
                    str(path) if path is not None else None,
                    dict(options or {}),
                    out,
                ),
                nprocs=WORLD_SIZE,
                join=True,
            )
        except mp.ProcessRaisedException as error:
            lines = str(error).strip().splitlines()
            raise ContractError(
                f"dataset {name!r}: a rank of the 2-process check failed: {lines[-1]}"
            ) from None
        shares = torch.load(Path(out) / "shares.pt", weights_only=False)
    for rank, share in enumerate(shares):
        require(
            (share["train_size"], share["val_size"]) == (len(train), len(val)),
            name,
            f"rank {rank} built splits of {share['train_size']} and {share['val_size']} "
            f"samples, one process {len(train)} and {len(val)}",
        )
        expected = [read_item(train, i, name, f"train[{i}]")[1] for i in share["train_indices"]]
        require(
            share["train_labels"] == expected,
            name,
            f"rank {rank}'s training labels differ from one process's",
        )
        single: list[Item] = [
            read_item(val, i, name, f"val[{i}]") for i in share["val_indices"][:COMPARED]
        ]
        require(
            same_items(share["val_items"], single),
            name,
            f"rank {rank}'s validation samples differ from one process's",
        )
    _check_cover(name, "train", [s["train_indices"] for s in shares], len(train), padded=True)
    _check_cover(name, "val", [s["val_indices"] for s in shares], len(val), padded=False)


def _check_cover(
    name: str, split: str, shares: list[list[int]], size: int, *, padded: bool
) -> None:
    every = [index for share in shares for index in share]
    require(set(every) == set(range(size)), name, f"the ranks' {split} shares miss samples")
    repeats = len(every) - size
    allowed = (-size) % WORLD_SIZE if padded else 0
    require(
        repeats == allowed,
        name,
        f"the ranks' {split} shares overlap in {repeats} samples (allowed {allowed})",
    )
    require(
        all(abs(len(a) - len(b)) <= 1 for a in shares for b in shares),
        name,
        f"the ranks' {split} shares are uneven: {[len(s) for s in shares]}",
    )


__all__ = ["ContractError", "check_distributed_sampling"]
