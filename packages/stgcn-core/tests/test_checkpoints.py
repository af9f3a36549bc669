"""Checkpoints that survive what disks and kills do to them: the previous latest kept,
a resume falling back to it, --keep N epoch files, a full disk ending the run in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
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
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("stgcn: error: cannot write ") and "No space left on device" in line
    assert "Traceback" not in done.stderr
    assert torch.load(work / "checkpoints" / "latest.pth.tar", weights_only=True)["epoch"] == 1
    assert not [p for p in (work / "checkpoints").iterdir() if p.name.startswith(".")]


def test_the_checkpoint_record_writes_the_dict_it_always_wrote(tmp_path: Path) -> None:
    """One writer, one reader: the keys on disk (and their order) are the format's, a
    position only in a step checkpoint, and the reader gives back what was written."""
    from stgcn.model.checkpoint import FORMAT, FORMAT_VERSION, Checkpoint

    record = Checkpoint(
        weights={"fcn.weight": torch.ones(2, 3)},
        model_config={"num_class": 2},
        run_config={"dataset": "synthetic", "epochs": 3},
        dataset="synthetic",
        data_facts={"num_class": 2},
        class_names=["a", "b"],
        optimizer={"state": {}, "param_groups": []},
        precision_state=None,
        rng={"torch": torch.get_rng_state()},
        epoch=2,
        best_top1=0.5,
    )
    path = tmp_path / "latest.pth.tar"
    record.write(path)
    saved = torch.load(path, weights_only=True)
    assert list(saved) == [
        "format",
        "format_version",
        "model",
        "model_config",
        "optimizer",
        "scaler",
        "epoch",
        "best_top1",
        "config",
        "dataset",
        "class_names",
        "data_facts",
        "rng",
    ]
    assert (saved["format"], saved["format_version"]) == (FORMAT, FORMAT_VERSION)
    record.at({"epoch": 2, "step": 1}).write(path)
    assert torch.load(path, weights_only=True)["position"] == {"epoch": 2, "step": 1}
    replace(record, model_name="mine").write(tmp_path / "named.pth.tar")
    assert torch.load(tmp_path / "named.pth.tar", weights_only=True)["model_name"] == "mine"
    assert Checkpoint.from_file(tmp_path / "named.pth.tar").model_name == "mine"
    read = Checkpoint.from_file(path)
    assert (read.epoch, read.best_top1, read.run_dataset) == (2, 0.5, "synthetic")
    assert read.class_names == ["a", "b"] and read.position == {"epoch": 2, "step": 1}
    assert torch.equal(read.weights["fcn.weight"], torch.ones(2, 3)) and not read.is_bare


def test_a_newer_major_format_is_refused_in_one_line_and_bare_state_dicts_load(
    tmp_path: Path,
) -> None:
    import pytest

    from stgcn.errors import StgcnError
    from stgcn.model.checkpoint import FORMAT, FORMAT_VERSION, Checkpoint

    newer = tmp_path / "newer.pth.tar"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION + 1, "model": {}}, newer)
    with pytest.raises(StgcnError, match="newer than this stgcn reads") as refused:
        Checkpoint.from_file(newer)
    assert "\n" not in str(refused.value)
    bare = tmp_path / "bare.pth"
    torch.save({"module.fcn.weight": torch.zeros(1)}, bare)
    read = Checkpoint.from_file(bare)
    assert read.is_bare and list(read.weights) == ["fcn.weight"] and read.class_names is None


def test_an_mmcv_checkpoint_reads_as_its_nested_state_dict(tmp_path: Path) -> None:
    """PYSKL and mmaction2 save ``{"meta": ..., "state_dict": ...}`` (mmcv's format):
    the tensors under ``state_dict`` are the weights, the rest is left aside."""
    from stgcn.model.checkpoint import Checkpoint

    saved = tmp_path / "pyskl.pth"
    state = {"backbone.data_bn.weight": torch.ones(75), "cls_head.fc_cls.weight": torch.ones(2, 4)}
    torch.save({"meta": {"epoch": 16, "mmcv_version": "1.5.0"}, "state_dict": state}, saved)
    read = Checkpoint.from_file(saved)
    assert read.is_bare and sorted(read.weights) == sorted(state)
    assert torch.equal(read.weights["backbone.data_bn.weight"], torch.ones(75))


def _mmcv_meta() -> dict[str, object]:
    """A ``meta`` as mmcv's ``save_checkpoint`` and its runner's hooks leave it in
    PYSKL's files: strings, numbers, and numpy values (the best score a
    ``numpy.float64``, a seed a ``numpy.int64``, arrays of numbers and of text)."""
    import numpy as np

    return {
        "mmcv_version": "1.5.0",
        "time": "Sat Jun 11 10:00:00 2022",
        "env_info": "sys.platform: linux\nPython: 3.8.13",
        "epoch": 16,
        "iter": 12345,
        "seed": np.int64(1234),
        "hook_msgs": {"best_score": np.float64(0.878), "best_ckpt": "epoch_16.pth"},
        "CLASSES": np.array(["drink water", "eat meal"]),
        "scores": np.arange(6, dtype=np.float32).reshape(2, 3),
    }


def _as_numpy_1_wrote_it(path: Path) -> None:
    """Rewrite a legacy-format ``torch.save`` file (one plain pickle stream) to name
    numpy's reconstructors as numpy 1 did (``numpy.core.multiarray``), as the mmcv-era
    files on PYSKL's store do; the pickle's GLOBAL lines are newline-ended text."""
    data = path.read_bytes()
    assert data.count(b"numpy._core.multiarray\n") >= 2
    path.write_bytes(data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))


def test_an_mmcv_checkpoint_with_numpy_values_in_its_meta_reads(tmp_path: Path) -> None:
    """``torch.load(weights_only=True)`` refuses numpy values unless admitted: the
    reader admits numpy's scalars and arrays of numbers and text, under the names numpy
    2 and numpy 1 give them, for that load only."""
    import numpy as np

    from stgcn.model.checkpoint import Checkpoint, safe_load

    state = {"backbone.data_bn.weight": torch.ones(75), "cls_head.fc_cls.weight": torch.ones(2, 4)}
    saved = tmp_path / "zip.pth"
    torch.save({"meta": _mmcv_meta(), "state_dict": state}, saved)
    legacy = tmp_path / "legacy.pth"
    with legacy.open("wb") as stream:
        torch.save(
            {"meta": _mmcv_meta(), "state_dict": state},
            stream,
            _use_new_zipfile_serialization=False,
        )
    _as_numpy_1_wrote_it(legacy)
    for path in (saved, legacy):
        read = Checkpoint.from_file(path)
        assert read.is_bare and sorted(read.weights) == sorted(state)
        meta = safe_load(path)["meta"]
        assert meta["hook_msgs"]["best_score"] == np.float64(0.878)
        assert meta["CLASSES"].tolist() == ["drink water", "eat meal"]
        np.testing.assert_array_equal(meta["scores"], np.arange(6).reshape(2, 3))
    # admitted for the load only: torch's own allowlist is as it was
    assert not any("numpy" in repr(entry) for entry in torch.serialization.get_safe_globals())


def test_a_malicious_global_beside_numpy_values_is_still_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """Admitting numpy's values admits nothing else: an ``os.system`` call in ``meta``
    (beside numpy values that load) never runs, and the command says so in one line;
    so does an array of Python objects."""
    import numpy as np

    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pth"
    meta = {**_mmcv_meta(), "payload": _SystemCall(f"touch {marker}")}
    torch.save({"meta": meta, "state_dict": {"fcn.weight": torch.zeros(1)}}, evil)
    objects = tmp_path / "objects.pth"
    meta = {"classes": np.array([{"a": 1}], dtype=object)}
    torch.save({"meta": meta, "state_dict": {"fcn.weight": torch.zeros(1)}}, objects)
    for path in (evil, objects):
        ran = run_stgcn("info", str(path))
        assert ran.returncode == 1
        (line,) = ran.stderr.strip().splitlines()
        assert line.startswith(f"stgcn: error: {path} is not a readable checkpoint: "), line
        assert "stgcn does not unpickle those, since that could run code" in line, line
    assert not marker.exists()


class _SystemCall:
    """Unpickled, it would run a shell command: what a malicious checkpoint does."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))
