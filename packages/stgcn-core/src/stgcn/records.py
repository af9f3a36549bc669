"""What plugins provide: the public path of :mod:`stgcn.plugins.records`."""

from stgcn.plugins.records import (
    AugmentBatch,
    Availability,
    Backend,
    BuildDataset,
    DataFacts,
    Dataset,
    Describe,
    Exporter,
    Logger,
    PoseEstimator,
    PoseModel,
    ReadSample,
    RunLogger,
)

__all__ = [
    "AugmentBatch",
    "Availability",
    "Backend",
    "BuildDataset",
    "DataFacts",
    "Dataset",
    "Describe",
    "Exporter",
    "Logger",
    "PoseEstimator",
    "PoseModel",
    "ReadSample",
    "RunLogger",
]
