"""The built-in cpu backend: always available, gloo between processes.

bf16 autocast is the default only where the processor has native bf16 matrix
instructions (AVX512-BF16 or AMX); elsewhere it is emulated and several times
slower than fp32, so fp32 is the default there.

malloc keeps freed memory for the next step (``reuse_memory=true``,
:mod:`stgcn.system.allocator`), and two settings follow the processor, each where it
measured faster (docs/performance.md):

- the memory layout (``channels_last=auto``): channels last in bf16 on a CPU with native
  bf16, where oneDNN's bf16 kernels work in that layout (16.4 against 14.0 samples/s on
  a Zen 5), and in fp32 on an AVX-512 CPU; contiguous on AVX2 alone, where channels
  last was slower in fp32 (1.13x the baseline against 1.19x);
- the wide stride-1 temporal convolutions (``temporal=auto``): through the DFT
  (:mod:`stgcn.model.spectral`) on AVX2 alone, where its matrix products run as fast as
  the convolutions; directly on AVX-512, where oneDNN's convolutions run at twice the
  speed of the MKL matrix products the DFT path is made of (fp32 on a Zen 5: 500 against
  200 GFLOP/s on two cores; ST-GCN's training step with channels last and the direct
  convolution 8.6 samples/s, 7.1 at the AVX2 settings).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, cast

import torch

from stgcn.errors import StgcnError
from stgcn.model.network import TEMPORAL_ALGORITHMS, set_temporal_algorithm
from stgcn.plugins.backend import BackendBase
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.records import Backend
from stgcn.plugins.settings import Settings, option, parse_bool
from stgcn.system.allocator import keep_freed_memory

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"


def native_bf16() -> bool:
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def avx512() -> bool:
    """Whether the processor runs AVX-512 (a different question from ``native_bf16``'s:
    the native-bf16 stand-in of the tests leaves it alone)."""
    cpu = getattr(torch, "cpu", None)
    return bool(getattr(cpu, "_is_avx512_supported", lambda: False)())


def _layout(value: object, what: str) -> bool | None:
    """``auto`` (None: decided per machine and precision), true or false."""
    if str(value).strip().lower() == "auto":
        return None
    try:
        return parse_bool(value, what)
    except StgcnError:
        raise StgcnError(f"{what}: expected auto, true or false, got {value!r}") from None


@dataclass(frozen=True)
class CPUSettings(Settings):
    """The cpu backend's ``--backend-option KEY=VALUE`` settings."""

    family: ClassVar[str] = "backend 'cpu'"
    unknown_line: ClassVar[str] = "{family} has no option {key!r} (known: {known})"
    value_line: ClassVar[str] = "backend option {key}"

    channels_last: bool | None = option(None, "channels-last memory format (auto)", parse=_layout)
    compile: bool = option(False, "torch.compile the model (--compile)")
    reuse_memory: bool = option(True, "malloc keeps freed memory for the next step")
    temporal: str = option(
        "auto", "the temporal convolution's path (auto)", choices=("auto", *TEMPORAL_ALGORITHMS)
    )


OPTIONS = tuple(CPUSettings.keys())


class CPUBackend(BackendBase[CPUSettings]):
    """The host's processor; its run settings are :class:`CPUSettings`."""

    name = "cpu"
    description = "CPU (always available; gloo between processes)"
    collective = "gloo"
    precisions: tuple[str, ...] = ("fp32", "bf16")
    device_type = "cpu"
    settings_type = CPUSettings

    # the attributes earlier versions set in ``configure``, read from the settings now
    @property
    def compile(self) -> bool:
        return self.settings.compile

    @property
    def channels_last(self) -> bool | None:
        """None: decided per machine and precision (``channels_last_pays``)."""
        return self.settings.channels_last

    @property
    def reuse_memory(self) -> bool:
        return self.settings.reuse_memory

    @property
    def temporal(self) -> str:
        """How the temporal convolutions run: as asked, else ``temporal_algorithm_pays``."""
        if self.settings.temporal != "auto":
            return self.settings.temporal
        return temporal_algorithm_pays()

    def device_count(self) -> int:
        return os.cpu_count() or 1

    def default_precision(self) -> str:
        return "bf16" if native_bf16() else "fp32"

    def setup(self, local_rank: int) -> torch.device:
        # several workers on one host share its cores rather than each taking all of them
        workers = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        if workers > 1:
            torch.set_num_threads(max(1, self.device_count() // workers))
        if self.settings.reuse_memory:
            keep_freed_memory()
        return torch.device("cpu")

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        set_temporal_algorithm(model, self.temporal)
        if self.uses_channels_last(precision):
            # Module.to takes memory_format, although torch's annotations leave it out
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        # compiling a Module gives a Module (an OptimizedModule wrapping it)
        return cast(torch.nn.Module, torch.compile(model)) if self.settings.compile else model

    def uses_channels_last(self, precision: str) -> bool:
        """The layout the model gets: as asked, else ``channels_last_pays``."""
        if self.settings.channels_last is not None:
            return self.settings.channels_last
        return channels_last_pays(precision)


def channels_last_pays(precision: str) -> bool:
    """Where channels last measured faster: bf16 with native bf16 instructions, fp32 on
    AVX-512 (with the direct temporal convolution, ``temporal_algorithm_pays``). In fp32
    on AVX2 alone, and in emulated bf16 (unmeasured, and several times slower than fp32
    anyway), the contiguous layout stays. Each run asks the processor only the question
    its precision needs: the native-bf16 stand-in of the tests changes that one answer,
    and an fp32 run must not depend on it."""
    if precision == "bf16":
        return native_bf16()
    return precision == "fp32" and avx512()


def temporal_algorithm_pays() -> str:
    """``dft`` on AVX2 alone, where MKL's fp32 matrix products (the DFT path's three)
    keep pace with oneDNN's convolutions and the DFT's fewer multiply-adds win (1.19-1.21x
    the baseline's training step on an AVX2 EPYC); ``direct`` on AVX-512, where oneDNN's
    convolutions use the wide vectors and MKL's products, on an AMD processor, do not
    (one Zen 5, two threads: a 9x1 convolution of 256 channels at 500 GFLOP/s, the DFT
    path's per-frequency products at 190; ST-GCN's fp32 training step 8.6 samples/s
    directly, 7.3 through the DFT, both channels last). Intel's AVX-512 processors, whose
    MKL products do use the wide vectors, are unmeasured (those with AMX default to
    bf16). bf16 never takes the DFT path (``spectral.applies``)."""
    return "direct" if avx512() else "dft"


@hookimpl
def stgcn_register_backends(register: Callable[[Backend], None]) -> None:
    register(CPUBackend())
