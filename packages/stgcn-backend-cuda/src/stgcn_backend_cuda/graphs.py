"""Training forward and backward passes replayed as CUDA graphs, without torch.compile.

A graph replays recorded kernels with one launch, which saves the per-kernel launch
cost (hundreds of small kernels per ST-GCN step) but only for the exact shapes
recorded. So one graph pair is recorded, with ``torch.cuda.make_graphed_callables``,
from the first training batch, and replayed for every later batch of the same shape,
dtype and autocast state; anything else runs the ordinary eager forward: evaluation,
``no_grad``, the last partial batch of an epoch.

Recording runs the forward a few times to warm up; those passes would move the
BatchNorm running statistics, so the buffers are put back afterwards and training
follows the same trajectory as without graphs (dropout draws aside).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import torch

from stgcn.errors import StgcnError, first_line

Capture = Callable[[torch.nn.Module, tuple[torch.Tensor, ...]], Any]


def _autocast_state() -> tuple[bool, torch.dtype]:
    return torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")


class GraphedTrainingForward:
    """Stands in for ``model.forward``: records on the first training call, then replays.

    Installed as an instance attribute, so the model keeps its class, its parameters
    and its state_dict keys; checkpoints are unaffected.
    """

    def __init__(self, model: torch.nn.Module, capture: Capture | None = None) -> None:
        self.model = model
        self.eager = model.forward
        self.capture: Capture = capture or torch.cuda.make_graphed_callables
        self.graphed: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.recorded_for: Hashable = None
        #: calls served by the graph and by the eager forward (for tests and curiosity).
        self.replays = 0
        self.eager_calls = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.model.training and torch.is_grad_enabled()):
            return self._eager(x)
        key = (tuple(x.shape), x.dtype, x.device, _autocast_state())
        if self.graphed is None:
            self._record(x, key)
        if key != self.recorded_for:
            return self._eager(x)
        self.replays += 1
        assert self.graphed is not None  # set by _record, which raises when it cannot
        return self.graphed(x)

    def _eager(self, x: torch.Tensor) -> torch.Tensor:
        self.eager_calls += 1
        return self.eager(x)

    def _record(self, x: torch.Tensor, key: Hashable) -> None:
        model = self.model
        saved = [buffer.detach().clone() for buffer in model.buffers()]
        del model.forward  # the capture must see (and wrap) the class's eager forward
        try:
            graphed_model = self.capture(model, (x,))
            self.graphed = graphed_model.forward
        except Exception as error:  # a kernel that cannot be captured, an out-of-memory
            raise StgcnError(
                f"recording the CUDA graphs failed ({first_line(error)}); "
                "train without --backend-option cuda_graphs=true"
            ) from error
        finally:
            model.forward = self
            with torch.no_grad():
                for buffer, value in zip(model.buffers(), saved, strict=True):
                    buffer.copy_(value)
        self.recorded_for = key


def graph_training_steps(
    model: torch.nn.Module, capture: Capture | None = None
) -> GraphedTrainingForward:
    """Make ``model`` record and replay its training passes; returns the installed forward."""
    if isinstance(model.__dict__.get("forward"), GraphedTrainingForward):
        return model.__dict__["forward"]
    forward = GraphedTrainingForward(model, capture)
    model.forward = forward
    return forward
