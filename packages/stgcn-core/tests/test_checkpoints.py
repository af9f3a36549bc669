"""Checkpoints that survive what disks and kills do to them: the previous latest kept,
a resume falling back to it, --keep N epoch files, a full disk ending the run in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from stgcn.testing.helpers import TINY, run_stgcn


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["model"]


def _epochs(work: Path) -> list[int]:
    lines = (work / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines]


def test_a_resume_falls_back_to_the_previous_latest_and_ends_exact(tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    assert run_stgcn("run", *TINY, "--epochs", "3", "--work-dir", str(straight)).returncode == 0
    work = tmp_path / "run"
    assert run_stgcn("run", *TINY, "--epochs", "2", "--work-dir", str(work)).returncode == 0
    latest = work / "checkpoints" / "latest.pth.tar"
    previous = work / "checkpoints" / "latest.prev.pth.tar"
    assert torch.load(previous, weights_only=True)["epoch"] == 1
    latest.write_bytes(latest.read_bytes()[:1000])  # truncated, as by a full disk
    resumed = run_stgcn("run", "--resume", "--epochs", "3", "--work-dir", str(work))
    assert resumed.returncode == 0, resumed.stderr
    warnings = [line for line in resumed.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(latest) in warnings[0], resumed.stderr
    assert warnings[0].endswith(f"resuming from {previous} (epoch 1)")
    assert _epochs(work) == [1, 2, 3]
    expected, actual = _weights(straight / "checkpoints" / "latest.pth.tar"), _weights(latest)
    for key in expected:
        assert torch.equal(expected[key], actual[key]), key


def test_keep_leaves_the_last_n_epoch_checkpoints(tmp_path: Path) -> None:
    work = tmp_path / "run"
    done = run_stgcn("run", *TINY, "--epochs", "3", "--keep", "2", "--work-dir", str(work))
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in (work / "checkpoints").glob("epoch-*.pth.tar"))
    assert kept == ["epoch-0002.pth.tar", "epoch-0003.pth.tar"]
    for name, epoch in zip(kept, (2, 3), strict=True):
        assert torch.load(work / "checkpoints" / name, weights_only=True)["epoch"] == epoch


FULL_DISK = """
import errno, torch
saves = {"latest": 0}
original = torch.save
def save(obj, f, *args, **kwargs):
    if isinstance(obj, dict) and obj.get("epoch") == 2:
        saves["latest"] += 1
        raise OSError(errno.ENOSPC, "No space left on device")
    return original(obj, f, *args, **kwargs)
torch.save = save
"""


def test_a_full_disk_keeps_the_previous_checkpoint_and_is_one_line(tmp_path: Path) -> None:
    """torch.save fails as on a full disk from the second epoch's checkpoint on."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FULL_DISK)
    work = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "stgcn", "run", *TINY, "--epochs", "3", "--work-dir", str(work)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("stgcn: error: cannot write ") and "No space left on device" in line
    assert "Traceback" not in done.stderr
    assert torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)["epoch"] == 1
    assert not [p for p in (work / "checkpoints").iterdir() if p.name.startswith(".")]
