"""What every backend inherits: :class:`BackendBase`, and the precision part it builds on.

A run's backend (:class:`~stgcn.plugins.records.RunBackend`) is created per run from the
registered record and the run's frozen ``--backend-option`` settings
(:func:`backend_for_run`), so that two runs in one process, or a run and ``stgcn
plugins``, never see each other's options. :class:`BackendBase` gives a backend that
per-run creation and a default for every optional feature of the accelerator part, so
the core calls every member directly and never asks a backend what it has (plugin API
2.0: a backend is a :class:`BackendBase`).

The dtype each mixed precision autocasts to lives here, beside the default ``autocast``
that uses it, so that the precision names mean the same dtype on every device.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar, cast

import torch

from stgcn.errors import StgcnError
from stgcn.plugins.records import Availability, Backend, RunBackend
from stgcn.plugins.settings import Settings

#: the mixed precisions and the dtype autocast computes in; fp32 is no autocast at all
AUTOCAST_DTYPES: Mapping[str, torch.dtype] = MappingProxyType(
    {"bf16": torch.bfloat16, "fp16": torch.float16}
)

SettingsT = TypeVar("SettingsT", bound=Settings)
BackendT = TypeVar("BackendT", bound="BackendBase[Any]")


def autocast_for(
    device_type: str, precision: str, **options: Any
) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` on ``device_type`` for a mixed ``precision`` (``options`` go to
    it), a context that does nothing for fp32."""
    dtype = AUTOCAST_DTYPES.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype, **options)


@dataclass
class Precision:
    """How one run computes: its autocast context and, where the precision needs one (fp16),
    its loss scaler; the one precision part every backend shares.

    A backend supplies only what differs between devices, through ``autocast(name)`` and
    ``grad_scaler(name)`` (the npu backend: torch_npu's scaler, which agrees on overflows
    across cards); :meth:`for_backend` builds the run's part from them. The loop then holds
    this object instead of a precision name and an optional scaler beside it.

    A backend whose device needs more (the npu's saturation mode, where an overflow does
    not show in the loss) returns a subclass of this from ``precision_part(name)``
    (:class:`BackendBase`'s gives None, the shared part); :meth:`for_backend` then uses it.
    """

    name: str
    autocast: Callable[[], contextlib.AbstractContextManager[Any]]
    scaler: torch.amp.GradScaler | None = None

    @classmethod
    def for_backend(cls, backend: RunBackend, name: str) -> Precision:
        own = backend.precision_part(name)
        if own is not None:
            return own
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


@dataclass(frozen=True)
class NoSettings(Settings):
    """The settings of a backend that takes no ``--backend-option``; ``compile=false``
    (what a run without ``--compile`` may pass) is accepted, ``compile=true`` refused."""

    value_line: ClassVar[str] = "backend option {key}"

    compile: bool = False


class BackendBase(Generic[SettingsT]):
    """Defaults for a backend: subclass it, set the class attributes, and write only what
    your device does differently.

    ``settings_type`` is the backend's frozen :class:`~stgcn.plugins.settings.Settings`
    family; :meth:`for_run` parses a run's ``--backend-option`` pairs into it and returns a
    copy of the registered record holding them, so the record is never changed and what
    it has cached (an availability probe) carries over. ``device_type`` is what the
    default ``autocast`` and ``grad_scaler`` pass to torch ("cpu", "cuda", "npu").

    A backend must inherit it (plugin API 2.0): :func:`backend_for_run` refuses any
    other object, so that the core can rely on every member being there.
    """

    name: str
    description: str = ""
    collective: str = "gloo"
    precisions: tuple[str, ...] = ("fp32",)
    device_type: ClassVar[str] = "cpu"
    settings_type: ClassVar[type[Settings]] = NoSettings
    #: whether DataLoaders pin host memory for this device
    pin_memory: bool = False

    def __init__(self, settings: SettingsT | None = None) -> None:
        self.settings: SettingsT = settings if settings is not None else self.parse_settings({})

    def parse_settings(self, options: Mapping[str, str]) -> SettingsT:
        """The frozen settings from ``--backend-option`` pairs; a backend with checks across
        keys (contradictions) overrides this."""
        if self.settings_type is NoSettings:
            unknown = sorted(set(options) - {"compile"})
            if unknown:
                raise StgcnError(f"backend {self.name!r} has no option {unknown[0]!r}")
        settings = self.settings_type.parse(options)
        if isinstance(settings, NoSettings) and settings.compile:
            raise StgcnError(f"backend {self.name!r} does not run torch.compile (--compile)")
        return cast(SettingsT, settings)

    def for_run(self: BackendT, options: Mapping[str, str]) -> BackendT:
        """This backend for one run, with ``options`` parsed; ``self`` stays as it is."""
        run = copy.copy(self)
        run.settings = self.parse_settings(options)
        return run

    def availability(self) -> Availability:
        return Availability(True)

    def device_count(self) -> int:
        return 1

    def default_precision(self) -> str:
        return self.precisions[0]

    def setup(self, local_rank: int) -> torch.device:
        return torch.device(self.device_type)

    def autocast(self, precision: str) -> contextlib.AbstractContextManager[Any]:
        return autocast_for(self.device_type, precision)

    def grad_scaler(self, precision: str) -> torch.amp.GradScaler | None:
        """torch's scaler for fp16, whose range needs the loss scaled; None otherwise."""
        return torch.amp.GradScaler(self.device_type) if precision == "fp16" else None

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        return model

    def synchronize(self) -> None:
        return None

    def collective_timeout(self, requested: timedelta) -> timedelta:
        return requested

    def rng_state(self) -> torch.Tensor | None:
        return None

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        return None

    def precision_part(self, precision: str) -> Precision | None:
        """The run's precision where the device needs more than the shared part (None:
        the shared part, built from :meth:`autocast` and :meth:`grad_scaler`)."""
        return None


def backend_for_run(record: Backend, options: Mapping[str, str]) -> RunBackend:
    """The run's backend from the registered ``record`` and its ``--backend-option`` pairs
    (:meth:`BackendBase.for_run`); a record that is no :class:`BackendBase` is refused in
    one line."""
    if not isinstance(record, BackendBase):
        from stgcn.plugins.loading import MIGRATION_PAGE

        raise StgcnError(
            f"backend {record.name!r} ({type(record).__name__}) is not a "
            "stgcn.records.BackendBase, which plugin API 2.0 requires of a backend; see "
            f"{MIGRATION_PAGE}"
        )
    return cast(RunBackend, record.for_run(options))


__all__ = [
    "AUTOCAST_DTYPES",
    "BackendBase",
    "NoSettings",
    "autocast_for",
    "backend_for_run",
]
