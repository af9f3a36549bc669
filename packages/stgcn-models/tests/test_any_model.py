"""What stgcn does with ST-GCN it does with the zoo's models: a checkpoint that ``stgcn
run --model NAME`` wrote exports to ONNX (verified against PyTorch) and predicts through
both engines, explains its top class on the model's last features, is described with
its parameters and FLOPs; joint and bone streams train and fuse; a resumed run ends
exactly where an unbroken one does.

Each model at a small width (its options for it), on the small synthetic split of the
core's tests, in fp32 on the cpu backend so that the figures are the same on every CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from zoo_helpers import FP32, SMALL_MODELS

from stgcn.testing.helpers import TINY, run_stgcn


def _model(name: str) -> list[str]:
    return ["--model", name, *SMALL_MODELS[name], *FP32, *TINY, "--seed", "3"]


@pytest.fixture(scope="module", params=sorted(SMALL_MODELS))
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The best checkpoint of a two-epoch run of the model."""
    work = tmp_path_factory.mktemp(request.param)
    done = run_stgcn("run", *_model(request.param), "--epochs", "2", "--work-dir", str(work))
    assert done.returncode == 0, done.stderr
    return work / "checkpoints" / "best.pth.tar"


def _clip(tmp_path: Path) -> Path:
    """A (C, T, V, M) clip of the synthetic set's shape: 3 channels, 18 joints, 2 persons."""
    clip = tmp_path / "clip.npy"
    generator = np.random.default_rng(0)
    np.save(clip, generator.normal(0, 0.3, (3, 12, 18, 2)).astype(np.float32))
    return clip


def test_onnx_export_verifies_and_predicts_as_pytorch(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    exported = tmp_path / "model.onnx"
    done = run_stgcn(
        "export", "onnx", "--checkpoint", str(trained), "--output", str(exported),
        "--frames", "12",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "verified: onnx.checker passed" in done.stdout, done.stdout
    clip = _clip(tmp_path)
    answers = []
    for engine in (["--checkpoint", str(trained)], ["--onnx", str(exported)]):
        predicted = run_stgcn("predict", *engine, "--input", str(clip), "--json")
        assert predicted.returncode == 0, predicted.stderr
        answers.append(json.loads(predicted.stdout))
    through_torch, through_onnx = (answer["top"] for answer in answers)
    assert [top["class"] for top in through_torch] == [top["class"] for top in through_onnx]
    for by_torch, by_onnx in zip(through_torch, through_onnx, strict=True):
        assert by_onnx["probability"] == pytest.approx(by_torch["probability"], rel=1e-4)


def test_explain_weighs_the_joints_by_the_models_last_features(
    trained: Path, tmp_path: Path
) -> None:
    explained = run_stgcn(
        "predict", "--checkpoint", str(trained), "--input", str(_clip(tmp_path)), "--json",
        "--explain",
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    importance = json.loads(explained.stdout)["joint_importance"]
    assert len(importance) == 18 and all(np.isfinite(importance))
    assert max(importance) > min(importance)


def test_info_counts_the_models_parameters_and_flops(trained: Path) -> None:
    described = run_stgcn("info", str(trained), "--json")
    assert described.returncode == 0, described.stderr
    facts = json.loads(described.stdout)
    stored = torch.load(trained, weights_only=True)
    assert facts["model"] == stored["model_name"]
    from stgcn import load_model

    network = load_model(str(trained))
    assert facts["parameters"] == sum(p.numel() for p in network.parameters())
    assert facts["gflop_per_sample"] > 0


@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_joint_and_bone_streams_train_and_fuse(model: str, tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn(
        "run", *_model(model), "--streams", "joint,bone", "--epochs", "1",
        "--work-dir", str(work),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for stream in ("joint", "bone"):
        stored = torch.load(work / stream / "checkpoints" / "best.pth.tar", weights_only=True)
        assert stored["model_name"] == model
        assert stored["config"]["data_options"]["modality"] == stream
    summary = json.loads((work / "fused.json").read_text())
    again = run_stgcn(
        "fuse", str(work / "joint" / "scores.npz"), str(work / "bone" / "scores.npz"), "--json"
    )
    assert again.returncode == 0, again.stderr
    assert {**json.loads(again.stdout), "streams": ["joint", "bone"]} == summary["fused"]


@pytest.mark.parametrize("model", sorted(SMALL_MODELS))
def test_a_resumed_run_ends_with_the_weights_of_an_unbroken_one(model: str, tmp_path: Path) -> None:
    """Stopped after the first epoch (the synthetic recipe's warm-up, whose lr does not
    depend on the run's length), then resumed to the third: the cosine schedule, the
    optimiser's momentum and the model's weights and batch-norm statistics carry over."""
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    done = run_stgcn("run", *_model(model), "--epochs", "3", "--work-dir", str(straight))
    assert done.returncode == 0, done.stderr
    done = run_stgcn("run", *_model(model), "--epochs", "1", "--work-dir", str(broken))
    assert done.returncode == 0, done.stderr
    resumed = run_stgcn("run", "--resume", "--epochs", "3", "--work-dir", str(broken))
    assert resumed.returncode == 0, resumed.stderr
    lines = (broken / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    expected, actual = (
        torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)
        for work in (straight, broken)
    )
    assert actual["model_name"] == model
    assert expected["model"].keys() == actual["model"].keys()
    for key, tensor in expected["model"].items():
        assert torch.equal(tensor, actual["model"][key]), key
