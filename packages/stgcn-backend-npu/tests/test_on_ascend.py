"""Real training on Ascend NPUs: one card, and two with HCCL where two exist.

Skipped wherever the npu backend is unavailable (the reason says why); on an Ascend
host with CANN sourced, ``nox -s tests-npu`` runs these. They follow the chip: the
default precision is bf16 without a loss scaler on a 910B and newer, fp16 with
torch_npu's scaler on a 910A (``torch.npu.is_bf16_supported()``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from npu_helpers import TINY, run_stgcn
from stgcn_backend_npu.backend import NPUBackend

BACKEND = NPUBackend()
AVAILABILITY = BACKEND.availability()
pytestmark = pytest.mark.skipif(
    not AVAILABILITY.available, reason=f"npu unavailable: {AVAILABILITY.reason}"
)
#: what the chip trains in by default: "bf16" (910B and newer) or "fp16" (910A)
DEFAULT = BACKEND.default_precision() if AVAILABILITY.available else "fp16"


def train(tmp_path: Path, *options: str) -> tuple[list[dict], dict]:
    result = run_stgcn(
        "run", "--backend", "npu", "--work-dir", "run", *TINY, *options, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    latest = torch.load(
        tmp_path / "run" / "checkpoints" / "latest.pth.tar", map_location="cpu", weights_only=True
    )
    return metrics, latest


def test_one_card_in_the_chips_default_precision(tmp_path: Path) -> None:
    metrics, latest = train(tmp_path)
    assert [(m["backend"], m["precision"], m["world_size"]) for m in metrics] == [
        ("npu", DEFAULT, 1)
    ]
    if DEFAULT == "fp16":  # dynamic loss scaling
        assert latest["scaler"]["scale"] > 0 and latest["scaler"]["dynamic"] is True
    else:  # bf16: fp32's range, no scaler
        assert latest["scaler"] == {}
    evaluated = run_stgcn(
        "eval",
        "--checkpoint",
        "run/checkpoints/best.pth.tar",
        "--backend",
        "cpu",
        "--json",
        cwd=tmp_path,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["samples"] == 8


def test_one_card_fp16_with_dynamic_loss_scaling(tmp_path: Path) -> None:
    metrics, latest = train(tmp_path, "--precision", "fp16")
    assert metrics[0]["precision"] == "fp16"
    assert latest["scaler"]["scale"] > 0 and latest["scaler"]["dynamic"] is True


def test_one_card_static_loss_scale(tmp_path: Path) -> None:
    """fp16 asked for: on a 910B the default (bf16) has no scaler to fix."""
    _, latest = train(tmp_path, "--precision", "fp16", "--backend-option", "loss_scale=64")
    assert latest["scaler"]["scale"] == 64.0 and latest["scaler"]["dynamic"] is False


def test_one_card_fp32(tmp_path: Path) -> None:
    metrics, latest = train(tmp_path, "--precision", "fp32")
    assert metrics[0]["precision"] == "fp32" and latest["scaler"] == {}


def test_bench_measures_npu_steps() -> None:
    result = run_stgcn("bench", "--backend", "npu", "--steps", "3", "--warmup", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["samples_per_s"] > 0


@pytest.mark.skipif(BACKEND.device_count() < 2, reason="needs two NPUs")
def test_two_cards_with_hccl(tmp_path: Path) -> None:
    metrics, _ = train(tmp_path, "--cards", "2")
    assert metrics[-1]["world_size"] == 2 and metrics[-1]["backend"] == "npu"
