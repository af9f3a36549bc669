"""The real ``stgcn`` command where the npu backend cannot run: listed as unavailable
with the reason, refused in one line, nothing written. Run from a user's environment:
TORCH_DEVICE_BACKEND_AUTOLOAD unset, so the command must set it itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from npu_helpers import CANN_FOUND, TINY, TORCH_NPU_INSTALLED, run_stgcn

pytestmark = pytest.mark.skipif(CANN_FOUND, reason="CANN is installed: npu may be available")


def assert_reason_fits_this_host(reason: str) -> None:
    if TORCH_NPU_INSTALLED:  # the real wheel without CANN (nox -s tests-npu)
        assert reason.startswith("CANN toolkit not found (libhccl.so, libascendcl.so)")
        assert "source its set_env.sh" in reason
    else:
        assert reason.startswith("torch-npu is not installed: on an Ascend host, pip install ")
        assert "torch-npu" in reason.split("pip install ", 1)[1]


def test_plugins_lists_npu_unavailable_with_its_reason() -> None:
    result = run_stgcn("plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    row = rows["stgcn-backend-npu"]
    assert row["errors"] == [] and row["modules"] == ["stgcn_backend_npu.plugin"]
    [npu] = row["backends"]
    assert (npu["name"], npu["available"], npu["collective"]) == ("npu", False, "hccl")
    assert npu["precisions"] == ["bf16", "fp16", "fp32"]
    assert_reason_fits_this_host(npu["reason"])
    assert rows["stgcn-core"]["backends"][0]["available"] is True


def test_run_on_npu_is_refused_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    result = run_stgcn("run", "--backend", "npu", "--work-dir", "out", *TINY, cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    prefix = "stgcn: error: backend 'npu' is unavailable: "
    assert line.startswith(prefix), result.stderr
    assert_reason_fits_this_host(line[len(prefix) :])
    assert list(tmp_path.iterdir()) == []
