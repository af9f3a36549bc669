"""The built-in ``tensorboard`` logger: event files under ``WORK_DIR/tensorboard``.

Written through ``torch.utils.tensorboard``, which needs the ``tensorboard`` package
(``pip install tensorboard``); without it ``--logger tensorboard`` stops the run
before it starts, in one line. Importing this module imports neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.records import Logger, LoggerContext

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

#: epoch metrics and the tag each is written under
EPOCH_TAGS = {
    "train_loss": "train/epoch_loss",
    "val_loss": "val/loss",
    "val_top1": "val/top1",
    "val_top5": "val/top5",
    "val_mean_class_accuracy": "val/mean_class_accuracy",
    "lr": "train/epoch_lr",
    "samples_per_s": "train/samples_per_s_epoch",
}


class TensorBoardRun:
    """One run's SummaryWriter: step scalars at their global step, epoch metrics at the
    epoch number, the configuration as text. The writer (and its folder) is made by
    ``run_started``: creating a logger writes nothing."""

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise StgcnError(
                "--logger tensorboard needs the tensorboard package: pip install tensorboard"
            ) from None
        self.folder = folder
        self.summary_writer = SummaryWriter
        self.writer: Any = None

    def run_started(self, config: Mapping[str, Any]) -> None:
        self.writer = self.summary_writer(log_dir=str(self.folder))
        text = json.dumps(config, indent=2, sort_keys=True, default=str)
        self.writer.add_text("config", f"```\n{text}\n```", 0)

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, step)

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        for key, tag in EPOCH_TAGS.items():
            if key in metrics:
                self.writer.add_scalar(tag, float(metrics[key]), epoch)
        self.writer.flush()

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        self.writer.flush()
        self.writer.close()


def create(context: LoggerContext) -> TensorBoardRun:
    """The run's writer, made (with its folder) only when the run starts."""
    return TensorBoardRun(Path(context.work_dir) / "tensorboard")


TENSORBOARD = Logger(
    name="tensorboard",
    create=create,
    description="TensorBoard event files under WORK_DIR/tensorboard (needs tensorboard)",
)


@hookimpl
def stgcn_register_loggers(register: Callable[[Logger], None]) -> None:
    register(TENSORBOARD)
