"""Throughput as a share of the machine: achieved GFLOP/s against a measured matmul peak.

Samples per second differ between machines by an order of magnitude, and even a ratio
to the baseline depends on which of the machine's units both use. The work of an ST-GCN step is
counted once, on the reference network (``BaselineSTGCN``: the FLOPs a plain
implementation performs, however few the model under test really spends), so a faster
method shows as more reference GFLOP/s; another model's (``stgcn bench --model``) is
counted on that model itself. Training counts three forward passes per sample
(the forward, and a backward pass of twice its cost), inference one. The peak is the
best of a few large square matmuls in the same precision on the same device, with the
same threads: on a CPU without native bf16 that peak is itself low, and the share says
so honestly. On a CPU each matmul is timed twice, as ``torch.mm`` and as the same product
written as a 1x1 convolution, because the two reach different libraries: in fp32
``torch.mm`` is MKL's and a convolution oneDNN's, and on an AMD processor with AVX-512
MKL keeps to its AVX2 code (one Zen 5, two threads: 190-210 GFLOP/s against oneDNN's
410-420), so the peak of ``torch.mm`` alone put ST-GCN's fp32 step at 148 % of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

#: matmul dtype per training precision
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def reference_gflop_per_sample(frames: int, persons: int, classes: int, mode: str) -> float:
    """GFLOP of one sample's step on the reference network (training: 3 forward passes)."""
    from stgcn.bench.baseline import BaselineSTGCN

    model = BaselineSTGCN(classes, layout="openpose", strategy="spatial")
    return gflop_per_sample(model, torch.zeros(1, 3, frames, 18, persons), mode)


def gflop_per_sample(model: torch.nn.Module, sample: torch.Tensor, mode: str) -> float:
    """GFLOP of one sample's step on ``model`` (training: 3 forward passes), counted by
    torch's FLOP counter on a copy of it in eval mode (its own weights stay as they are)."""
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    counted = copy.deepcopy(model).cpu().eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        counted(sample.cpu())
    forward = counter.get_total_flops() / 1e9
    return forward * (3 if mode == "train" else 1)


def matmul_peak_gflops(
    device: torch.device, precision: str, synchronize: Callable[[], None], repeats: int = 5
) -> float:
    """The best GFLOP/s of ``repeats`` square matmuls (1024 on a CPU, 8192 elsewhere);
    on a CPU also of the same product as a 1x1 convolution (see the module's text)."""
    size = 1024 if device.type == "cpu" else 8192
    dtype = DTYPES[precision]
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    products: list[Callable[[], object]] = [lambda: torch.mm(a, b)]
    if device.type == "cpu":
        # the (M, K) matrix a is 16 images of (K, M/16, 1) channels last; (N, K, 1, 1) is
        # b transposed. One image of M rows ran oneDNN's slower kernel on one thread (104
        # GFLOP/s against 228 in 16 images, on a Zen 5; 393 and 422 on two threads)
        rows = a.view(16, size // 16, 1, size).permute(0, 3, 1, 2)
        weight = b.t().contiguous().view(size, size, 1, 1)
        products.append(lambda: torch.nn.functional.conv2d(rows, weight))
    best = float("inf")
    for product in products:
        product()  # warm-up: kernels chosen, memory touched
        synchronize()
        for _ in range(repeats):
            started = time.perf_counter()
            product()
            synchronize()
            best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9
