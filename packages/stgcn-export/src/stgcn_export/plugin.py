"""The stgcn plugin: exporter ``onnx``, the ``stgcn export onnx`` and ``stgcn predict`` commands.

Kept import-light: every ``stgcn`` invocation loads this module, so torch, onnx and
onnxruntime are imported only inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgcn.hookspecs import hookimpl
from stgcn.records import Exporter

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

if TYPE_CHECKING:
    import click
    import torch

    from stgcn_export.onnx_export import OnnxExportReport


def export_onnx(
    model: torch.nn.Module, output: Path, options: Mapping[str, Any]
) -> OnnxExportReport:
    """The exporter record's entry: the real work lives in :mod:`stgcn_export.onnx_export`."""
    from stgcn_export.onnx_export import export_onnx as export

    return export(model, output, options)


ONNX_EXPORTER = Exporter(
    name="onnx",
    export=export_onnx,
    description="ONNX (opset 11-20), dynamic batch, frames and persons, verified in onnxruntime",
    suffix=".onnx",
)


@hookimpl
def stgcn_register_exporters(register: Callable[[Exporter], None]) -> None:
    register(ONNX_EXPORTER)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn_export.commands import add_commands

    add_commands(cli)
