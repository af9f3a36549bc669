"""Where a model computes: the device, the model as the backend prepares it, and the
precision (autocast, loss scaler), made in one place for the trainer, ``stgcn eval``,
``stgcn bench`` and stgcn-export's PyTorch engine.

Every call into the backend here goes through :func:`~stgcn.plugins.backend_choice.backend_code`,
so a backend plugin's own bug is one ``stgcn: error:`` line naming it, wherever the
model is prepared. The order of those calls is the backends' contract: ``setup`` first
(it binds the process to its device, before any process group), then ``prepare_model``,
then the precision part (the npu's needs the device set up).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch

from stgcn.plugins.backend import Precision
from stgcn.plugins.backend_choice import backend_code
from stgcn.plugins.records import RunBackend

#: what a run on several ranks does to the prepared model (DistributedDataParallel)
Distribute = Callable[[torch.nn.Module], torch.nn.Module]


def start_device(backend: RunBackend, local_rank: int = 0) -> torch.device:
    """The backend's device for this process (``backend.setup``); the trainer starts it
    before its data and process group, the others through :meth:`Runtime.prepare`."""
    with backend_code(backend, "setup"):
        return backend.setup(local_rank)


def _no_autocast() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


@dataclass(frozen=True)
class Runtime:
    """A model ready to compute (Lightning Fabric's shape): its ``device``, the ``model``
    as the backend prepared it (memory format, ``torch.compile``; wrapped for several
    ranks where asked) and the run's ``precision``.

    ``backend`` is None for a model used as it is (:meth:`as_is`)."""

    device: torch.device
    model: torch.nn.Module
    precision: Precision
    backend: RunBackend | None = None

    @classmethod
    def prepare(
        cls,
        backend: RunBackend,
        precision: str,
        model: torch.nn.Module,
        device: torch.device | None = None,
        distribute: Distribute | None = None,
    ) -> Runtime:
        """``model`` on ``device`` (started here when not given), prepared by the backend
        for ``precision``, then ``distribute``-d; and the run's precision part."""
        device = device if device is not None else start_device(backend)
        model.to(device)
        with backend_code(backend, "prepare_model"):
            prepared = backend.prepare_model(model, precision)
        if distribute is not None:
            prepared = distribute(prepared)
        with backend_code(backend, "precision_part"):
            run_precision = Precision.for_backend(backend, precision)
        return cls(device, prepared, run_precision, backend)

    @classmethod
    def as_is(cls, model: torch.nn.Module) -> Runtime:
        """``model`` left as it is, on the device of its parameters, in fp32 without
        autocast: stgcn-export's PyTorch engine, whose logits are compared with an
        export's, computes with the network exactly as the checkpoint built it."""
        device = next(model.parameters()).device
        return cls(device, model, Precision("fp32", _no_autocast))

    @classmethod
    def plain(
        cls, backend: RunBackend, model: torch.nn.Module, device: torch.device, precision: str
    ) -> Runtime:
        """``model`` on ``device`` as it is, not prepared by the backend, in the backend's
        ``precision``: the bench's plain baseline, timed against the prepared model."""
        with backend_code(backend, "precision_part"):
            run_precision = Precision.for_backend(backend, precision)
        return cls(device, model.to(device), run_precision, backend)

    def with_model(self, model: torch.nn.Module) -> Runtime:
        """This runtime computing with ``model`` (the trainer validates the model inside
        its DistributedDataParallel and compile wrappers)."""
        return Runtime(self.device, model, self.precision, self.backend)

    def synchronize(self) -> None:
        """Wait for the device (nothing to wait for without a backend)."""
        if self.backend is not None:
            self.backend.synchronize()

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        """The model's output for ``x`` (moved to the device), without gradients, under
        the precision's autocast."""
        with torch.inference_mode(), self.precision.forward_context():
            return self.model(x.to(self.device))
