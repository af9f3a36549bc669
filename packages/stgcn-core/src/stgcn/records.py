"""What plugins provide: the public path of :mod:`stgcn.plugins.records`, and of the
backend defaults a backend may inherit (:class:`BackendBase`, :mod:`stgcn.plugins.backend`)."""

from stgcn.plugins.backend import BackendBase
from stgcn.plugins.records import (
    Accelerator,
    AugmentBatch,
    Availability,
    Backend,
    BuildDataset,
    DataFacts,
    Dataset,
    Describe,
    Exporter,
    ExportReport,
    ExportRequest,
    Logger,
    LoggerContext,
    PoseEstimator,
    PoseModel,
    ReadNamedClip,
    ReadSample,
    RunBackend,
    RunLogger,
)

__all__ = [
    "Accelerator",
    "AugmentBatch",
    "Availability",
    "Backend",
    "BackendBase",
    "BuildDataset",
    "DataFacts",
    "Dataset",
    "Describe",
    "ExportReport",
    "ExportRequest",
    "Exporter",
    "Logger",
    "LoggerContext",
    "PoseEstimator",
    "PoseModel",
    "ReadNamedClip",
    "ReadSample",
    "RunBackend",
    "RunLogger",
]
