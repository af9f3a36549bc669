"""The hooks a stgcn plugin can implement.

Each ``stgcn_register_*`` hook receives a ``register`` callback: call it once per
thing provided. The built-in cpu backend, synthetic dataset, layouts and ST-GCN use these
hooks too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from stgcn.plugins.records import (
        Backend,
        Dataset,
        Exporter,
        Layout,
        Logger,
        Model,
        PoseEstimator,
        Weights,
    )

hookspec = pluggy.HookspecMarker("stgcn")
hookimpl = pluggy.HookimplMarker("stgcn")


@hookspec
def stgcn_register_backends(register: Callable[[Backend], None]) -> None:
    """Register device backends (``stgcn run --backend NAME``)."""


@hookspec
def stgcn_register_datasets(register: Callable[[Dataset], None]) -> None:
    """Register datasets (``stgcn run --dataset NAME``)."""


@hookspec
def stgcn_register_exporters(register: Callable[[Exporter], None]) -> None:
    """Register model exporters (for example ONNX)."""


@hookspec
def stgcn_register_loggers(register: Callable[[Logger], None]) -> None:
    """Register run loggers (``stgcn run --logger NAME``), which receive the training
    events: run start, step scalars, epoch metrics, checkpoints, run end."""


@hookspec
def stgcn_register_pose_estimators(register: Callable[[PoseEstimator], None]) -> None:
    """Register pose estimators (``stgcn predict --video FILE --estimator NAME``, ``stgcn
    data extract --estimator NAME``), which turn video frames into skeletons (API 1.3)."""


@hookspec
def stgcn_register_layouts(register: Callable[[Layout], None]) -> None:
    """Register skeleton layouts (``--data-option layout=NAME``, ``--layout NAME``): a
    layout names its joints, lists its bones and picks its centre (API 2.1)."""


@hookspec
def stgcn_register_models(register: Callable[[Model], None]) -> None:
    """Register networks (``stgcn run --model NAME``, ``--model-option KEY=VALUE``): a
    builder from a spec, the model's options and, optionally, a way to recognise weights
    another codebase saved (API 2.2)."""


@hookspec
def stgcn_register_weights(register: Callable[[Weights], None]) -> None:
    """Register released checkpoints by name (``stgcn weights list``, ``stgcn run
    --weights NAME``, ``--checkpoint NAME``): where a project publishes each, for which
    registered model and layout, with its size and SHA-256 where known (API 2.3)."""


@hookspec
def stgcn_register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``stgcn`` command line."""
