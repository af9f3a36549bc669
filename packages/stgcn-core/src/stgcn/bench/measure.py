"""Throughput of training steps and of inference on random Kinetics-shaped input.

The figure is the seed's FPS: samples per second of whole steps (forward, backward,
optimizer in training; forward alone in evaluation), warm-up steps excluded, the
device synchronised around each step, the median step taken so that one slow step
does not decide it.

Any figure alone says little on a shared or throttled machine, so ``baseline=True``
also times :class:`stgcn.bench.baseline.BaselineSTGCN` (plain fp32 eager, the reference's
einsum graph convolution) under the same harness, in the same process: the ratio of the
two is what a performance claim should quote. Their timed steps alternate, one of each
in turn, because on a shared VM the speed drifts by 10-20% within minutes: timed one
block after the other, the drift went into the ratio (the same change measured 1.01x
to 1.08x in consecutive runs, against 1.13x interleaved).
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from stgcn.bench.baseline import BaselineSTGCN
from stgcn.bench.peak import gflop_per_sample, matmul_peak_gflops, reference_gflop_per_sample
from stgcn.bench.profile import Profile, profile_steps
from stgcn.bench.reference.process import ReferenceJob, ReferenceProcess
from stgcn.bench.timing import Stepper, TimedStep
from stgcn.errors import StgcnError
from stgcn.model.contract import ModelSpec, SkeletonModel, as_module
from stgcn.networks.loading import DEFAULT_MODEL, build_named
from stgcn.plugins.layouts import layout_named
from stgcn.plugins.records import RunBackend
from stgcn.training.runtime import Runtime, start_device
from stgcn.training.step import training_step

KINETICS_CLASSES = 400
MODES = ("train", "eval")
ENGINES = ("torch", "onnxruntime")


@dataclass
class Timing:
    """One model's figures under the harness."""

    samples_per_s: float
    median_step_s: float
    peak_rss_mib: float | None
    device_memory_mib: float | None
    #: the process's RSS before the steps (torch, the model, its input): the peak less
    #: this is what the steps held
    rss_start_mib: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    mode: str = "train"
    engine: str = "torch"
    model: str = DEFAULT_MODEL
    peak_rss_mib: float | None = None
    device_memory_mib: float | None = None
    #: the process's RSS as the steps began; peak_rss_mib less this is the steps' own
    rss_start_mib: float | None = None
    #: the baseline's figures from the same run, and samples_per_s over its samples_per_s
    baseline: Timing | None = None
    ratio: float | None = None
    #: the reference network in a process of its own with glibc's default malloc
    #: (``--reference``, :mod:`stgcn.bench.reference`), and samples_per_s over its samples_per_s
    reference: Timing | None = None
    reference_ratio: float | None = None
    #: figures of the data pipeline (``--with-data``), beside the model's
    data: dict[str, Any] | None = field(default=None)
    #: the reference network's GFLOP per sample's step (another model's own), and at
    #: samples_per_s the GFLOP/s
    #: that makes; the best matmul GFLOP/s of this device in this precision, and the share
    gflop_per_sample: float | None = None
    gflop_per_s: float | None = None
    matmul_peak_gflop_per_s: float | None = None
    peak_share: float | None = None
    #: the top operators by self time of the benched step (``--profile``)
    profile: Profile | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["profile"] = self.profile.to_dict() if self.profile else None
        out["baseline"] = self.baseline.to_dict() if self.baseline else None
        out["reference"] = self.reference.to_dict() if self.reference else None
        return out

    def describe(self) -> list[str]:
        """The lines ``stgcn bench`` prints: throughput and memory, the share of the
        device's peak, and each comparison that was asked for."""
        what = "inference" if self.mode == "eval" else "training"
        device = f", device {self.device_memory_mib} MiB)" if self.device_memory_mib else ")"
        own = self.model == DEFAULT_MODEL  # ST-GCN's lines are as they were; others name it
        counted = "the reference network's" if own else f"{self.model}'s"
        named = "" if own else f"{self.model}, "
        lines = [
            f"{self.samples_per_s:.2f} samples/s {what}  ({named}{self.backend}, {self.precision}, "
            f"{self.engine}, batch {self.batch_size} x {self.frames} frames x {self.persons} "
            f"persons, median of {self.steps} steps; peak RSS {self.peak_rss_mib} MiB"
            + _held_by_steps(self.peak_rss_mib, self.rss_start_mib)
            + device,
            f"{self.gflop_per_s:.1f} GFLOP/s of {counted} work "
            f"({self.gflop_per_sample:.1f} GFLOP per sample), {self.peak_share:.0%} of this "
            f"device's {self.precision} matmul peak ({self.matmul_peak_gflop_per_s:.0f} GFLOP/s)",
        ]
        if self.baseline is not None:
            lines.append(
                f"{self.baseline.samples_per_s:.2f} samples/s baseline (fp32 eager einsum; "
                f"peak RSS {self.baseline.peak_rss_mib} MiB)  ratio {self.ratio:.2f}x"
            )
        if self.reference is not None:
            lines.append(
                f"{self.reference.samples_per_s:.2f} samples/s reference (its own process, "
                f"glibc's malloc; peak RSS {self.reference.peak_rss_mib} MiB)  "
                f"ratio {self.reference_ratio:.2f}x"
            )
        if self.data is not None:
            batched = self.data["batched_samples_per_s"]
            lines.append(
                f"{self.data['per_clip_samples_per_s']:.1f} samples/s data, augmented per clip"
                + (f"; {batched:.1f} augmented per batch" if batched else "")
                + f" ({self.data['workers']} workers)"
            )
        if self.profile is not None:
            lines.extend(self.profile.describe())
        return lines


def _held_by_steps(peak_mib: float | None, start_mib: float | None) -> str:
    """`` (N MiB above the start)``: the peak RSS is the whole process's, torch's import
    and the model included; this says how much of it the steps themselves held."""
    if peak_mib is None or start_mib is None:
        return ""
    return f", {peak_mib - start_mib:.1f} MiB above the {start_mib} MiB before the steps"


def check_sizes(batch_size: int, frames: int, persons: int, steps: int, workers: int) -> None:
    """Refuse sizes no measurement can take, naming the ``stgcn bench`` option."""
    for option, value in (
        ("batch-size", batch_size),
        ("frames", frames),
        ("persons", persons),
        ("steps", steps),
    ):
        if value < 1:
            raise StgcnError(f"--{option} must be at least 1")
    if workers < 0:
        raise StgcnError("--workers must be at least 0")


def _timed(models: list[Stepper], steps: int, warmup: int, batch_size: int) -> list[Timing]:
    """Warm each model up alone, then time their steps in turn, one of each per round."""
    memories = [model.warm_up(warmup) for model in models]
    seconds: list[list[float]] = [[] for _ in models]
    for _ in range(steps):
        for model, times in zip(models, seconds, strict=True):
            times.append(model.seconds())
    timings = []
    for model, times, (rss, device_mib) in zip(models, seconds, memories, strict=True):
        median = statistics.median(times)
        start = getattr(model, "rss_start_mib", None)  # the reference's process: not known
        timings.append(Timing(batch_size / median, median, rss, device_mib, start))
    return timings


def _train_step(runtime: Runtime, x: torch.Tensor, y: torch.Tensor) -> Callable[[], Any]:
    model = runtime.model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model.train()
    return lambda: training_step(model, x, y, optimizer, runtime.precision)


def _eval_step(runtime: Runtime, x: torch.Tensor) -> Callable[[], Any]:
    runtime.model.eval()
    return lambda: runtime.infer(x)


def _torch_step(mode: str, runtime: Runtime, x: torch.Tensor, y: torch.Tensor) -> TimedStep:
    """``runtime``'s step in ``mode`` under the harness."""
    step = _train_step(runtime, x, y) if mode == "train" else _eval_step(runtime, x)
    return TimedStep(step, runtime.synchronize, runtime.device)


def _onnx_step(network: SkeletonModel, x: torch.Tensor) -> Callable[[], Any]:
    """Inference in onnxruntime on a file written by the installed ``onnx`` exporter."""
    import tempfile
    from pathlib import Path

    from stgcn.plugins.kinds import EXPORTERS
    from stgcn.plugins.records import ExportRequest
    from stgcn.plugins.registry import get_registry

    try:
        exporter = get_registry().get(EXPORTERS, "onnx")
        import onnxruntime
    except (StgcnError, ImportError):
        raise StgcnError(
            "--engine onnxruntime needs the onnx exporter: pip install stgcn-export"
        ) from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.onnx"
        as_module(network).cpu().eval()
        exporter.export(ExportRequest(network, path, {"verify": False}))
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # torch's thread count (OMP_NUM_THREADS, torch.set_num_threads) for both engines,
        # so that a comparison of the two is one of engines, not of thread pools
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    name = session.get_inputs()[0].name
    array = x.cpu().numpy()
    return lambda: session.run(None, {name: array})


@dataclass(frozen=True)
class BenchRequest:
    """What to time (``stgcn bench``'s options): the input's shape (``batch_size`` clips of
    ``frames`` frames and ``persons`` people, Kinetics' 18 joints), ``steps`` timed after
    ``warmup``, the seed of the weights and input, training or inference (``mode``) on
    which ``engine``, and the comparisons: the plain ``baseline`` in this process, the
    ``reference`` in its own."""

    batch_size: int = 16
    frames: int = 150
    persons: int = 2
    steps: int = 10
    warmup: int = 3
    seed: int = 0
    baseline: bool = False
    mode: str = "train"
    engine: str = "torch"
    reference: bool = False
    #: the registered model timed (``--model``); the comparisons are ST-GCN's own
    model: str = DEFAULT_MODEL
    #: with more than 0, profile the benched step and keep this many operators
    profile_rows: int = 0

    def check(self) -> None:
        """Refuse a mode or engine that is not one, an engine the mode cannot use, or a
        comparison with the reference's ST-GCN for another model."""
        mode, engine = self.mode, self.engine
        if self.model != DEFAULT_MODEL and (self.baseline or self.reference):
            raise StgcnError(
                f"--baseline and --reference time the reference's ST-GCN beside stgcn's; "
                f"bench --model {self.model} without them, and --model {DEFAULT_MODEL} with them"
            )
        if mode not in MODES:
            raise StgcnError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
        if engine not in ENGINES:
            raise StgcnError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
        if engine == "onnxruntime" and mode != "eval":
            raise StgcnError("--engine onnxruntime measures inference: add --mode eval")


def bench_training(
    backend: RunBackend, precision: str, request: BenchRequest = BenchRequest()
) -> BenchResult:
    """Time the backend's model (``prepare_model`` applied) and, with ``baseline``, the
    plain fp32 eager baseline with the same weights and input on the same device; with
    ``reference``, the same baseline once more in a process of its own, as the reference
    implementation runs (:mod:`stgcn.bench.reference`)."""
    request.check()
    mode, batch_size, frames, persons = (
        request.mode,
        request.batch_size,
        request.frames,
        request.persons,
    )
    torch.manual_seed(request.seed)
    device = start_device(backend)
    x = torch.randn(batch_size, 3, frames, 18, persons, device=device)
    y = torch.randint(0, KINETICS_CLASSES, (batch_size,), device=device)
    spec = ModelSpec(KINETICS_CLASSES, 3, layout_named("openpose"), persons)
    network = build_named(request.model, spec)  # with the model's default options
    model = as_module(network)
    if request.model == DEFAULT_MODEL:
        work = reference_gflop_per_sample(frames, persons, KINETICS_CLASSES, mode)
    else:  # another network's own FLOPs: the reference's would flatter a smaller one
        work = gflop_per_sample(model, torch.zeros(1, 3, frames, 18, persons), mode)
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    models: list[Stepper]
    if request.engine == "onnxruntime":
        precision = "fp32"  # the export is fp32 whatever the backend's default
        model.to(device)
        models = [TimedStep(_onnx_step(network, x), lambda: None, torch.device("cpu"))]
    else:
        runtime = Runtime.prepare(backend, precision, model, device)
        models = [_torch_step(mode, runtime, x, y)]
    if request.baseline:
        plain = BaselineSTGCN(KINETICS_CLASSES, layout="openpose", strategy="spatial")
        plain.load_state_dict(weights)
        models.append(_torch_step(mode, Runtime.plain(backend, plain, device, "fp32"), x, y))
    with contextlib.ExitStack() as stack:
        if request.reference:
            job = ReferenceJob(
                mode,
                batch_size,
                frames,
                persons,
                KINETICS_CLASSES,
                request.seed,
                str(device),
                torch.get_num_threads(),
            )
            models.append(stack.enter_context(ReferenceProcess(job)))
        timing, *rest = _timed(models, request.steps, request.warmup, batch_size)
    profiled = profile_steps(models[0], request.profile_rows) if request.profile_rows else None
    own_process = rest.pop() if request.reference else None
    plain_timing = rest[0] if rest else None
    peak = matmul_peak_gflops(device, precision, backend.synchronize)
    achieved = timing.samples_per_s * work

    return BenchResult(
        model=request.model,
        samples_per_s=timing.samples_per_s,
        median_step_s=timing.median_step_s,
        backend=backend.name,
        precision=precision,
        batch_size=batch_size,
        frames=frames,
        persons=persons,
        steps=request.steps,
        warmup=request.warmup,
        device=str(device),
        mode=mode,
        engine=request.engine,
        peak_rss_mib=timing.peak_rss_mib,
        device_memory_mib=timing.device_memory_mib,
        rss_start_mib=timing.rss_start_mib,
        baseline=plain_timing,
        ratio=timing.samples_per_s / plain_timing.samples_per_s if plain_timing else None,
        reference=own_process,
        reference_ratio=timing.samples_per_s / own_process.samples_per_s if own_process else None,
        gflop_per_sample=work,
        gflop_per_s=achieved,
        matmul_peak_gflop_per_s=peak,
        peak_share=achieved / peak,
        profile=profiled,
    )
