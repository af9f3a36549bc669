"""What the rest of stgcn may know of a network: the model contract.

A model plugin (``stgcn_register_models``) builds networks from a :class:`ModelSpec`;
the trainer, evaluation, ``--explain``, ``stgcn info`` and its FLOPs, the exporters,
the bench, ``predict`` and ``--stream``, fusion and the dataset contract kit use a
network only through :class:`SkeletonModel`. ST-GCN is one such network, not a special
case: nothing outside its own plugin module names it.

The contract is a Protocol rather than a base class so that a network written for
another codebase fits by having these members; it must also be a ``torch.nn.Module``
(the trainer wraps it, the exporters trace it), which :func:`check_model` verifies when
a plugin's builder returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from stgcn.errors import StgcnError
from stgcn.model.layouts import Layout

if TYPE_CHECKING:  # torch is imported on first use: ``stgcn.records`` re-exports these
    import torch
    from torch import nn

#: the keys of :meth:`SkeletonModel.config` that the core fills from the spec; every
#: other key is one of the model's own options
SPEC_KEYS = ("num_class", "in_channels", "layout", "persons")


@dataclass(frozen=True)
class ModelSpec:
    """Everything a model plugin's builder is given: the data's shape and the model's own
    options (an instance of the plugin's options family, already checked)."""

    num_class: int
    in_channels: int
    layout: Layout
    #: the most persons a clip holds (the data's ``num_person``): the input's last axis
    persons: int = 2
    #: the model's options (its :class:`~stgcn.plugins.settings.Settings` family)
    options: Any = None


@runtime_checkable
class SkeletonModel(Protocol):
    """A skeleton action-recognition network as stgcn uses it.

    Input ``(N, C, T, V, M)`` (batch, channels, frames, joints, persons), output
    ``(N, num_class)`` logits. ``features`` and ``head`` split the forward pass where a
    class activation map takes its gradient (``stgcn predict --explain``): ``head(
    features(x), x.shape[4])`` must equal ``forward(x)``. ``config()`` is what rebuilds
    it: the spec's ``num_class``, ``in_channels``, ``layout`` (a mapping, so that a
    checkpoint never needs a layout plugin to be read) and ``persons``, and the model's
    own options under their names. A network that takes exactly ``persons`` persons (a
    batch norm per person, as PYSKL's CTR-GCN has) says so with a class attribute
    ``fixed_persons = True`` (optional; absent: any number), so that an export does not
    declare that axis free.
    """

    num_class: int
    in_channels: int
    persons: int

    @property
    def layout(self) -> Layout: ...

    def input_shape(self, frames: int) -> tuple[int, int, int, int]:
        """``(C, T, V, M)`` of one clip of ``frames`` frames (an exporter's dummy input)."""
        ...

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last features before pooling, ``(N*M, C', T', V)``."""
        ...

    def head(self, features: torch.Tensor, persons: int) -> torch.Tensor:
        """Logits ``(N, num_class)`` from :meth:`features` of clips of ``persons``."""
        ...

    def config(self) -> dict[str, Any]: ...

    def state_dict(self) -> dict[str, Any]:
        """Its tensors by name (``torch.nn.Module``'s): what a checkpoint stores."""
        ...

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


def check_model(network: object, source: str) -> SkeletonModel:
    """``network`` as a :class:`SkeletonModel`, or one line naming ``source`` (a model
    plugin) and what its builder returned short of the contract."""
    from torch import nn

    if not isinstance(network, nn.Module):
        raise StgcnError(f"{source} built a {type(network).__name__}, not a torch.nn.Module")
    members = ("num_class", "in_channels", "persons", "layout", "input_shape", "features")
    missing = [name for name in (*members, "head", "config") if not hasattr(network, name)]
    if missing:
        raise StgcnError(
            f"{source} built a {type(network).__name__} without {', '.join(missing)} "
            "(the model contract: stgcn.model.contract.SkeletonModel)"
        )
    return cast(SkeletonModel, network)


def as_module(model: SkeletonModel) -> nn.Module:
    """The network as the ``nn.Module`` it also is (checked by :func:`check_model`)."""
    return cast("nn.Module", model)


def options_of(config: dict[str, Any]) -> dict[str, Any]:
    """The model's own options in a stored :meth:`SkeletonModel.config`."""
    return {key: value for key, value in config.items() if key not in SPEC_KEYS}
