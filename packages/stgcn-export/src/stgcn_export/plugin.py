"""The stgcn plugin: the exporter ``onnx`` (which is ``stgcn export onnx``) and the
``stgcn predict`` command.

Kept import-light: every ``stgcn`` invocation loads this module, so torch, onnx and
onnxruntime are imported only inside the functions that use them; the options family
(:mod:`stgcn_export.onnx_options`), from which ``stgcn export onnx`` is made, imports
neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stgcn.hookspecs import hookimpl
from stgcn.records import Exporter, ExportRequest
from stgcn_export.onnx_options import OnnxOptions

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.2,<3"

if TYPE_CHECKING:
    import click

    from stgcn_export.onnx_export import OnnxExportReport


def export_onnx(request: ExportRequest) -> OnnxExportReport:
    """The exporter record's entry: the request's options, with the persons of its
    sample and what it knows of the model's data stored in the file's metadata; the work
    itself is :func:`stgcn_export.onnx_export.export_onnx`."""
    from stgcn.model.contract import as_module
    from stgcn_export.metadata import MODEL_NAME_KEY, describe_dataset
    from stgcn_export.onnx_export import export_onnx as export

    options = dict(request.options)
    options.setdefault("persons", request.persons)
    stored = describe_dataset(
        request.dataset, request.class_names, request.data_options, request.coordinates
    )
    stored[MODEL_NAME_KEY] = request.model_name
    options["metadata"] = {**stored, **options.get("metadata", {})}
    return export(as_module(request.model), request.output, options)


ONNX_EXPORTER = Exporter(
    name="onnx",
    export=export_onnx,
    description="ONNX (opset 11-20), dynamic batch, frames and persons, verified in onnxruntime",
    suffix=".onnx",
    settings=OnnxOptions,
)


@hookimpl
def stgcn_register_exporters(register: Callable[[Exporter], None]) -> None:
    register(ONNX_EXPORTER)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn_export.commands import add_commands

    add_commands(cli)
