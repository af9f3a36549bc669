"""Looking at a run and a model: ``stgcn report`` (curves, a confusion matrix, a
summary) and ``stgcn info`` (parameters, FLOPs, layout, classes, training config)."""

from stgcn.reports.model_info import model_info
from stgcn.reports.run_report import write_report

__all__ = ["model_info", "write_report"]
