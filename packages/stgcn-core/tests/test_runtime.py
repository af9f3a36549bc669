"""The runtime (:mod:`stgcn.training.runtime`): the one place that starts the device,
prepares the model and builds the precision, in the backends' order, with a backend's
own bug as one line wherever the model is prepared (the bench included)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import torch

from stgcn.backends.cpu import CPUBackend
from stgcn.bench.measure import BenchRequest, bench_training
from stgcn.errors import PluginError
from stgcn.model.network import STGCN
from stgcn.plugins.backend import Precision
from stgcn.training.runtime import Runtime, start_device


class RecordingBackend(CPUBackend):
    """The cpu backend, writing down each call the runtime makes into it."""

    name = "recording"

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    def setup(self, local_rank: int) -> torch.device:
        self.calls.append(f"setup({local_rank})")
        return torch.device("cpu")

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        self.calls.append(f"prepare_model({precision})")
        return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def precision_part(self, precision: str) -> Precision | None:
        self.calls.append(f"precision_part({precision})")
        return None


class BrokenBackend(CPUBackend):
    """A backend plugin with a bug in ``place``."""

    name = "broken"

    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place

    def setup(self, local_rank: int) -> torch.device:
        if self.place == "setup":
            raise RuntimeError("no such device")
        return torch.device("cpu")

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        raise KeyError("prepare_model bug")


def _network() -> STGCN:
    torch.manual_seed(0)
    return STGCN(4, "openpose", "spatial", in_channels=3)


def test_prepare_calls_the_backend_in_its_order_and_distributes_before_the_precision() -> None:
    calls: list[str] = []
    wrapped: list[torch.nn.Module] = []

    def distribute(model: torch.nn.Module) -> torch.nn.Module:
        calls.append("distribute")
        wrapped.append(model)
        return model

    runtime = Runtime.prepare(RecordingBackend(calls), "fp32", _network(), None, distribute)
    assert calls == ["setup(0)", "prepare_model(fp32)", "distribute", "precision_part(fp32)"]
    assert runtime.device == torch.device("cpu") and wrapped == [runtime.model]
    assert runtime.precision.name == "fp32" and runtime.precision.scaler is None
    # the prepared model is the backend's (its memory format), not the one passed in
    weight = next(p for p in runtime.model.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)


def test_a_given_device_is_not_started_again() -> None:
    calls: list[str] = []
    backend = RecordingBackend(calls)
    device = start_device(backend, 0)
    Runtime.prepare(backend, "fp32", _network(), device)
    assert calls.count("setup(0)") == 1


@pytest.mark.parametrize("place", ["setup", "prepare_model"])
def test_a_backend_bug_is_one_line_naming_the_backend_and_the_place(place: str) -> None:
    with pytest.raises(PluginError) as raised:
        Runtime.prepare(BrokenBackend(place), "fp32", _network())
    line = str(raised.value)
    assert "'broken'" in line and place in line and len(line.splitlines()) == 1


def test_the_bench_prepares_through_the_runtime_and_its_errors() -> None:
    """``stgcn bench`` called ``backend.setup`` and ``prepare_model`` unguarded: a
    backend's bug there was a traceback."""
    request = BenchRequest(batch_size=1, frames=8, persons=1, steps=1, warmup=0)
    for place in ("setup", "prepare_model"):
        with pytest.raises(PluginError, match=place):
            bench_training(BrokenBackend(place), "fp32", request)


def test_as_is_computes_with_the_model_as_it_was_loaded() -> None:
    model = _network().eval()
    runtime = Runtime.as_is(model)
    assert runtime.model is model and runtime.device == torch.device("cpu")
    x = torch.randn(2, 3, 8, 18, 2)
    with torch.inference_mode():
        expected = model(x)
    torch.testing.assert_close(runtime.infer(x), expected, rtol=0, atol=0)
    assert runtime.backend is None
    runtime.synchronize()  # nothing to wait for: no backend


def test_plain_keeps_the_model_unprepared_in_the_backends_precision() -> None:
    calls: list[str] = []
    backend = RecordingBackend(calls)
    model = _network()
    runtime = Runtime.plain(backend, model, torch.device("cpu"), "fp32")
    assert runtime.model is model and calls == ["precision_part(fp32)"]


def test_infer_runs_under_the_precisions_autocast() -> None:
    entered: list[str] = []

    @contextlib.contextmanager
    def autocast() -> Any:
        entered.append("autocast")
        yield

    model = torch.nn.Linear(3, 2)
    runtime = Runtime(torch.device("cpu"), model, Precision("bf16", autocast))
    assert runtime.infer(torch.ones(1, 3)).shape == (1, 2)
    assert entered == ["autocast"]
