"""The ModelZoo port's commands, run for real on the CPU as its users run them: from a
source root holding test/ and pthtar2onnx.py, on a tiny converted Kinetics folder.

Each test copies the scripts into a fresh root, because they write test/output/,
work_dir/ and stgcn_npu.onnx under it, as the port's do.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
import torch
from stgcn_data_kinetics.sample_trees import make_converted_tree

REPOSITORY = Path(__file__).resolve().parents[2]
SUMMARY_KEYS = [
    "Network",
    "RankSize",
    "BatchSize",
    "DeviceType",
    "CaseName",
    "ActualFPS",
    "TrainingTime",
    "TrainAccuracy",
    "ActualLoss",
    "E2ETrainingTime",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A source root as the port's users have it, with a converted Kinetics folder."""
    root = tmp_path / "ST-GCN"
    shutil.copytree(REPOSITORY / "test", root / "test", ignore=shutil.ignore_patterns("tests"))
    shutil.copy(REPOSITORY / "pthtar2onnx.py", root)
    make_converted_tree(root / "data", train=8, val=4, frames=24, seed=0)
    return root


def run(root: Path, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """A shell whose PATH finds this environment's stgcn and python3 first."""
    bin_dir = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ["PATH"]])}
    for name in ("ASCEND_DEVICE_ID", "STGCN_DEBUG"):
        environment.pop(name, None)
    return subprocess.run(
        list(command), cwd=root, env=environment, capture_output=True, text=True, timeout=timeout
    )


def train(root: Path, script: str, *options: str) -> subprocess.CompletedProcess[str]:
    return run(
        root,
        "bash",
        f"./test/{script}",
        f"--data_path={root / 'data'}",
        "--use_gpu_npu=cpu",
        "--train_epochs=1",
        *options,
    )


def summary(root: Path, case_name: str, device: str = "0") -> dict[str, str]:
    lines = (root / "test" / "output" / device / f"{case_name}.log").read_text().splitlines()
    pairs = [line.split(" = ", 1) for line in lines]
    assert [key for key, _ in pairs] == SUMMARY_KEYS
    return dict(pairs)


def assert_figures(figures: dict[str, str], root: Path, case_name: str, cards: int) -> None:
    assert figures["Network"] == "ST-GCN" and figures["CaseName"] == case_name
    assert (figures["RankSize"], figures["BatchSize"]) == (str(cards), "64")
    assert figures["DeviceType"] == platform.machine()
    for key in ("ActualFPS", "TrainingTime", "TrainAccuracy", "ActualLoss"):
        float(figures[key])  # a number, as ModelZoo's harness reads it
    assert float(figures["ActualFPS"]) > 0 and float(figures["TrainingTime"]) > 0
    assert 0 <= float(figures["TrainAccuracy"]) <= 100 and int(figures["E2ETrainingTime"]) >= 0
    work_dir = root / "work_dir" / case_name
    metrics = [json.loads(line) for line in (work_dir / "metrics.jsonl").open()]
    assert float(figures["ActualFPS"]) == pytest.approx(metrics[-1]["samples_per_s"], abs=1e-3)
    assert float(figures["TrainingTime"]) == pytest.approx(
        metrics[-1]["step_seconds"] * 1000, abs=0.01
    )
    assert float(figures["ActualLoss"]) == pytest.approx(metrics[-1]["train_loss"], abs=1e-4)
    best = max(m["val_top1"] for m in metrics) * 100
    assert float(figures["TrainAccuracy"]) == pytest.approx(best, abs=0.01)
    output = root / "test" / "output" / "0"
    losses = (output / f"train_{case_name}_loss.txt").read_text().split()
    assert [float(v) for v in losses] == pytest.approx([m["train_loss"] for m in metrics], abs=1e-4)
    assert "epoch 1/1" in (output / "train_0.log").read_text()


def test_performance_1p_writes_a_summary_of_numbers(root: Path) -> None:
    result = train(root, "train_performance_1p.sh")
    assert result.returncode == 0, result.stderr
    figures = summary(root, "ST-GCN_bs64_1p_perf")
    assert_figures(figures, root, "ST-GCN_bs64_1p_perf", 1)
    assert f"Final Performance images/sec : {figures['ActualFPS']}" in result.stdout
    config = json.loads((root / "work_dir" / "ST-GCN_bs64_1p_perf" / "config.json").read_text())
    assert (config["lr"], config["batch_size"], config["epochs"]) == (0.1, 64, 1)
    assert (config["dataset"], config["backend"], config["cards"]) == ("kinetics", "cpu", 1)


def test_full_then_eval_then_onnx_on_the_same_folder(root: Path) -> None:
    trained = train(root, "train_full_1p.sh", "--lr=0.05")
    assert trained.returncode == 0, trained.stderr
    assert_figures(summary(root, "ST-GCN_bs64_1p_acc"), root, "ST-GCN_bs64_1p_acc", 1)
    best = root / "work_dir" / "ST-GCN_bs64_1p_acc" / "checkpoints" / "best.pth.tar"
    assert torch.load(best, weights_only=True)["config"]["lr"] == 0.05

    evaluated = run(
        root,
        "bash",
        "./test/train_eval_1p.sh",
        f"--data_path={root / 'data'}",
        "--use_gpu_npu=cpu",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads((root / "test" / "output" / "0" / "eval_0.log").read_text().split("\n")[-2])
    assert result["samples"] == 4
    assert evaluated.stdout.splitlines() == [
        f"\tTop1: {result['top1'] * 100:.2f}%",
        f"\tTop5: {result['top5'] * 100:.2f}%",
    ]

    exported = run(root, sys.executable, "pthtar2onnx.py")
    assert exported.returncode == 0, exported.stderr
    model = onnx.load(str(root / "stgcn_npu.onnx"))
    [graph_input], [graph_output] = model.graph.input, model.graph.output
    dims = [d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert (graph_input.name, dims) == ("actual_input_1", [64, 3, 150, 18, 2])
    assert graph_output.name == "output1"
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [11]
    onnx.checker.check_model(model)


@pytest.mark.parametrize(
    ("script", "case_name"),
    [
        ("train_full_8p.sh", "ST-GCN_bs64_2p_acc"),
        ("train_performance_8p.sh", "ST-GCN_bs64_2p_perf"),
    ],
)
def test_eight_card_scripts_on_two_cpu_workers(root: Path, script: str, case_name: str) -> None:
    """The 8-card recipe (64 a card, lr 0.8) with --world_size=2: this host has two cores."""
    result = train(root, script, "--world_size=2")
    assert result.returncode == 0, result.stderr
    assert_figures(summary(root, case_name), root, case_name, 2)
    config = json.loads((root / "work_dir" / case_name / "config.json").read_text())
    assert (config["lr"], config["batch_size"], config["cards"]) == (0.8, 64, 2)


def test_a_second_run_moves_the_first_aside(root: Path) -> None:
    assert train(root, "train_performance_1p.sh").returncode == 0
    first = (root / "work_dir" / "ST-GCN_bs64_1p_perf" / "metrics.jsonl").read_text()
    again = train(root, "train_performance_1p.sh")
    assert again.returncode == 0, again.stderr
    [aside] = (root / "work_dir").glob("ST-GCN_bs64_1p_perf.*")
    assert (aside / "metrics.jsonl").read_text() == first
    assert f"was moved to work_dir/{aside.name}" in again.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], '[Error] para "data_path" must be given: --data_path=DIR'),
        (["--data_path=data", "--use_gpu_npu=tpu"], "[Error] --use_gpu_npu must be npu, gpu"),
        (["--data_path=data", "--lr_rate=1"], "[Error] unknown parameter --lr_rate (known: "),
        (["--data_path=absent", "--use_gpu_npu=cpu"], "stgcn: error: data path not found: absent"),
        (["--data_path=data", "--use_gpu_npu=cpu", "--lr=fast"], "stgcn: error: "),
    ],
)
def test_mistakes_end_in_one_line_and_keep_earlier_work(
    root: Path, options: list[str], message: str
) -> None:
    earlier = root / "work_dir" / "ST-GCN_bs64_1p_acc"
    (earlier / "checkpoints").mkdir(parents=True)
    (earlier / "checkpoints" / "best.pth.tar").write_bytes(b"kept")
    result = run(root, "bash", "./test/train_full_1p.sh", *options)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(message), result.stderr
    assert (earlier / "checkpoints" / "best.pth.tar").read_bytes() == b"kept"
    assert sorted(p.name for p in (root / "work_dir").iterdir()) == ["ST-GCN_bs64_1p_acc"]


def test_npu_where_there_is_none_is_the_backends_one_line(root: Path) -> None:
    result = run(root, "bash", "./test/train_performance_1p.sh", "--data_path=data")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("stgcn: error: backend 'npu' is unavailable: ")
    assert not (root / "test" / "output" / "0" / "ST-GCN_bs64_1p_perf.log").exists()


def test_eval_without_a_checkpoint_says_which(root: Path) -> None:
    result = run(root, "bash", "./test/train_eval.sh", "--data_path=data", "--use_gpu_npu=cpu")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "[Error] weights not found: work_dir/ST-GCN_bs64_1p_acc/checkpoints/best.pth.tar "
        "(train with train_full_1p.sh, or pass --weights=FILE)"
    )


def test_pthtar2onnx_without_a_checkpoint_says_which(root: Path) -> None:
    result = run(root, sys.executable, "pthtar2onnx.py", "--checkpoint", "none.pth.tar")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "pthtar2onnx.py: error: checkpoint not found: none.pth.tar "
        "(train with test/train_full_1p.sh, or pass --checkpoint FILE)"
    )
