"""Training-step throughput on random Kinetics-shaped input.

The figure is the seed's FPS: samples per second of whole training steps
(forward, backward, optimizer), warm-up steps excluded, the device synchronised
around each step, the median step taken so that one slow step does not decide it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from stgcn.model import STGCN
from stgcn.records import Backend
from stgcn.train import training_step

KINETICS_CLASSES = 400


@dataclass
class BenchResult:
    samples_per_s: float
    median_step_s: float
    backend: str
    precision: str
    batch_size: int
    frames: int
    persons: int
    steps: int
    warmup: int
    device: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def bench_training(
    backend: Backend,
    precision: str,
    batch_size: int = 16,
    frames: int = 150,
    persons: int = 2,
    steps: int = 10,
    warmup: int = 3,
    seed: int = 0,
) -> BenchResult:
    torch.manual_seed(seed)
    device = backend.setup(0)
    model = STGCN(KINETICS_CLASSES, layout="openpose", strategy="spatial").to(device)
    model = backend.prepare_model(model, precision)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    scaler = backend.grad_scaler(precision)
    x = torch.randn(batch_size, 3, frames, 18, persons, device=device)
    y = torch.randint(0, KINETICS_CLASSES, (batch_size,), device=device)
    times = []
    for step in range(warmup + steps):
        backend.synchronize()
        start = time.perf_counter()
        training_step(model, x, y, optimizer, scaler, backend, precision)
        backend.synchronize()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return BenchResult(
        samples_per_s=batch_size / median,
        median_step_s=median,
        backend=backend.name,
        precision=precision,
        batch_size=batch_size,
        frames=frames,
        persons=persons,
        steps=steps,
        warmup=warmup,
        device=str(device),
    )
