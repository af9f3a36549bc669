"""The backend API: an accelerator part with declared defaults, created per run from frozen
settings; a backend that is no BackendBase is refused in one line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import torch

from stgcn.backends.cpu import CPUBackend, CPUSettings
from stgcn.errors import StgcnError
from stgcn.plugins.backend import BackendBase
from stgcn.plugins.kinds import BACKENDS
from stgcn.plugins.registry import Registry, get_registry
from stgcn.records import Accelerator, Availability, Backend, RunBackend
from stgcn.testing.helpers import TINY, make_distribution, run_stgcn

#: a backend as a third party wrote it against plugin API 1.0-1.3 (the members of
#: ``Backend`` only, configured in place), declared for 2.0 so that it loads
OLD_STYLE_BACKEND = """
import contextlib
from pathlib import Path

import torch

from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.records import Availability

STGCN_API = ">=2,<3"


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


def test_a_backend_that_is_no_backend_base_is_refused_in_one_line(
    site: Path, tmp_path: Path
) -> None:
    make_distribution(site, "fake-old-backend", "0.1", "fake_old_backend", OLD_STYLE_BACKEND)
    work, marker = tmp_path / "run", tmp_path / "marker"
    options = ["--backend", "oldcpu", "--backend-option", f"marker={marker}"]
    result = run_stgcn("run", *TINY, "--epochs", "1", *options, "--work-dir", str(work), site=site)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "stgcn: error: backend 'oldcpu' (OldCPU) is not a stgcn.records.BackendBase, which "
        "plugin API 2.0 requires of a backend; see docs/plugins.md#migrating-from-1x"
    ]
    assert not marker.exists() and not work.exists(), "refused before anything ran"
    listing = run_stgcn("plugins", site=site)
    assert listing.returncode == 0 and "oldcpu" in listing.stdout, "still listed"


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
