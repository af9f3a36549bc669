"""The real ``stgcn`` command on a host without a usable GPU: listed, then refused cleanly."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from cuda_helpers import HOST, installed, run_stgcn

from stgcn.testing.helpers import TINY

needs_no_gpu = pytest.mark.skipif(HOST.available, reason="this host has a usable NVIDIA GPU")


def test_entry_point_names_the_module() -> None:
    if not installed():
        pytest.skip("stgcn-backend-cuda is not installed here (running from the source folder)")
    points = metadata.distribution("stgcn-backend-cuda").entry_points
    assert [(p.group, p.name, p.value) for p in points] == [("stgcn", "cuda", "stgcn_backend_cuda")]


def _cuda_rows(listing: list[dict]) -> list[tuple[str, dict]]:
    return [(row["name"], b) for row in listing for b in row["backends"] if b["name"] == "cuda"]


@needs_no_gpu
def test_plugins_lists_cuda_as_unavailable_with_the_reason() -> None:
    result = run_stgcn("plugins", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [(owner, backend)] = _cuda_rows(json.loads(result.stdout))
    assert owner == ("stgcn-backend-cuda" if installed() else "stgcn_backend_cuda")
    assert backend == {
        "name": "cuda",
        "description": "NVIDIA GPUs through CUDA (NCCL between cards; bf16 or fp16 autocast)",
        "available": False,
        "reason": HOST.reason,
        "collective": "nccl",
        "precisions": ["fp32", "bf16", "fp16"],
    }

    text = run_stgcn("plugins")
    assert f"  backend  cuda         unavailable: {HOST.reason}" in text.stdout.splitlines()


@needs_no_gpu
@pytest.mark.parametrize(
    "args",
    [
        ["run", "--backend", "cuda", *TINY, "--epochs", "1"],
        ["run", "--backend", "cuda", "--precision", "fp16", "--work-dir", "mine", "--compile"],
        ["bench", "--backend", "cuda", "--batch-size", "64", "--json"],
    ],
    ids=["run", "run-work-dir-options", "bench"],
)
def test_backend_cuda_is_refused_in_one_line_leaving_no_files(
    tmp_path: Path, args: list[str]
) -> None:
    result = run_stgcn(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"stgcn: error: backend 'cuda' is unavailable: {HOST.reason}"
    ]
    assert list(tmp_path.iterdir()) == [], "nothing may be written"
