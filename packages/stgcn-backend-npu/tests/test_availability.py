"""The order of the availability checks, and that the first problem is the reason."""

from __future__ import annotations

import sys

import pytest
from stgcn_backend_npu.availability import NO_DEVICE, check_npu
from stgcn_backend_npu.cann import CannToolkit
from stgcn_backend_npu.probe import HANDED_DOWN, ProbeResult

CANN_OK = CannToolkit(libraries={"libhccl.so": "/x/libhccl.so", "libascendcl.so": "/x/a.so"})
CANN_MISSING = CannToolkit(libraries={"libhccl.so": None, "libascendcl.so": None})


def never(*_: object) -> None:
    raise AssertionError("a later check ran after an earlier one failed")


@pytest.fixture(autouse=True)
def torch_npu_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing imported, no answer handed down; the one a test hands down is removed."""
    monkeypatch.delitem(sys.modules, "torch_npu", raising=False)
    monkeypatch.setenv(HANDED_DOWN, "")
    monkeypatch.delenv(HANDED_DOWN)


def test_installation_problem_stops_before_cann_and_probe() -> None:
    status = check_npu(lambda: "torch-npu is not installed: ...", never, never)
    assert status.availability.available is False
    assert status.availability.reason == "torch-npu is not installed: ..."
    assert status.device_count == 0


def test_missing_cann_stops_before_the_probe() -> None:
    status = check_npu(lambda: None, lambda: CANN_MISSING, never)
    assert status.availability.reason.startswith("CANN toolkit not found (libhccl.so")


def test_probe_failure_is_the_reason() -> None:
    error = "torch_npu failed to import: ImportError: libge_runner.so: cannot open"
    status = check_npu(lambda: None, lambda: CANN_OK, lambda: ProbeResult(error=error))
    assert (status.availability.available, status.availability.reason) == (False, error)


def test_zero_devices_is_unavailable() -> None:
    status = check_npu(lambda: None, lambda: CANN_OK, lambda: ProbeResult(count=0))
    assert status.availability.reason == NO_DEVICE


def test_counted_devices_make_it_available() -> None:
    status = check_npu(lambda: None, lambda: CANN_OK, lambda: ProbeResult(count=8))
    assert status.availability.available is True and status.device_count == 8


def test_a_worker_takes_the_answer_its_launcher_handed_down() -> None:
    check_npu(lambda: None, lambda: CANN_OK, lambda: ProbeResult(count=8, chip="Ascend910A"))
    status = check_npu(never, never, never)
    assert (status.device_count, status.chip) == (8, "Ascend910A")
