"""Writing an ST-GCN model to an ONNX file, verified before it takes the output's place.

The export uses torch's TorchScript-based exporter (``torch.onnx.export(...,
dynamo=False)``). In torch 2.13 it writes the opset asked for, 11 through 20, with
dynamic axes, and needs nothing beyond onnx. The newer torch.export-based exporter
writes opset 18 and converts down afterwards; on this network that conversion fails
and it silently keeps opset 18, which is no use to an engine that stops at 11 or 17
(README.md has the details).

The file is written under a temporary name beside the output and renamed only once
it has passed verification: a failed export never replaces a good file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from stgcn.errors import StgcnError
from stgcn_export.metadata import MODEL_CONFIG_KEY, write_metadata
from stgcn_export.onnx_options import DEFAULT_TOLERANCE, OnnxOptions, max_opset
from stgcn_export.verification import ShapeCheck, VerificationError, verify_onnx

INPUT_NAME = "skeleton"
OUTPUT_NAME = "logits"
#: Input axes left free in a dynamic export: (N, C, T, V, M) -> batch, frames, persons.
DYNAMIC_INPUT_AXES = {0: "batch", 2: "frames", 4: "persons"}
#: the highest opset this torch writes
MAX_OPSET = max_opset()


@dataclass(frozen=True)
class OnnxExportReport:
    """What was written, and how it compared with PyTorch (``checks`` is empty when
    verification was switched off)."""

    path: Path
    opset: int
    input_shape: tuple[int | str, ...]
    output_shape: tuple[int | str, ...]
    checks: tuple[ShapeCheck, ...] = ()
    #: the largest relative error verification accepted
    tolerance: float = DEFAULT_TOLERANCE

    def lines(self) -> list[str]:
        """What ``stgcn export onnx`` prints: the file, then its verification."""
        if not self.checks:
            return [self.describe(), "not verified (--no-verify)"]
        errors = ", ".join(check.describe() for check in self.checks)
        return [
            self.describe(),
            f"verified: onnx.checker passed; onnxruntime vs PyTorch relative error {errors} "
            f"(tolerance {self.tolerance:.0e})",
        ]

    def describe(self) -> str:
        def dims(shape: Sequence[int | str]) -> str:
            return "(" + ", ".join(map(str, shape)) + ")"

        return (
            f"wrote {self.path}: opset {self.opset}, input {INPUT_NAME} {dims(self.input_shape)}"
            f", output {OUTPUT_NAME} {dims(self.output_shape)}"
        )


def model_input_facts(model: torch.nn.Module) -> tuple[int, int, int]:
    """(channels, joints, classes) of a network, read from the model contract
    (:class:`stgcn.model.contract.SkeletonModel`: ``input_shape`` and ``num_class``)."""
    network: Any = model  # the contract's members, which nn.Module does not declare
    try:
        channels, _, joints, _ = network.input_shape(1)
        classes = int(network.num_class)
    except (AttributeError, TypeError, ValueError):
        raise StgcnError(
            "the onnx exporter takes a network that meets stgcn's model contract "
            "(input_shape and num_class: stgcn.model.contract.SkeletonModel)"
        ) from None
    return int(channels), int(joints), classes


def export_onnx(
    model: torch.nn.Module, output: str | os.PathLike[str], options: Mapping[str, Any]
) -> OnnxExportReport:
    """Write ``model``, in eval mode, to ``output`` as ONNX, verifying it unless
    ``options["verify"]`` is false; see :class:`OnnxOptions` for the options. A model
    passed in training mode is put back in it afterwards."""
    settings = OnnxOptions.from_mapping(options)
    network: Any = model  # the contract's members, which nn.Module does not declare
    if getattr(network, "fixed_persons", False):  # e.g. a batch norm per person (CTR-GCN)
        persons = int(network.persons)
        settings = dataclasses.replace(settings, persons=persons, fixed_persons=True)
    output = Path(output)
    if output.is_dir():
        raise StgcnError(f"output {output} is a folder; give a file name such as model.onnx")
    model_input_facts(model)
    was_training = model.training
    model.eval()
    try:
        return _export_eval_model(model, output, settings)
    finally:
        model.train(was_training)


def _export_eval_model(
    model: torch.nn.Module, output: Path, settings: OnnxOptions
) -> OnnxExportReport:
    channels, joints, classes = model_input_facts(model)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    except OSError as error:  # the temporary file's name is ours, the output the user's
        raise StgcnError(f"cannot write {output}: {error.strerror or error}") from None
    os.close(handle)
    temporary = Path(temporary_name)
    _allow_as_umask(temporary)
    try:
        _trace_to_file(model, temporary, settings, channels, joints)
        proto = onnx.load(temporary)
        _name_output_axes(proto, settings, classes)
        metadata = dict(settings.metadata)
        config = getattr(model, "config", None)
        if callable(config):
            metadata.setdefault(MODEL_CONFIG_KEY, json.dumps(config()))
        write_metadata(proto, metadata)
        onnx.save(proto, temporary)
        checks: tuple[ShapeCheck, ...] = ()
        if settings.verify:
            shapes = [(b, channels, t, joints, m) for b, t, m in settings.shapes_to_verify()]
            try:
                checks = tuple(
                    verify_onnx(temporary, model, shapes, settings.tolerance, seed=settings.seed)
                )
            except VerificationError as error:
                kept = "left as it was" if output.exists() else "not written"
                raise StgcnError(f"{error}; {output} {kept}") from None
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    b, t, m = settings.example
    if settings.static:
        input_shape: tuple[int | str, ...] = (b, channels, t, joints, m)
        output_shape: tuple[int | str, ...] = (b, classes)
    else:
        input_shape = (
            "batch",
            channels,
            "frames",
            joints,
            m if settings.fixed_persons else "persons",
        )
        output_shape = ("batch", classes)
    return OnnxExportReport(
        output, settings.opset, input_shape, output_shape, checks, settings.tolerance
    )


def _allow_as_umask(path: Path) -> None:
    """mkstemp makes a private file; the export should get the permissions a plain
    ``open(output, "w")`` would have given it."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def _name_output_axes(proto: onnx.ModelProto, settings: OnnxOptions, classes: int) -> None:
    """Write the class count into the output's type: the tracer leaves the last axis of
    ``view(n, -1)`` unnamed, and a consumer should read the class count off the file."""
    batch_axis, class_axis = proto.graph.output[0].type.tensor_type.shape.dim
    if settings.static:
        batch_axis.dim_value = settings.batch
    else:
        batch_axis.dim_param = DYNAMIC_INPUT_AXES[0]
    class_axis.dim_value = classes


def _trace_to_file(
    model: torch.nn.Module, path: Path, settings: OnnxOptions, channels: int, joints: int
) -> None:
    b, t, m = settings.example
    device = next(model.parameters()).device
    generator = np.random.default_rng(settings.seed)
    example = torch.from_numpy(
        generator.standard_normal((b, channels, t, joints, m), dtype=np.float32)
    ).to(device)
    free = {
        axis: name
        for axis, name in DYNAMIC_INPUT_AXES.items()
        if axis != 4 or not settings.fixed_persons
    }
    dynamic_axes = (
        None if settings.static else {INPUT_NAME: free, OUTPUT_NAME: {0: DYNAMIC_INPUT_AXES[0]}}
    )
    with warnings.catch_warnings():
        # the TorchScript exporter is chosen on purpose (see the module docstring)
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", message="The feature will be removed")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            opset_version=settings.opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
        )
