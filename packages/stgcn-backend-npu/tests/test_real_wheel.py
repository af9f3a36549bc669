"""The real torch-npu 2.13.0 wheel on a host without CANN (``nox -s tests-npu``): what
breaks, and that stgcn does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from npu_helpers import CANN_FOUND, TINY, TORCH_NPU_INSTALLED, run_python, run_stgcn
from stgcn_backend_npu.cann import find_cann
from stgcn_backend_npu.probe import probe_devices

pytestmark = pytest.mark.skipif(
    not TORCH_NPU_INSTALLED or CANN_FOUND,
    reason="needs the torch-npu wheel installed on a host without CANN (nox -s tests-npu)",
)


def test_import_torch_fails_while_autoload_is_on() -> None:
    result = run_python("import torch")
    assert result.returncode != 0
    assert "Failed to load the backend extension: torch_npu" in result.stderr


def test_torch_npu_fails_on_the_library_the_cann_check_reports() -> None:
    """With autoload off torch imports, and torch_npu fails on a CANN library that
    find_cann also says is missing: the reason given is the real one."""
    result = probe_devices()
    assert result.count == 0
    assert result.error.startswith("torch_npu failed to import: ImportError: lib")
    library = result.error.split("ImportError: ", 1)[1].split(":", 1)[0]
    assert library in find_cann().missing


def test_cpu_backend_still_trains(tmp_path: Path) -> None:
    result = run_stgcn("run", "--backend", "cpu", "--work-dir", "run", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [epoch] = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert (epoch["epoch"], epoch["backend"]) == (1, "cpu")
    assert (tmp_path / "run" / "checkpoints" / "latest.pth.tar").is_file()
