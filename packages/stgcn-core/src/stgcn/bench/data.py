"""How fast a dataset delivers training batches (``stgcn bench --with-data``).

The loader is the trainer's kind (shuffled, ``num_workers`` processes, batches moved
to the device); the figure is samples per second over whole batches after the first,
which pays for starting the workers. Where the dataset offers a batched augmentation,
the same data is also timed with augmentation done per batch on the device instead of
per clip in the loader.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from stgcn.data.streams import build_split
from stgcn.errors import StgcnError
from stgcn.plugins.records import Backend, Dataset, RunBackend
from stgcn.training.runtime import start_device


def _rate(
    loader: DataLoader[Any], batches: int, device: torch.device, backend: Backend, augment: Any
) -> float:
    iterator = iter(loader)
    samples, start = 0, None
    for index in range(batches + 1):
        try:
            x, _ = next(iterator)
        except StopIteration:
            break
        x = x.to(device, non_blocking=True)
        if augment is not None:
            x = augment(x)
        backend.synchronize()
        if index == 0:
            start = time.perf_counter()
        else:
            samples += x.shape[0]
    if start is None or samples == 0:
        raise StgcnError(
            "--with-data: the training split has fewer than two batches; use a smaller --batch-size"
        )
    return samples / (time.perf_counter() - start)


@dataclass(frozen=True)
class DataBenchRequest:
    """What ``--with-data`` times: the dataset's folder (``data_path``) read with
    ``options``, ``batches`` batches of ``batch_size`` after the first, by ``workers``
    loader processes, shuffled from ``seed``."""

    data_path: str | Path | None
    options: Mapping[str, Any]
    batch_size: int
    batches: int
    workers: int
    seed: int = 0


def bench_data(dataset: Dataset, backend: RunBackend, request: DataBenchRequest) -> dict[str, Any]:
    """Samples per second of ``dataset``'s training batches on ``backend``'s device,
    augmented per clip in the loader, and where the dataset offers it, per batch on the
    device."""
    device = start_device(backend)
    data_path = dataset.data_path_for(request.data_path)
    options, seed, workers = request.options, request.seed, request.workers

    def loader(split_options: Mapping[str, Any]) -> DataLoader[Any]:
        torch.manual_seed(seed)
        built, _ = build_split(dataset, "train", data_path, split_options)
        return DataLoader(
            built,
            batch_size=request.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            generator=torch.Generator().manual_seed(seed),
        )

    batches = request.batches
    result: dict[str, Any] = {
        "dataset": dataset.name,
        "workers": workers,
        "per_clip_samples_per_s": _rate(loader(options), batches, device, backend, None),
        "batched_samples_per_s": None,
    }
    if dataset.augment_batch is not None:
        off = {**options, **dataset.batch_augment_options}
        augment = dataset.augment_batch
        rate = _rate(loader(off), batches, device, backend, lambda x: augment(x, options))
        result["batched_samples_per_s"] = rate
    return result
