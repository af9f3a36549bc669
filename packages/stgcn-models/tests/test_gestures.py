"""Hand gestures with ST-GCN++: the synthetic gestures are learnt out of the box, and the
docs' gesture walk-through (docs/guide/gestures.md) runs as written up to the camera."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from itertools import takewhile
from pathlib import Path

import pytest
import torch

from stgcn.data.synthetic_hands import GESTURES
from stgcn.testing.helpers import run_stgcn

PAGE = Path(__file__).resolve().parents[3] / "docs" / "guide" / "gestures.md"


def page_commands() -> list[list[str]]:
    """Each command of the page's code blocks (a line ending in ``\\`` continues), as
    arguments; the folder drawings of section 5 (no command) left out."""
    blocks = re.findall(r"```\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(("stgcn ", "python ")):
                commands.append(shlex.split(line))
    return commands


def test_the_walk_through_runs_as_written_up_to_the_camera(tmp_path: Path) -> None:
    """Every command of the page in order, in a fresh folder: the training run made
    small (its options appended, which win), then export, the clip and predict; the
    camera and the video commands are checked against ``--help`` (their options
    exist), since no camera or video is at hand."""
    pytest.importorskip("onnxruntime")
    commands = page_commands()
    names = [" ".join(command[:3]) for command in commands]
    assert names[:4] == [
        "stgcn run --dataset",
        "stgcn export onnx",
        f"python -c {commands[2][2]}",
        "stgcn predict --onnx",
    ]
    small = ["--epochs", "2", "--data-option", "train_size=40", "--data-option", "val_size=20"]
    ran = {}
    for command in commands[:4]:
        if command[0] == "python":
            done = subprocess.run(
                [sys.executable, *command[1:]], cwd=tmp_path, capture_output=True, text=True
            )
        else:
            extra = small if command[1] == "run" else []
            done = run_stgcn(*command[1:], *extra, cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        ran[command[1]] = done
    label = int(ran["-c"].stdout.strip())
    lines = ran["predict"].stdout.strip().splitlines()
    assert lines[0].startswith("clip.npy: top 5 of 10 classes (onnxruntime"), lines
    # the export kept the gesture names: each ranked line names its class's gesture
    for line in lines[1:6]:
        found = re.search(r"\(class (\d+)\)", line)
        assert found, lines
        index = int(found.group(1))
        assert f"{GESTURES[index]} (class {index})" in line, lines
    stored = torch.load(tmp_path / "runs/gestures/checkpoints/best.pth.tar", weights_only=True)
    assert stored["model_name"] == "stgcnpp" and stored["model_config"]["preset"] == "gesture"
    assert stored["model_config"]["layout"]["name"] == "mediapipe-hand"
    assert 0 <= label < len(GESTURES)
    # the camera and the videos: every option the page gives exists
    for command in commands[4:]:
        words = takewhile(lambda arg: not arg.startswith("-"), command[1:])
        helped = run_stgcn(*words, "--help")
        assert helped.returncode == 0, helped.stderr
        for option in (arg for arg in command if arg.startswith("--")):
            assert option in helped.stdout, (option, command)


def test_stgcnpp_learns_the_synthetic_gestures(tmp_path: Path) -> None:
    """The walk-through's run, smaller: PYSKL's gesture network learns the ten gestures
    past 0.8 top-1 (fp32 on the cpu backend, the same numbers on every CPU kind):
    measured best top-1 0.925 at seed 0 (0.91 at epoch 6), 33 s of CPU on two cores.
    ST-GCN++'s standard configuration learns them more slowly: 0.70 at this lr and 0.76
    at --lr 0.02 in the same 8 epochs; 0.99 in the whole default run (640 clips, 11
    epochs) at --lr 0.02, 116 s of CPU, too long for a test here."""
    work = tmp_path / "run"
    trained = run_stgcn(
        "run", "--dataset", "synthetic", "--data-option", "layout=mediapipe-hand",
        "--model", "stgcnpp", "--model-option", "preset=gesture", "--lr", "0.05",
        "--data-option", "train_size=480", "--epochs", "8", "--seed", "0",
        "--backend", "cpu", "--precision", "fp32", "--work-dir", str(work),
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    stored = torch.load(work / "checkpoints" / "best.pth.tar", weights_only=True)
    assert stored["best_top1"] >= 0.8, stored["best_top1"]
    described = run_stgcn("info", str(work / "checkpoints" / "best.pth.tar"), "--json")
    assert described.returncode == 0, described.stderr
    facts = json.loads(described.stdout)
    assert (facts["model"], facts["joints"]) == ("stgcnpp", 21)
