"""Each reason the backend can be unavailable, and the available case.

The torch installed on CPU machines really is built without CUDA and the host really
has no driver, so those branches are tested for real there. The branches that need
a CUDA build of torch, a driver or GPUs replace torch.cuda functions or the driver
loader with stand-ins (named in each test), since that hardware is not here.
"""

from __future__ import annotations

import ctypes
import warnings

import pytest
import torch
from stgcn_backend_cuda import CUDABackend, availability
from stgcn_backend_cuda.availability import probe

from stgcn.records import Backend


def _as_cuda_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in: torch reports itself as a CUDA build."""
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.version, "hip", None)


def _with_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in: the driver library loads."""
    monkeypatch.setattr(availability, "driver_error", lambda: None)


def _device_count(monkeypatch: pytest.MonkeyPatch, count: int, warning: str | None = None):
    """Stand-in for torch.cuda.device_count, optionally warning as torch's C++ side does."""
    calls = []

    def device_count() -> int:
        calls.append(1)
        if warning:
            warnings.warn(warning, UserWarning, stacklevel=1)
        return count

    monkeypatch.setattr(torch.cuda, "device_count", device_count)
    return calls


@pytest.mark.skipif(torch.backends.cuda.is_built(), reason="this torch is a CUDA build")
def test_cpu_only_torch_is_unavailable_with_an_install_hint() -> None:
    """Real: the CPU build of torch installed here."""
    result = probe()
    assert result.available is False
    release = torch.__version__.split("+")[0]
    assert result.reason.startswith(f"torch {torch.__version__} was built without CUDA; ")
    assert f"pip install torch=={release} --index-url https://download.pytorch.org/whl/cu" in (
        result.reason
    )


def test_cpu_only_reason_names_the_release_to_install() -> None:
    reason = availability.cpu_only_reason("2.13.0+cpu")
    assert "torch 2.13.0+cpu was built without CUDA" in reason
    assert "pip install torch==2.13.0 --index-url" in reason


def test_rocm_build_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in: torch.version.hip set, as on a ROCm build."""
    _as_cuda_build(monkeypatch)
    monkeypatch.setattr(torch.version, "hip", "6.4.0")
    result = probe()
    assert result.available is False
    assert "is a ROCm (AMD) build" in result.reason


def test_missing_driver_library_is_reported_for_real_here(monkeypatch) -> None:
    """Stand-in CUDA build of torch; the driver loader is real and finds no driver here."""
    if availability.driver_error() is None:
        pytest.skip("this host has the NVIDIA driver library")
    _as_cuda_build(monkeypatch)
    result = probe()
    assert result.available is False
    assert result.reason.startswith(f"no NVIDIA driver found ({availability.DRIVER_LIBRARY}")
    assert result.reason.endswith("install the NVIDIA driver")


def test_missing_driver_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins: a CUDA build of torch, a driver loader that fails as dlopen does."""
    _as_cuda_build(monkeypatch)
    monkeypatch.setattr(
        availability, "driver_error", lambda: "libcuda.so.1: cannot open shared object file"
    )
    calls = _device_count(monkeypatch, 0)
    result = probe()
    assert result.reason == (
        "no NVIDIA driver found (libcuda.so.1: cannot open shared object file); "
        "install the NVIDIA driver"
    )
    assert calls == [], "no device query once the driver is known to be missing"


def test_driver_loader_reports_the_loader_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for ctypes.CDLL raising as dlopen does; and loading when it does not."""

    def missing(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert availability.driver_error() == (
        f"{availability.DRIVER_LIBRARY}: cannot open shared object file: No such file or directory"
    )
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())
    assert availability.driver_error() is None


def test_driver_without_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins: CUDA build, driver present, torch.cuda.device_count() == 0."""
    _as_cuda_build(monkeypatch)
    _with_driver(monkeypatch)
    _device_count(monkeypatch, 0)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert probe().reason == "the NVIDIA driver is installed but shows no GPU"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert probe().reason == (
        "the NVIDIA driver is installed but shows no GPU (CUDA_VISIBLE_DEVICES='')"
    )


def test_driver_that_cannot_start_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in device count that warns the way torch does when cuInit fails."""
    _as_cuda_build(monkeypatch)
    _with_driver(monkeypatch)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _device_count(
        monkeypatch,
        0,
        "CUDA initialization: The NVIDIA driver on your system is too old "
        "(found version 11040).\nPlease update your GPU driver.",
    )
    assert probe().reason == (
        "the NVIDIA driver cannot start CUDA: CUDA initialization: The NVIDIA driver on "
        "your system is too old (found version 11040)."
    )


def test_gpus_present_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins: CUDA build, driver present, two GPUs counted."""
    _as_cuda_build(monkeypatch)
    _with_driver(monkeypatch)
    _device_count(monkeypatch, 2)
    result = probe()
    assert result.available is True and result.reason == ""


def test_backend_asks_the_host_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing and then running asks twice; the device query runs once (stand-in count)."""
    _as_cuda_build(monkeypatch)
    _with_driver(monkeypatch)
    calls = _device_count(monkeypatch, 0)
    backend = CUDABackend()
    first, second = backend.availability(), backend.availability()
    assert first is second and first.available is False
    assert len(calls) == 1


def test_backend_satisfies_the_protocol() -> None:
    backend = CUDABackend()
    assert isinstance(backend, Backend)
    assert (backend.name, backend.collective) == ("cuda", "nccl")
    assert backend.precisions == ("fp32", "bf16", "fp16")
    assert backend.pin_memory is True


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "fp16")])
def test_default_precision_follows_native_bf16(monkeypatch, native, expected) -> None:
    """Stand-in for torch.cuda.is_bf16_supported; emulated bf16 must not count."""
    asked = []

    def is_bf16_supported(including_emulation: bool = True) -> bool:
        asked.append(including_emulation)
        return native

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    assert CUDABackend().default_precision() == expected
    assert asked == [False]
