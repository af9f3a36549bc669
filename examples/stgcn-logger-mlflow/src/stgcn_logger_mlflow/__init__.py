"""An MLflow logger for stgcn: ``stgcn run --logger mlflow``.

Written only against stgcn's public plugin API (``stgcn.hookspecs``,
``stgcn.records``, ``stgcn.errors``). Each run becomes an MLflow run in the experiment
``MLFLOW_EXPERIMENT_NAME`` (default "stgcn"), at ``MLFLOW_TRACKING_URI``; without one,
in a local file store under the run's work dir (``WORK_DIR/mlruns``), no server needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError
from stgcn.hookspecs import hookimpl
from stgcn.records import Logger, LoggerContext

__version__ = "0.1.0"
STGCN_API = ">=2,<3"

#: epoch metrics logged, under their metrics.jsonl names
EPOCH_METRICS = (
    *("train_loss", "val_loss", "val_top1", "val_top5", "val_mean_class_accuracy"),
    *("lr", "samples_per_s", "epoch_seconds"),
)


def tracking_uri(work_dir: Path) -> str:
    """``MLFLOW_TRACKING_URI``, else a file store in the work dir."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path(work_dir).resolve() / "mlruns").as_uri()


class MlflowRun:
    """One stgcn run as one MLflow run: parameters from the config, step and epoch
    metrics, checkpoints as tags, the status at the end."""

    def __init__(self, work_dir: Path) -> None:
        uri = tracking_uri(work_dir)
        if uri.startswith("file:"):
            # MLflow 3 keeps its file store in maintenance mode behind this switch; it
            # is the store that needs no server and no database
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise StgcnError("--logger mlflow needs mlflow: pip install mlflow-skinny") from None
        self.client_class = MlflowClient
        self.uri = uri
        self.run_name = Path(work_dir).name
        self.run_id = ""

    def run_started(self, config: Mapping[str, Any]) -> None:
        # the store, the experiment and the run are made here, not when the logger is
        # created: creating one must write nothing (a run that cannot start leaves no files)
        self.client = self.client_class(tracking_uri=self.uri)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "stgcn")
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = (
            experiment.experiment_id if experiment else self.client.create_experiment(name)
        )
        self.run_id = self.client.create_run(experiment_id, run_name=self.run_name).info.run_id
        for key, value in sorted(config.items()):
            self.client.log_param(self.run_id, key, str(value)[:500])

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        for key, value in scalars.items():
            # "train/loss" stays apart from the epoch metric "train_loss"
            self.client.log_metric(self.run_id, key, float(value), step=step)

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        for key in EPOCH_METRICS:
            if key in metrics:
                self.client.log_metric(self.run_id, key, float(metrics[key]), step=epoch)

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None:
        self.client.set_tag(
            self.run_id, "best_checkpoint" if best else "latest_checkpoint", str(path)
        )

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        failed = "error" in summary
        if not failed and "best_top1" in summary:
            self.client.log_metric(self.run_id, "best_top1", float(summary["best_top1"]))
        self.client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")


def create(context: LoggerContext) -> MlflowRun:
    """The run's MLflow client; the MLflow run itself starts with stgcn's."""
    return MlflowRun(context.work_dir)


@hookimpl
def stgcn_register_loggers(register: Callable[[Logger], None]) -> None:
    register(
        Logger(
            name="mlflow",
            create=create,
            description="MLflow tracking: MLFLOW_TRACKING_URI, else a file store in WORK_DIR",
        )
    )
