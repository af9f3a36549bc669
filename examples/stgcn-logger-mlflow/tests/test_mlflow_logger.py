"""A real run logged to a real MLflow file store, read back with MLflow's own client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TINY = [
    "--data-option",
    "train_size=32",
    "--data-option",
    "val_size=16",
    "--data-option",
    "frames=12",
    "--batch-size",
    "8",
]


def test_a_run_logs_params_and_metrics_that_read_back(tmp_path: Path) -> None:
    work = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_EXPERIMENT_NAME"] = "stgcn-test"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stgcn",
            "run",
            *TINY,
            "--epochs",
            "3",
            "--log-every",
            "2",
            "--work-dir",
            str(work),
            "--logger",
            "mlflow",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=(work / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("stgcn-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["epochs"] == "3" and run.data.params["dataset"] == "synthetic"
    rows = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    history = client.get_metric_history(run.info.run_id, "val_top1")
    assert [(m.step, m.value) for m in history] == [(r["epoch"], r["val_top1"]) for r in rows]
    steps = client.get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in steps] == [1, 2, 3]
    step_losses = client.get_metric_history(run.info.run_id, "train/loss")
    assert [m.step for m in step_losses] == [2, 4, 6, 8, 10, 12]
    assert run.data.tags["latest_checkpoint"].endswith("latest.pth.tar")
    assert run.data.metrics["best_top1"] == max(r["val_top1"] for r in rows)


def test_registered_with_the_other_loggers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stgcn", "plugins", "--json"], capture_output=True, text=True
    )
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert [logger["name"] for logger in rows["stgcn-logger-mlflow"]["loggers"]] == ["mlflow"]
