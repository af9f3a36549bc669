"""The precision part every backend shares: which dtype each mixed precision casts to, and
the run's :class:`Precision` (autocast, loss scaling, the update, its checkpoint state).

The dtype table and the autocast choice (``AUTOCAST_DTYPES``, ``autocast_for``) are
defined beside the backends' default ``autocast`` (:mod:`stgcn.plugins.backend`) and
re-exported here: one copy keeps the precision names meaning the same dtype on every
accelerator.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from stgcn.plugins.backend import AUTOCAST_DTYPES, autocast_for

if TYPE_CHECKING:
    from stgcn.plugins.records import Backend

__all__ = ["AUTOCAST_DTYPES", "Precision", "autocast_for"]


@dataclass
class Precision:
    """How one run computes: its autocast context and, where the precision needs one (fp16),
    its loss scaler; the one precision part every backend shares.

    A backend supplies only what differs between devices, through ``autocast(name)`` and
    ``grad_scaler(name)`` (the npu backend: torch_npu's scaler, which agrees on overflows
    across cards); :meth:`for_backend` builds the run's part from them. The loop then holds
    this object instead of a precision name and an optional scaler beside it.

    A backend whose device needs more (the npu's saturation mode, where an overflow does
    not show in the loss) gives ``precision_part(name)``, returning a subclass of this;
    :meth:`for_backend` then builds that instead.
    """

    name: str
    autocast: Callable[[], contextlib.AbstractContextManager[Any]]
    scaler: torch.amp.GradScaler | None = None

    @classmethod
    def for_backend(cls, backend: Backend, name: str) -> Precision:
        own = getattr(backend, "precision_part", None)
        if callable(own):
            made = own(name)
            if isinstance(made, Precision):
                return made
        return cls(name, functools.partial(backend.autocast, name), backend.grad_scaler(name))

    def forward_context(self) -> contextlib.AbstractContextManager[Any]:
        """The context the forward pass (and the loss) runs in."""
        return self.autocast()

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """The update; with a scaler, unscaled, skipped on an overflow, and the scale adapted."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        self.scaler.update()

    def step_overflowed(self) -> torch.Tensor | None:
        """A device-side flag, true where the last update overflowed in a way the loss
        cannot show (a chip that saturates instead of giving inf); None where the loss
        tells it all. Read with the loss, never here: the loop does not wait per step."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps: the scaler's state, empty without one."""
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: Mapping[str, Any] | None) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(dict(state))
