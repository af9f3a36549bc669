"""What plugins provide: the public path of :mod:`stgcn.plugins.records`, of the kinds'
constants (:mod:`stgcn.plugins.kinds`: ``get_registry().get(DATASETS, name)``), of
:func:`~stgcn.plugins.deferred.lazy` and of the backend defaults a backend may inherit
(:class:`BackendBase`, :mod:`stgcn.plugins.backend`).

``__all__`` is read from the kinds table (each kind's record type and constant) and the
parts and helpers below, which are no kind's own. Importing this module does not import
torch: :class:`BackendBase`, which needs it, is imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# each name imported ``as`` itself: re-exported, for type checkers too
from stgcn.plugins.deferred import lazy as lazy
from stgcn.plugins.kinds import BACKENDS as BACKENDS
from stgcn.plugins.kinds import DATASETS as DATASETS
from stgcn.plugins.kinds import EXPORTERS as EXPORTERS
from stgcn.plugins.kinds import KINDS as _KINDS
from stgcn.plugins.kinds import LAYOUTS as LAYOUTS
from stgcn.plugins.kinds import LOGGERS as LOGGERS
from stgcn.plugins.kinds import MODELS as MODELS
from stgcn.plugins.kinds import POSE_ESTIMATORS as POSE_ESTIMATORS
from stgcn.plugins.kinds import WEIGHTS as WEIGHTS
from stgcn.plugins.records import Accelerator as Accelerator
from stgcn.plugins.records import AugmentBatch as AugmentBatch
from stgcn.plugins.records import AugmentRequest as AugmentRequest
from stgcn.plugins.records import Availability as Availability
from stgcn.plugins.records import Backend as Backend
from stgcn.plugins.records import BuildDataset as BuildDataset
from stgcn.plugins.records import BuildRequest as BuildRequest
from stgcn.plugins.records import DataFacts as DataFacts
from stgcn.plugins.records import Dataset as Dataset
from stgcn.plugins.records import Describe as Describe
from stgcn.plugins.records import DescribeRequest as DescribeRequest
from stgcn.plugins.records import Exporter as Exporter
from stgcn.plugins.records import ExportReport as ExportReport
from stgcn.plugins.records import ExportRequest as ExportRequest
from stgcn.plugins.records import Layout as Layout
from stgcn.plugins.records import Logger as Logger
from stgcn.plugins.records import LoggerContext as LoggerContext
from stgcn.plugins.records import Model as Model
from stgcn.plugins.records import ModelSpec as ModelSpec
from stgcn.plugins.records import NamedClipRequest as NamedClipRequest
from stgcn.plugins.records import NoOptions as NoOptions
from stgcn.plugins.records import PoseEstimator as PoseEstimator
from stgcn.plugins.records import PoseModel as PoseModel
from stgcn.plugins.records import PoseOpenRequest as PoseOpenRequest
from stgcn.plugins.records import ReadNamedClip as ReadNamedClip
from stgcn.plugins.records import ReadSample as ReadSample
from stgcn.plugins.records import RecogniseRequest as RecogniseRequest
from stgcn.plugins.records import RunBackend as RunBackend
from stgcn.plugins.records import RunLogger as RunLogger
from stgcn.plugins.records import SampleRequest as SampleRequest
from stgcn.plugins.records import SkeletonModel as SkeletonModel
from stgcn.plugins.records import Weights as Weights

if TYPE_CHECKING:
    from stgcn.plugins.backend import BackendBase as BackendBase

#: the names that are no kind's record or constant: what records are made of, and helpers
_PARTS = (
    "Accelerator",
    "AugmentBatch",
    "AugmentRequest",
    "Availability",
    "BackendBase",
    "BuildDataset",
    "BuildRequest",
    "DataFacts",
    "Describe",
    "DescribeRequest",
    "ExportReport",
    "ExportRequest",
    "LoggerContext",
    "ModelSpec",
    "NamedClipRequest",
    "NoOptions",
    "PoseModel",
    "PoseOpenRequest",
    "ReadNamedClip",
    "ReadSample",
    "RecogniseRequest",
    "RunBackend",
    "RunLogger",
    "SampleRequest",
    "SkeletonModel",
    "lazy",
)
#: the names imported on first use, from the module that holds each
_ON_FIRST_USE = {"BackendBase": "stgcn.plugins.backend"}

__all__ = sorted(
    {*_PARTS, *(kind.record.__name__ for kind in _KINDS), *(kind.constant for kind in _KINDS)}
)


def __getattr__(name: str) -> Any:
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'stgcn.records' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
