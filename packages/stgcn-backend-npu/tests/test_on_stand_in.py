"""The npu backend against a STAND-IN for torch_npu (npu_stand_in/), because no Ascend
NPU can exist on the hosts that run these tests. The stand-in runs the same code path
as the hardware: tensors on npu:N, the trainer's collectives through an "hccl" group
that refuses what ProcessGroupHCCL refuses, DDP over it.

Everything here runs in other interpreters: the stand-in changes torch's device
registry for good, which must not leak into other tests. The first test builds the
stand-in's C++ device (about half a minute, then cached by torch's extension loader).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from npu_helpers import STAND_IN, TESTS, TINY, run_stgcn, user_environment

from stgcn.testing.helpers import make_distribution

#: two epochs of one step per card, so that the end of the first epoch is passed
TWO_EPOCHS = [*TINY, "--epochs", "2"]


def stand_in_environment(tmp_path: Path, site: Path | None = None, **extra: str) -> dict[str, str]:
    """A user's shell on an Ascend host with CANN sourced, torch_npu being the stand-in."""
    lib64 = tmp_path / "cann" / "ascend-toolkit" / "latest" / "lib64"
    lib64.mkdir(parents=True, exist_ok=True)
    for name in ("libhccl.so", "libascendcl.so"):
        (lib64 / name).write_bytes(b"")
    environment = user_environment()
    for name in ("NPU_STAND_IN_DEVICES", "ASCEND_RT_VISIBLE_DEVICES", "STGCN_NPU_PROBE"):
        environment.pop(name, None)
    environment.update(
        PYTHONPATH=os.pathsep.join(
            [
                *([str(site)] if site is not None else []),
                str(STAND_IN),
                str(TESTS),
                *filter(None, [os.environ.get("PYTHONPATH")]),
            ]
        ),
        LD_LIBRARY_PATH=str(lib64),
        ASCEND_HOME_PATH=str(lib64.parent),
        **extra,
    )
    return environment


def test_backend_on_the_torch_npu_stand_in(tmp_path: Path) -> None:
    environment = stand_in_environment(tmp_path, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(STAND_IN / "stand_in_checks.py"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    summary = report.strip().splitlines()[-1]
    assert re.search(r"\b59 passed\b", summary) and "skipped" not in summary, report


def overflow_on_one_rank(tmp_path: Path, scaler: str) -> list[dict]:
    environment = stand_in_environment(
        tmp_path, TORCH_DEVICE_BACKEND_AUTOLOAD="0", NPU_STAND_IN_CHIP="Ascend910A"
    )
    script = STAND_IN / "overflow_on_one_rank.py"
    store = tmp_path / f"store-{scaler}"
    outputs = [tmp_path / f"{scaler}-{rank}.json" for rank in (0, 1)]
    ranks = [
        subprocess.Popen(
            [sys.executable, str(script), str(rank), str(store), scaler, str(outputs[rank])],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    for process in ranks:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output
    return [json.loads(path.read_text()) for path in outputs]


def test_saturation_mode_overflow_desynchronises_torchs_scaler_but_not_the_backends(
    tmp_path: Path,
) -> None:
    """Defect 2 on a 910A (saturation mode), rank 1 alone overflowing: torch's generic
    GradScaler lets rank 0 step and rank 1 skip, so the replicas differ; the backend's
    scaler (torch_npu's) sums the verdict, both ranks skip and stay equal."""
    generic = overflow_on_one_rank(tmp_path, "torch")
    assert [rank["stepped"] for rank in generic] == [True, False]
    assert generic[0]["weights"] != generic[1]["weights"]
    fixed = overflow_on_one_rank(tmp_path, "backend")
    assert [rank["stepped"] for rank in fixed] == [False, False]
    assert fixed[0]["weights"] == fixed[1]["weights"]


def two_card_run(tmp_path: Path, chip: str, *options: str) -> tuple[list[dict], dict, list[str]]:
    log = tmp_path / "imports.log"
    environment = stand_in_environment(
        tmp_path, NPU_STAND_IN_CHIP=chip, NPU_STAND_IN_IMPORT_LOG=str(log)
    )
    result = run_stgcn(
        "run",
        "--backend",
        "npu",
        "--cards",
        "2",
        "--work-dir",
        "run",
        *TWO_EPOCHS,
        *options,
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "UserWarning" not in result.stderr, result.stderr
    # torch_npu's own lines: a float64 cast on the device (rank 0), the float-status ops'
    # deprecation (every rank; torch_npu's scaler calls them on a 910A)
    for torch_npus in ("dtype cast replace with float", "is deprecated"):
        assert torch_npus not in result.stderr, result.stderr
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    latest = torch.load(
        tmp_path / "run" / "checkpoints" / "latest.pth.tar", map_location="cpu", weights_only=True
    )
    imports = log.read_text().split()[1::2]
    evaluated = run_stgcn(
        "eval",
        "--checkpoint",
        "run/checkpoints/best.pth.tar",
        "--backend",
        "npu",
        "--json",
        cwd=tmp_path,
        env=environment,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["samples"] == 8
    return metrics, latest, imports


def test_two_cards_fp16_with_torch_npus_scaler_on_a_910a(tmp_path: Path) -> None:
    """Defects 1 and 6: two epochs end to end (the float64 all_reduce that HCCL refuses
    used to end the first), and torch_npu is probed once on the host, by the launcher."""
    metrics, latest, imports = two_card_run(tmp_path, "Ascend910A")
    assert [(m["epoch"], m["world_size"], m["precision"]) for m in metrics] == [
        (1, 2, "fp16"),
        (2, 2, "fp16"),
    ]
    assert latest["scaler"]["dynamic"] is True and latest["scaler"]["scale"] > 0
    assert sorted(imports) == ["probe", "worker", "worker"]


def test_two_cards_default_to_bf16_without_a_scaler_on_a_910b(tmp_path: Path) -> None:
    metrics, latest, _ = two_card_run(tmp_path, "Ascend910B3")
    assert {m["precision"] for m in metrics} == {"bf16"} and latest["scaler"] == {}


def test_two_cards_fp32_on_the_bone_motion_stream(tmp_path: Path) -> None:
    """Also the trainer's on-device stream path: batches become bone motion on the npu."""
    metrics, latest, _ = two_card_run(
        tmp_path, "Ascend910B3", "--precision", "fp32", "--data-option", "modality=bone_motion"
    )
    assert [m["precision"] for m in metrics] == ["fp32", "fp32"] and latest["scaler"] == {}
    assert latest["config"]["data_options"]["modality"] == "bone_motion"


#: the zoo's models (stgcn-models) at a small width each
ZOO_MODELS = {
    "stgcnpp": ["--model-option", "base_channels=8", "--model-option", "num_stages=6"],
    "ctrgcn": ["--model-option", "base_channels=8"],
}


@pytest.mark.parametrize("model", sorted(ZOO_MODELS))
def test_two_cards_train_and_evaluate_a_zoo_model(tmp_path: Path, model: str) -> None:
    """Not ST-GCN alone: a model plugin's network (its einsum over a learnt graph, its
    six-branch temporal blocks, CTR-GCN's per-channel graphs) trains on two cards of
    the npu in bf16 and evaluates there."""
    pytest.importorskip("stgcn_models")
    metrics, latest, _ = two_card_run(tmp_path, "Ascend910B3", "--model", model, *ZOO_MODELS[model])
    assert [(m["epoch"], m["world_size"], m["precision"]) for m in metrics] == [
        (1, 2, "bf16"),
        (2, 2, "bf16"),
    ]
    assert latest["model_name"] == model


def test_bf16_on_a_910a_is_refused_in_one_line(tmp_path: Path) -> None:
    environment = stand_in_environment(tmp_path, NPU_STAND_IN_CHIP="Ascend910A")
    result = run_stgcn(
        "run",
        "--backend",
        "npu",
        "--precision",
        "bf16",
        "--work-dir",
        "run",
        *TINY,
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "stgcn: error: Ascend910A has no bf16 (torch.npu.is_bf16_supported() is False; "
        "bf16 needs an Ascend 910B or newer): use --precision fp16 or fp32"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("visible", ["1,0", "0,0"])
def test_visible_devices_out_of_order_leave_no_npu(tmp_path: Path, visible: str) -> None:
    environment = stand_in_environment(tmp_path, ASCEND_RT_VISIBLE_DEVICES=visible)
    result = run_stgcn("plugins", "--json", env=environment)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    [npu] = rows["stgcn-backend-npu"]["backends"]
    assert npu["available"] is False
    assert npu["reason"].startswith("no Ascend NPU visible: torch.npu.device_count() is 0")


def test_a_fixed_scale_overflow_on_a_910a_ends_the_run_before_a_checkpoint(
    tmp_path: Path,
) -> None:
    """Saturation mode: the overflowing loss stays finite, the chip's overflow status
    does not; the run ends in one line naming the epoch and step, and no checkpoint
    keeps the overflowed weights."""
    environment = stand_in_environment(tmp_path, NPU_STAND_IN_CHIP="Ascend910A")
    result = run_stgcn(
        "run",
        "--backend",
        "npu",
        "--backend-option",
        "loss_scale=64",
        "--work-dir",
        "run",
        *TINY,
        "--data-option",
        "train_size=32",
        "--lr",
        "1e6",
        "--log-every",
        "1",
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"stgcn: error: the update overflowed at epoch 1, step \d+ \(the device's overflow "
        r"status; the loss was still finite\); lower --lr or the loss scale",
        last,
    ), result.stderr
    assert "Traceback" not in result.stderr
    checkpoints = tmp_path / "run" / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


STOPPER = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Logger
from stgcn.testing.stopper import Stopper  # STGCN_TEST_STOP: rank 0 stops, rank 1 with it


@hookimpl
def stgcn_register_loggers(register):
    register(Logger(name="stopper", create=lambda context: Stopper()))
"""


def test_two_cards_with_dropout_resume_bit_identical_after_sigterm(tmp_path: Path) -> None:
    """Dropout on an npu draws from the npu's generator, which the step checkpoint keeps
    per rank beside the CPU's: the resumed run ends exactly where the straight one does."""
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "fake-npu-stopper", "0.1", "fake_npu_stopper", STOPPER)
    environment = stand_in_environment(
        tmp_path, site, NPU_STAND_IN_CHIP="Ascend910B3", STGCN_TEST_STOP="1:SIGTERM:self"
    )
    args = [
        "run",
        "--backend",
        "npu",
        "--cards",
        "2",
        *TINY,
        "--epochs",
        "2",
        "--data-option",
        "train_size=32",
        "--dropout",
        "0.5",
        "--precision",
        "fp32",
        "--seed",
        "5",
        "--log-every",
        "1",
    ]
    done = run_stgcn(*args, "--work-dir", "straight", cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    stopped = run_stgcn(
        *args, "--work-dir", "stopped", "--logger", "stopper", cwd=tmp_path, env=environment
    )
    assert stopped.returncode == 75, stopped.stderr
    assert "stgcn: stopped by SIGTERM at epoch 1, step 1 of 2" in stopped.stderr
    resumed = run_stgcn("run", "--resume", "--work-dir", "stopped", cwd=tmp_path, env=environment)
    assert resumed.returncode == 0, resumed.stderr

    def weights(name: str) -> dict[str, torch.Tensor]:
        path = tmp_path / name / "checkpoints" / "latest.pth.tar"
        return torch.load(path, map_location="cpu", weights_only=True)["model"]

    straight, again = weights("straight"), weights("stopped")
    assert straight.keys() == again.keys()
    for key, value in straight.items():
        assert torch.equal(again[key], value), key
