"""The zoo's models on two cards of the cpu backend (two gloo processes, launched by
``stgcn run --cards 2``), as ST-GCN is in the core's test_distributed.py: both ranks
train, rank 0 alone writes, and the checkpoint holds the bare network of its model.
In ``nox -s tests-distributed`` with the core's multi-process tests (noxfile.py's
``MULTI_PROCESS_TESTS``), not among ``tests``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from zoo_helpers import FP32, SMALL_MODELS

from stgcn.testing.helpers import TINY, run_stgcn


@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_two_cards_train_a_zoo_model(model: str, tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn(
        "run", "--model", model, *SMALL_MODELS[model], *FP32, *TINY, "--batch-size", "4",
        "--cards", "2", "--epochs", "2", "--work-dir", str(work),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [(line["epoch"], line["world_size"]) for line in lines] == [(1, 2), (2, 2)]
    state = torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)
    assert state["model_name"] == model
    assert not [key for key in state["model"] if key.startswith("module.")]
    assert json.loads((work / "config.json").read_text())["cards"] == 2
