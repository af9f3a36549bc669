"""``stgcn report`` on a finished and on a running run, and ``stgcn info``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from stgcn.reports.run_report import confusion_matrix, normalised
from stgcn.testing.helpers import TINY, run_stgcn


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("report") / "run"
    done = run_stgcn("run", *TINY, "--epochs", "2", "--work-dir", str(work))
    assert done.returncode == 0, done.stderr
    return work


def test_report_of_a_finished_run(finished: Path, tmp_path: Path) -> None:
    plt = pytest.importorskip("matplotlib.pyplot", reason="stgcn report needs matplotlib")
    output = tmp_path / "report"
    done = run_stgcn("report", str(finished), "--output", str(output))
    assert done.returncode == 0, done.stderr
    for name in ("loss.png", "accuracy.png", "lr.png", "confusion.png"):
        image = plt.imread(output / name)  # decodes as a PNG
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, name
    with (output / "per_class.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 10 and rows[0]["name"] == "waving"
    assert sum(int(row["samples"]) for row in rows) == 16
    best = torch.load(finished / "checkpoints" / "best.pth.tar", weights_only=True)
    correct = sum(int(row["correct"]) for row in rows)
    assert correct / 16 == pytest.approx(best["best_top1"])
    summary = (output / "report.md").read_text()
    assert "![confusion matrix](confusion.png)" in summary
    assert f"best val top-1 **{best['best_top1']:.4f}**" in summary


def test_report_of_a_run_still_running(finished: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    running = tmp_path / "running"
    running.mkdir()
    shutil.copy(finished / "config.json", running)
    first = (finished / "metrics.jsonl").read_text().splitlines()[0]
    (running / "metrics.jsonl").write_text(first + "\n" + first[:25])  # a torn second line
    done = run_stgcn("report", str(running))
    assert done.returncode == 0, done.stderr
    assert (running / "report" / "loss.png").is_file()
    assert not (running / "report" / "confusion.png").exists()
    assert "epochs done: 1 of 2" in (running / "report" / "report.md").read_text()


def test_report_of_no_run_is_one_line(tmp_path: Path) -> None:
    done = run_stgcn("report", str(tmp_path))
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        == f"stgcn: error: {tmp_path} holds no metrics.jsonl: not a stgcn run folder"
    )


def test_confusion_rows_are_true_classes_normalised() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    rows = normalised(matrix)
    np.testing.assert_allclose(rows.sum(axis=1), [1, 1, 1, 0])
    assert rows[2, 2] == pytest.approx(2 / 3)


def test_info_of_a_checkpoint(finished: Path) -> None:
    best = finished / "checkpoints" / "best.pth.tar"
    done = run_stgcn("info", str(best), "--json", "--frames", "50")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    state = torch.load(best, weights_only=True)["model"]
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    parameters = sum(v.numel() for k, v in state.items() if k != "A" and not k.endswith(buffers))
    assert facts["parameters"] == parameters
    assert facts["layout"] == "openpose" and facts["joints"] == 18 and facts["num_class"] == 10
    assert facts["class_names"][0] == "waving" and facts["config"]["epochs"] == 2
    longer = json.loads(run_stgcn("info", str(best), "--json", "--frames", "100").stdout)
    assert longer["gflop_per_sample"] == pytest.approx(2 * facts["gflop_per_sample"], rel=0.05)
    assert facts["gflop_per_sample"] > 0
    text = run_stgcn("info", str(best))
    assert text.returncode == 0 and "parameters" in text.stdout and "GFLOP" in text.stdout
    # by default the model's own sample: TINY's 12-frame clips of the synthetic data's persons
    stored = torch.load(best, weights_only=True)["data_facts"]
    assert stored["clip_frames"] == 12
    own = json.loads(run_stgcn("info", str(best), "--json").stdout)
    assert (own["frames"], own["persons"]) == (12, stored["num_person"])
    assert own["gflop_per_sample"] == pytest.approx(facts["gflop_per_sample"] * 12 / 50, rel=0.05)
    assert f"(12 frames, {stored['num_person']} persons)" in text.stdout


def test_info_of_a_dataset_and_bad_arguments() -> None:
    facts = json.loads(run_stgcn("info", "--dataset", "synthetic", "--json").stdout)
    assert facts["num_class"] == 10 and facts["dataset"] == "synthetic"
    assert facts["frames"] == 300 and facts["epoch"] is None
    both = run_stgcn("info")
    assert both.returncode != 0
    assert both.stderr.strip() == "stgcn: error: give a CHECKPOINT or --dataset NAME"
