"""The installed plugin through the real ``stgcn`` command: convert, then train and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ntu_helpers import one_error_line
from stgcn_data_ntu import dataset as ntu_dataset
from stgcn_data_ntu.benchmarks import XSUB
from stgcn_data_ntu.label_file import read_label_file
from stgcn_data_ntu.skeleton_file import read_skeleton_file

from stgcn.records import BuildRequest
from stgcn.testing.helpers import run_stgcn


def build(benchmark, split: str, data_path: Path, options: dict, training: bool | None = None):
    """The dataset's ``build``, asked as the trainer asks (training: the train split)."""
    training = split == "train" if training is None else training
    return ntu_dataset.build(benchmark, BuildRequest(split, data_path, options, training=training))


def test_convert_writes_both_protocols_and_keeps_existing_files(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_stgcn(
        "data", "convert", "ntu", "--input", str(raw), "--output", str(out), "--max-frames", "16"
    )
    assert result.returncode == 0, result.stderr
    assert "xsub train: 6 samples" in result.stdout and "xview val: 6 samples" in result.stdout
    names, labels = read_label_file(out / "xsub" / "val_label.pkl", 60)
    data = np.load(out / "xsub" / "val_data.npy")
    assert data.shape == (6, 3, 16, 25, 2) and data.dtype == np.float32
    for index, name in enumerate(names):
        np.testing.assert_array_equal(data[index], read_skeleton_file(raw / f"{name}.skeleton", 16))
        assert labels[index] == int(name[-3:]) - 1
    assert sorted(p.name for p in (out / "xview").iterdir()) == [
        "train_data.npy",
        "train_label.pkl",
        "val_data.npy",
        "val_label.pkl",
    ]
    before = (out / "xsub" / "train_data.npy").read_bytes()
    again = run_stgcn("data", "convert", "ntu", "--input", str(raw), "--output", str(out))
    assert "exists; pass --overwrite" in one_error_line(again)
    assert (out / "xsub" / "train_data.npy").read_bytes() == before
    converted = build(XSUB, "val", out, {"max_frames": "16"})
    np.testing.assert_array_equal(converted[0][0].numpy(), data[0])


def test_trains_with_stgcn_run_on_generated_files(raw: Path, tmp_path: Path) -> None:
    work = tmp_path / "run"
    result = run_stgcn(
        "run",
        "--dataset",
        "ntu-xsub",
        "--data-path",
        str(raw),
        "--data-option",
        "max_frames=12",
        "--epochs",
        "1",
        "--batch-size",
        "3",
        "--lr",
        "0.01",
        "--steps",
        "5",
        "--precision",
        "fp32",
        "--work-dir",
        str(work),
    )
    assert result.returncode == 0, result.stderr
    metrics = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in metrics] == [1]
    assert all(np.isfinite(m["train_loss"]) and 0 <= m["val_top1"] <= 1 for m in metrics)
    assert (work / "checkpoints" / "best.pth.tar").is_file()
    evaluated = run_stgcn(
        "eval", "--checkpoint", str(work / "checkpoints" / "best.pth.tar"), "--json"
    )
    assert evaluated.returncode == 0, evaluated.stderr


def test_user_mistakes_end_in_one_line(raw: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_stgcn("run", "--dataset", "ntu-xview", "--data-path", str(empty))
    assert "no .skeleton files and no converted arrays" in one_error_line(nothing)
    (raw / "S001C001P001R001A001.skeleton").write_text("3\n1\n")
    broken = run_stgcn(
        "run",
        "--dataset",
        "ntu-xsub",
        "--data-path",
        str(raw),
        "--epochs",
        "1",
        "--work-dir",
        str(tmp_path / "w"),
    )
    assert "S001C001P001R001A001.skeleton:3: file ends" in one_error_line(broken)


def test_the_pyskl_preset_trains_and_its_evaluation_scores_ten_clips(
    raw: Path, tmp_path: Path
) -> None:
    work = tmp_path / "run"
    result = run_stgcn(
        "run",
        "--dataset",
        "ntu-xsub",
        "--data-path",
        str(raw),
        "--preset",
        "pyskl",
        "--data-option",
        "clip_len=8",
        "--epochs",
        "1",
        "--batch-size",
        "3",
        "--precision",
        "fp32",
        "--work-dir",
        str(work),
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((work / "config.json").read_text())
    assert config["data_options"] == {"sampling": "uniform", "clip_len": "8"}
    assert config["eval_data_options"] == {"num_clips": 10}
    assert config["lr_schedule"] == "cosine" and config["lr_scaling"] == "linear"
    best = str(work / "checkpoints" / "best.pth.tar")
    ten = run_stgcn(
        "eval", "--checkpoint", best, "--json", "--save-scores", str(tmp_path / "a.npz")
    )
    one = run_stgcn("eval", "--checkpoint", best, "--json", "--data-option", "num_clips=1")
    assert ten.returncode == 0 and one.returncode == 0, ten.stderr + one.stderr
    assert json.loads(ten.stdout)["samples"] == json.loads(one.stdout)["samples"] == 6
    scores = np.load(tmp_path / "a.npz")["scores"]
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
