"""The ``onnx`` exporter's options, one :class:`~stgcn.plugins.settings.Settings`
family: the keys a program passes to :func:`stgcn_export.export_onnx` and, field by
field, the options of ``stgcn export onnx`` (the command is made from them). Kept free
of torch and onnx, which load only when an export runs: ``stgcn`` builds every
exporter's command when it starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Flag, Settings, option

MIN_OPSET = 11
DEFAULT_OPSET = 17
DEFAULT_TOLERANCE = 1e-4
#: the largest batch, frames or persons of an example or verification input: beyond
#: numpy's and torch's dimension limits a size is an error inside the exporter
MOST_PER_AXIS = 10_000
#: the persons of the example input where neither the options nor the request say
DEFAULT_PERSONS = 2

Shape3 = tuple[int, int, int]


def max_opset() -> int:
    """The highest opset torch's TorchScript exporter writes (20 in torch 2.13)."""
    try:
        from torch.onnx import _constants
    except ImportError:  # a private module: fall back to an opset every recent torch writes
        return DEFAULT_OPSET
    return int(getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", DEFAULT_OPSET))


def parse_shapes(value: Any, what: str) -> tuple[Shape3, ...]:
    """(batch, frames, persons) triples, or ``BxTxM`` texts as typed after ``--verify-shape``."""
    shapes = [value] if isinstance(value, str) else value
    try:
        return tuple(_shape(shape, what) for shape in shapes)
    except TypeError:
        raise StgcnError(f"{what} expects (batch, frames, persons) shapes, got {value!r}") from None


def _shape(shape: Any, what: str) -> Shape3:
    if isinstance(shape, str):
        try:
            batch, frames, persons = (int(part) for part in shape.lower().split("x"))
        except ValueError:
            raise StgcnError(
                f"{what} expects BATCHxFRAMESxPERSONS such as 3x72x2, got {shape!r}"
            ) from None
        return batch, frames, persons
    try:
        return tuple(int(n) for n in shape)  # type: ignore[return-value]
    except ValueError:
        raise StgcnError(f"{what} expects (batch, frames, persons) shapes, got {shape!r}") from None


def _metadata(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise StgcnError(f"{what} expects a mapping of strings, got {value!r}")
    return {str(key): str(text) for key, text in value.items()}


@dataclass(frozen=True)
class OnnxOptions(Settings):
    """What the ``onnx`` exporter takes in its ``options`` mapping.

    ``batch``, ``frames`` and ``persons`` shape the example input the exporter traces
    with (``persons`` None: the request's, else 2); with ``static`` they become the only
    shape the file accepts. Verification runs onnxruntime against PyTorch at
    ``verify_shapes`` (``(batch, frames, persons)`` triples), by default two shapes other
    than the example's, so that the dynamic axes are exercised and not only declared.
    The fields whose help is a :class:`~stgcn.plugins.settings.Flag` are the options of
    ``stgcn export onnx``, their help its ``--help``.
    """

    family: ClassVar[str] = "onnx exporter"
    sort_known: ClassVar[bool] = True

    opset: int = option(DEFAULT_OPSET, Flag("ONNX opset, 11 to 20.", show_default=True))
    batch: int = option(1, Flag("Example batch size.", show_default=True))
    frames: int = option(150, Flag("Example frames.", show_default=True))
    persons: int | None = option(None, Flag("Example persons. Default: the dataset's, else 2."))
    static: bool = option(
        False,
        Flag("Fix the input to the example shape. Default: batch, frames and persons are dynamic."),
    )
    verify: bool = option(
        True,
        Flag(
            "Check the file with onnx.checker and compare onnxruntime with PyTorch.",
            show_default=True,
        ),
    )
    verify_shapes: tuple[Shape3, ...] = option(
        (),
        Flag(
            "Compare at this batch x frames x persons; repeatable. Default: two shapes "
            "other than the example's.",
            name="--verify-shape",
            metavar="BxTxM",
            repeat=True,
        ),
        parse=parse_shapes,
    )
    tolerance: float = option(
        DEFAULT_TOLERANCE, Flag("Largest relative error accepted.", show_default=True)
    )
    #: for programs only (their help is no Flag): no option of ``stgcn export onnx``
    seed: int | None = option(None, "the seed of the random verification inputs")
    metadata: Mapping[str, str] = option({}, "extra metadata_props", parse=_metadata)
    #: set from the model (its contract's optional ``fixed_persons``): the network takes
    #: exactly the example's persons, so that axis is neither free nor varied
    fixed_persons: bool = option(False, "the network takes only the example's persons")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | OnnxOptions) -> OnnxOptions:
        """Checked options: unknown keys, wrong types and impossible values are refused."""
        made = options if isinstance(options, OnnxOptions) else cls.parse(options)
        made.check()
        return made

    def check(self) -> None:
        highest = max_opset()
        if not MIN_OPSET <= self.opset <= highest:
            raise StgcnError(
                f"opset {self.opset} is not supported: choose {MIN_OPSET} to {highest}"
            )
        for name in ("batch", "frames", "persons"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise StgcnError(f"--{name} must be at least 1")
            if value is not None and value > MOST_PER_AXIS:
                raise StgcnError(f"--{name} must be at most {MOST_PER_AXIS:,} (an example input)")
        if not self.tolerance > 0:
            raise StgcnError("--tolerance must be above 0")
        for shape in self.verify_shapes:
            if len(shape) != 3 or min(shape) < 1 or max(shape) > MOST_PER_AXIS:
                raise StgcnError(
                    f"verification shape {shape} is not (batch, frames, persons) "
                    f"from 1 to {MOST_PER_AXIS:,}"
                )
        if self.static and any(s != self.example for s in self.verify_shapes):
            raise StgcnError(
                "a --static model takes only its example shape "
                f"{'x'.join(map(str, self.example))}; verify it at that shape or drop --static"
            )

    @property
    def example(self) -> Shape3:
        persons = self.persons if self.persons is not None else DEFAULT_PERSONS
        return (self.batch, self.frames, persons)

    def shapes_to_verify(self) -> tuple[Shape3, ...]:
        """Two shapes that differ from the example in every free axis (or the example
        itself for a static export, which takes nothing else)."""
        if self.verify_shapes:
            return self.verify_shapes
        if self.static:
            return (self.example,)
        b, t, m = self.example
        shorter = t // 2 if t > 1 else 2
        more = m if self.fixed_persons else m + 1
        return ((b + 2, shorter, m), (b + 1, t + t // 2 + 1, more))
