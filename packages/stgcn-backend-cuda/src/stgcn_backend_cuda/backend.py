"""The cuda backend: one process per GPU (cuda:LOCAL_RANK), NCCL between them.

Mixed precision: bf16 autocast where the GPU has native bf16 (compute capability
8.0 and newer), fp16 with a loss scaler elsewhere or on request, plain fp32 always.
The tuning knobs (channels-last, torch.compile, CUDA graphs, cuDNN autotuning, TF32,
determinism) are ``--backend-option`` settings, described in settings.py.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any, cast

import torch

from stgcn.errors import StgcnError
from stgcn.plugins.backend import autocast_for
from stgcn.records import Availability, BackendBase
from stgcn_backend_cuda.availability import probe
from stgcn_backend_cuda.graphs import graph_training_steps
from stgcn_backend_cuda.settings import CudaSettings

#: cuBLAS needs a fixed workspace layout to give the same bits on every run.
CUBLAS_DETERMINISTIC_WORKSPACE = ":4096:8"


def native_bf16() -> bool:
    """True where the current GPU computes in bf16 natively, not through fp32 emulation."""
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch before the emulation flag: it answered for native support
        return bool(torch.cuda.is_bf16_supported())


def apply_global_flags(settings: CudaSettings) -> None:
    """Set torch's process-wide cuDNN, TF32 and determinism switches from ``settings``."""
    torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    torch.backends.cudnn.deterministic = settings.deterministic
    # The older allow_tf32 switches, not fp32_precision: once the newer ones are set,
    # torch refuses to read the older ones, which torch.compile still does.
    torch.backends.cuda.matmul.allow_tf32 = settings.tf32
    torch.backends.cudnn.allow_tf32 = settings.tf32
    if settings.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_DETERMINISTIC_WORKSPACE)
    # only when it changes something: the switch imports torch's compiler stack (seconds)
    if settings.deterministic or torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(settings.deterministic, warn_only=True)


def _distributed_world_size() -> int:
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        return distributed.get_world_size()
    return 1


class CUDABackend(BackendBase[CudaSettings]):
    """One run's GPUs; its run settings are :class:`CudaSettings` (``for_run``)."""

    name = "cuda"
    description = "NVIDIA GPUs through CUDA (NCCL between cards; bf16 or fp16 autocast)"
    collective = "nccl"
    precisions: tuple[str, ...] = ("fp32", "bf16", "fp16")
    device_type = "cuda"
    settings_type = CudaSettings
    #: DataLoaders feeding this backend should use pinned host memory: the trainer's
    #: ``non_blocking=True`` copies then overlap with the GPU's work.
    pin_memory = True

    def __init__(self, settings: CudaSettings | None = None) -> None:
        super().__init__(settings)
        self._availability: Availability | None = None

    def parse_settings(self, options: Mapping[str, str]) -> CudaSettings:
        return CudaSettings.from_options(options)

    def availability(self) -> Availability:
        if self._availability is None:
            self._availability = probe()
        return self._availability

    def device_count(self) -> int:
        return torch.cuda.device_count()

    def default_precision(self) -> str:
        return "bf16" if native_bf16() else "fp16"

    def setup(self, local_rank: int) -> torch.device:
        count = torch.cuda.device_count()
        if not 0 <= local_rank < count:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            hint = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
            raise StgcnError(
                f"no GPU with local rank {local_rank}: this host shows {count} GPU(s){hint}"
            )
        torch.cuda.set_device(local_rank)
        apply_global_flags(self.settings)
        return torch.device("cuda", local_rank)

    def autocast(self, precision: str) -> contextlib.AbstractContextManager[Any]:
        # graphs recorded under autocast must not reuse its cast cache across steps
        return autocast_for("cuda", precision, cache_enabled=not self.settings.cuda_graphs)

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        if precision == "bf16" and not native_bf16():
            raise StgcnError(
                f"{torch.cuda.get_device_name()} has no native bf16 (it needs compute "
                "capability 8.0 or newer); use --precision fp16 or fp32"
            )
        settings = self.settings
        if settings.channels_last:
            # Module.to takes memory_format, which torch's overloads leave out
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        if settings.compile:
            mode = "reduce-overhead" if settings.cuda_graphs else None
            # torch.compile of a Module is a Module (OptimizedModule); it is typed as a callable
            return cast(torch.nn.Module, torch.compile(model, mode=mode))
        if settings.cuda_graphs:
            if _distributed_world_size() > 1:
                raise StgcnError(
                    "cuda_graphs=true records graphs on one card only; with several cards "
                    "add --compile (torch.compile then records them) or leave cuda_graphs off"
                )
            graph_training_steps(model)
        return model

    def synchronize(self) -> None:
        torch.cuda.synchronize()

    def rng_state(self) -> torch.Tensor | None:
        return torch.cuda.get_rng_state()

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        if state is not None:
            torch.cuda.set_rng_state(state)
