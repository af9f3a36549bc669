"""The backend API: an accelerator part with declared defaults, created per run from frozen
settings, and a backend written against the older records still training."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from stgcn.backends.cpu import CPUBackend, CPUSettings
from stgcn.errors import StgcnError
from stgcn.plugins.backend import BackendBase, LegacyBackend, backend_for_run
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import Registry, get_registry
from stgcn.records import Accelerator, Availability, Backend, RunBackend
from stgcn.testing.helpers import TINY, make_distribution, run_stgcn

#: a backend as a third party wrote it against plugin API 1.0-1.3: the members of
#: ``Backend`` only (no pin_memory, collective_timeout, rng_state), configured in place
OLD_STYLE_BACKEND = """
import contextlib
from pathlib import Path

import torch

from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.records import Availability

STGCN_API = ">=1,<2"


class OldCPU:
    name = "oldcpu"
    description = "the processor, as a third-party backend of plugin API 1.0 wrote it"
    collective = "gloo"
    precisions = ("fp32",)

    def __init__(self):
        self.marker = None

    def availability(self):
        return Availability(True)

    def device_count(self):
        return 1

    def default_precision(self):
        return "fp32"

    def configure(self, options):
        unknown = set(options) - {"compile", "marker"}
        if unknown:
            raise StgcnError(f"backend 'oldcpu' has no option {sorted(unknown)[0]!r}")
        self.marker = options.get("marker")

    def setup(self, local_rank):
        if self.marker:
            Path(self.marker).write_text("set up")
        return torch.device("cpu")

    def autocast(self, precision):
        return contextlib.nullcontext()

    def grad_scaler(self, precision):
        return None

    def prepare_model(self, model, precision):
        return model

    def synchronize(self):
        pass


@hookimpl
def stgcn_register_backends(register):
    register(OldCPU())
"""


class OldStyle:
    """The same old-style backend in process, for the adapter's unit tests."""

    name = "old"
    description = "old style"
    collective = "gloo"
    precisions = ("fp32",)

    def __init__(self) -> None:
        self.options: dict[str, str] = {}

    def availability(self) -> Availability:
        return Availability(True)

    def device_count(self) -> int:
        return 1

    def default_precision(self) -> str:
        return "fp32"

    def configure(self, options: dict[str, str]) -> None:
        self.options = dict(options)

    def setup(self, local_rank: int) -> torch.device:
        return torch.device("cpu")

    def autocast(self, precision: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def grad_scaler(self, precision: str) -> None:
        return None

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        return model

    def synchronize(self) -> None:
        return None


def test_an_old_style_backend_plugin_trains_an_epoch(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "fake-old-backend", "0.1", "fake_old_backend", OLD_STYLE_BACKEND)
    work, marker = tmp_path / "run", tmp_path / "marker"
    options = ["--backend", "oldcpu", "--backend-option", f"marker={marker}"]
    result = run_stgcn("run", *TINY, "--epochs", "1", *options, "--work-dir", str(work), site=site)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "set up", "the run's options reached configure before setup"
    assert json.loads((work / "config.json").read_text())["backend"] == "oldcpu"
    lines = (work / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["epoch"] == 1
    refused = run_stgcn("run", *TINY, "--backend", "oldcpu", "--backend-option", "x=1", site=site)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "stgcn: error: backend 'oldcpu' has no option 'x'"
    ]


def test_the_adapter_fills_the_accelerator_defaults() -> None:
    record = OldStyle()
    run = backend_for_run(record, {"compile": "false"})
    assert isinstance(run, LegacyBackend) and isinstance(run, RunBackend)
    assert isinstance(run, Accelerator)
    assert run.pin_memory is False
    assert run.collective_timeout(timedelta(minutes=7)) == timedelta(minutes=7)
    assert run.rng_state() is None
    run.set_rng_state(None)
    assert (run.name, run.collective, run.precisions) == ("old", "gloo", ("fp32",))
    assert run.options == {"compile": "false"}, "the plugin's own attributes read through"
    assert record.options == {}, "the registered record is not configured in place"


def test_the_adapter_keeps_the_optional_members_an_old_backend_has() -> None:
    class WithExtras(OldStyle):
        pin_memory = True

        def collective_timeout(self, requested: timedelta) -> timedelta:
            return requested * 2

    run = backend_for_run(WithExtras(), {})
    assert run.pin_memory is True
    assert run.collective_timeout(timedelta(seconds=3)) == timedelta(seconds=6)


def test_the_base_declares_every_optional_feature() -> None:
    class Minimal(BackendBase):  # type: ignore[type-arg]
        name = "minimal"

    backend = Minimal()
    assert isinstance(backend, RunBackend) and isinstance(backend, Accelerator)
    assert backend.pin_memory is False
    assert backend.collective_timeout(timedelta(minutes=1)) == timedelta(minutes=1)
    assert backend.rng_state() is None
    assert backend.availability() == Availability(True)
    assert backend.default_precision() == "fp32"
    assert backend.setup(0) == torch.device("cpu")
    assert backend.grad_scaler("fp32") is None
    assert isinstance(backend.grad_scaler("fp16"), torch.amp.GradScaler)
    with backend.autocast("bf16"):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    model = torch.nn.Linear(2, 2)
    assert backend.prepare_model(model, "fp32") is model
    assert backend.for_run({"compile": "false"}).settings.compile is False
    with pytest.raises(StgcnError, match=r"^backend 'minimal' has no option 'colour'$"):
        backend.for_run({"colour": "red"})
    with pytest.raises(StgcnError, match=r"^backend 'minimal' does not run torch.compile"):
        backend.for_run({"compile": "true"})


def test_the_registered_record_is_not_mutated_by_a_runs_options() -> None:
    record = CPUBackend()
    registry = Registry({BACKENDS: {"cpu": record}})
    run, precision = registry.ready_backend(
        "cpu", "fp32", {"temporal": "direct", "reuse_memory": "false"}
    )
    assert run is not record and isinstance(run, CPUBackend)
    assert run.settings == CPUSettings(reuse_memory=False, temporal="direct")
    assert record.settings == CPUSettings(), "the record keeps its defaults"
    other, _ = registry.ready_backend("cpu", "fp32", {})
    assert other.settings == CPUSettings(), "a second run sees none of the first's options"
    assert isinstance(record, Backend) and isinstance(run, RunBackend)
    assert precision == "fp32"


def test_the_process_registry_keeps_its_cpu_record_unchanged() -> None:
    registry = get_registry()
    before = registry.get(BACKENDS, "cpu").settings
    registry.ready_backend("cpu", "fp32", {"compile": "true"})
    assert registry.get(BACKENDS, "cpu").settings == before
