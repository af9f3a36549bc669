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

import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import onnx
import torch

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option
from stgcn_export.metadata import MODEL_CONFIG_KEY, write_metadata
from stgcn_export.verification import ShapeCheck, VerificationError, verify_onnx

INPUT_NAME = "skeleton"
OUTPUT_NAME = "logits"
#: Input axes left free in a dynamic export: (N, C, T, V, M) -> batch, frames, persons.
DYNAMIC_INPUT_AXES = {0: "batch", 2: "frames", 4: "persons"}
MIN_OPSET = 11
DEFAULT_OPSET = 17
DEFAULT_TOLERANCE = 1e-4


def _max_opset() -> int:
    """The highest opset torch's TorchScript exporter writes (20 in torch 2.13)."""
    try:
        from torch.onnx import _constants
    except ImportError:  # a private module: fall back to an opset every recent torch writes
        return DEFAULT_OPSET
    return int(getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", DEFAULT_OPSET))


MAX_OPSET = _max_opset()

Shape3 = tuple[int, int, int]


def _shapes(value: Any, what: str) -> tuple[Shape3, ...]:
    try:
        return tuple(tuple(int(n) for n in shape) for shape in value)  # type: ignore[misc]
    except (TypeError, ValueError):
        raise StgcnError(f"{what} expects (batch, frames, persons) shapes, got {value!r}") from None


def _metadata(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise StgcnError(f"{what} expects a mapping of strings, got {value!r}")
    return {str(key): str(text) for key, text in value.items()}


@dataclass(frozen=True)
class OnnxOptions(Settings):
    """What the ``onnx`` exporter takes in its ``options`` mapping.

    ``batch``, ``frames`` and ``persons`` shape the example input the exporter traces
    with; with ``static`` they become the only shape the file accepts. Verification
    runs onnxruntime against PyTorch at ``verify_shapes`` (``(batch, frames,
    persons)`` triples), by default two shapes other than the example's, so that the
    dynamic axes are exercised and not only declared.
    """

    family: ClassVar[str] = "onnx exporter"
    sort_known: ClassVar[bool] = True

    opset: int = option(DEFAULT_OPSET, "the ONNX opset")
    batch: int = option(1, "clips in the example input")
    frames: int = option(150, "frames in the example input")
    persons: int = option(2, "persons in the example input")
    static: bool = option(False, "the example's shape is the only one the file takes")
    verify: bool = option(True, "compare onnxruntime with PyTorch after writing")
    verify_shapes: tuple[Shape3, ...] = option(
        (), "(batch, frames, persons) shapes to verify at", parse=_shapes
    )
    tolerance: float = option(DEFAULT_TOLERANCE, "the largest difference verification allows")
    seed: int | None = option(None, "the seed of the random verification inputs")
    metadata: Mapping[str, str] = option({}, "extra metadata_props", parse=_metadata)

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | OnnxOptions) -> OnnxOptions:
        """Checked options: unknown keys, wrong types and impossible values are refused."""
        made = options if isinstance(options, OnnxOptions) else cls.parse(options)
        made.check()
        return made

    def check(self) -> None:
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise StgcnError(
                f"opset {self.opset} is not supported: choose {MIN_OPSET} to {MAX_OPSET}"
            )
        for name in ("batch", "frames", "persons"):
            if getattr(self, name) < 1:
                raise StgcnError(f"--{name} must be at least 1")
        if not self.tolerance > 0:
            raise StgcnError("--tolerance must be above 0")
        for shape in self.verify_shapes:
            if len(shape) != 3 or min(shape) < 1:
                raise StgcnError(f"verification shape {shape} is not (batch, frames, persons) >= 1")
        if self.static and any(s != self.example for s in self.verify_shapes):
            raise StgcnError(
                "a --static model takes only its example shape "
                f"{'x'.join(map(str, self.example))}; verify it at that shape or drop --static"
            )

    @property
    def example(self) -> Shape3:
        return (self.batch, self.frames, self.persons)

    def shapes_to_verify(self) -> tuple[Shape3, ...]:
        """Two shapes that differ from the example in every free axis (or the example
        itself for a static export, which takes nothing else)."""
        if self.verify_shapes:
            return self.verify_shapes
        if self.static:
            return (self.example,)
        b, t, m = self.example
        shorter = t // 2 if t > 1 else 2
        return ((b + 2, shorter, m), (b + 1, t + t // 2 + 1, m + 1))


@dataclass(frozen=True)
class OnnxExportReport:
    """What was written, and how it compared with PyTorch (``checks`` is empty when
    verification was switched off)."""

    path: Path
    opset: int
    input_shape: tuple[int | str, ...]
    output_shape: tuple[int | str, ...]
    checks: tuple[ShapeCheck, ...] = ()

    def describe(self) -> str:
        def dims(shape: Sequence[int | str]) -> str:
            return "(" + ", ".join(map(str, shape)) + ")"

        return (
            f"wrote {self.path}: opset {self.opset}, input {INPUT_NAME} {dims(self.input_shape)}"
            f", output {OUTPUT_NAME} {dims(self.output_shape)}"
        )


def model_input_facts(model: torch.nn.Module) -> tuple[int, int, int]:
    """(channels, joints, classes) of an ST-GCN model, read from the model itself."""
    stgcn_model: Any = model  # torch types a Module's attributes as tensors or modules
    try:
        channels = int(stgcn_model.in_channels)
        joints = int(stgcn_model.A.shape[1])
        classes = int(stgcn_model.num_class)
    except AttributeError:
        raise StgcnError(
            "the onnx exporter takes an ST-GCN model (with in_channels, A and num_class)"
        ) from None
    return channels, joints, classes


def export_onnx(
    model: torch.nn.Module, output: str | os.PathLike[str], options: Mapping[str, Any]
) -> OnnxExportReport:
    """Write ``model``, in eval mode, to ``output`` as ONNX, verifying it unless
    ``options["verify"]`` is false; see :class:`OnnxOptions` for the options. A model
    passed in training mode is put back in it afterwards."""
    settings = OnnxOptions.from_mapping(options)
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
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    _allow_as_umask(temporary)
    try:
        _trace_to_file(model, temporary, settings, channels, joints)
        proto = onnx.load(temporary)
        _name_output_axes(proto, settings, classes)
        metadata = dict(settings.metadata)
        if hasattr(model, "config"):
            metadata.setdefault(MODEL_CONFIG_KEY, json.dumps(cast(Any, model).config()))
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
        input_shape = ("batch", channels, "frames", joints, "persons")
        output_shape = ("batch", classes)
    return OnnxExportReport(output, settings.opset, input_shape, output_shape, checks)


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
    dynamic_axes = (
        None
        if settings.static
        else {INPUT_NAME: DYNAMIC_INPUT_AXES, OUTPUT_NAME: {0: DYNAMIC_INPUT_AXES[0]}}
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
