"""Checking an exported file against the PyTorch model it came from.

Two independent checks: ``onnx.checker`` (with shape inference) for a well-formed
graph, then onnxruntime and PyTorch on the same fresh random inputs. The inputs are
shapes the export did not trace with, because a dynamic axis that is declared but
baked into some Reshape only shows up at another shape.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
import torch

from stgcn.errors import StgcnError, first_line
from stgcn_export.runtime import open_session


class VerificationError(StgcnError):
    """The exported file is malformed or computes something else than the model."""


@dataclass(frozen=True)
class ShapeCheck:
    """One comparison: the input shape and the relative error found there.

    The relative error is the largest absolute difference between the two engines'
    logits, divided by the largest absolute PyTorch logit: one number that does not
    depend on how large the logits of a given model happen to be.
    """

    shape: tuple[int, ...]
    relative_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.tolerance

    def describe(self) -> str:
        return f"{self.relative_error:.1e} at {'x'.join(map(str, self.shape))}"


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    if actual.shape != expected.shape:
        return float("inf")
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-12)
    return float(np.abs(actual.astype(np.float64) - expected).max(initial=0.0) / scale)


def check_graph(path: str | os.PathLike[str]) -> None:
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise VerificationError(f"onnx.checker rejects the export: {first_line(error)}") from None


def torch_outputs(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    device = next(model.parameters()).device
    with torch.inference_mode():
        return model(torch.from_numpy(inputs).to(device)).float().cpu().numpy()


def verify_onnx(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    shapes: Sequence[tuple[int, ...]],
    tolerance: float,
    seed: int | None = None,
) -> list[ShapeCheck]:
    """Compare ``path`` in onnxruntime with ``model`` (in eval mode) at each input shape.

    Raises :class:`VerificationError` naming the first shape that fails; returns the
    checks when all pass.
    """
    if model.training:
        raise ValueError("verify_onnx compares a model in eval mode; call model.eval() first")
    check_graph(path)
    session = open_session(path)
    input_name = session.get_inputs()[0].name
    generator = np.random.default_rng(seed)
    checks = []
    for shape in shapes:
        inputs = generator.standard_normal(shape, dtype=np.float32)
        expected = torch_outputs(model, inputs)
        try:
            (actual,) = session.run(None, {input_name: inputs})
        except Exception as error:  # a shape the graph cannot take is a failed check
            raise VerificationError(
                f"verification failed: onnxruntime cannot run the export at "
                f"{'x'.join(map(str, shape))} ({first_line(error)[:160]})"
            ) from None
        check = ShapeCheck(tuple(shape), relative_error(actual, expected), tolerance)
        if not check.passed:
            raise VerificationError(
                f"verification failed: onnxruntime differs from PyTorch by relative error "
                f"{check.describe()} (tolerance {tolerance:.0e})"
            )
        checks.append(check)
    return checks
