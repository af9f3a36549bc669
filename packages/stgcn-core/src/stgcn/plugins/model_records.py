"""A model plugin's record (:class:`Model`) and what its callbacks are asked
(:class:`RecogniseRequest`); re-exported by :mod:`stgcn.plugins.records` and
:mod:`stgcn.records`, where plugins import them. The network itself meets the model
layer's contract (:class:`stgcn.model.contract.SkeletonModel`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stgcn.model.contract import ModelSpec, SkeletonModel
from stgcn.model.layouts import Layout
from stgcn.plugins.settings import Settings


@dataclass(frozen=True)
class NoOptions(Settings):
    """The options family of a model that has none (``--model-option`` refuses any key)."""


@dataclass(frozen=True)
class RecogniseRequest:
    """A state_dict saved by another codebase, offered to each model plugin in turn
    (``stgcn predict``, ``eval``, ``info``, ``export``, ``run --weights``)."""

    #: tensor names (without a ``module.`` prefix) to tensors
    weights: Mapping[str, Any]
    #: every registered layout, by name: the ones the weights may have been trained on
    layouts: Sequence[Layout]
    #: the layout the user named (``--layout``), which then is the only candidate
    layout: Layout | None = None
    #: ``--strategy`` and ``--num-class`` where the user gave them
    strategy: str | None = None
    num_class: int | None = None


#: ``build(spec)``: a network that meets the model contract
BuildModel = Callable[[ModelSpec], SkeletonModel]
#: ``recognise(request)``: the spec of a network whose keys these weights have, None
#: where they are not this model's (StgcnError where they are but cannot be placed)
Recognise = Callable[[RecogniseRequest], ModelSpec | None]


@dataclass(frozen=True)
class Model:
    """A network ``stgcn run --model NAME`` trains.

    ``build(spec)`` returns a ``torch.nn.Module`` that meets the model contract
    (:class:`~stgcn.model.contract.SkeletonModel`), from a
    :class:`~stgcn.model.contract.ModelSpec`: the data's classes, channels, layout and
    persons, and ``spec.options``, an instance of ``options`` (a
    :class:`~stgcn.plugins.settings.Settings` family: the keys ``--model-option
    KEY=VALUE`` takes, checked before ``build`` is called). A network's ``config()``
    holds those options under their names, and a checkpoint stores it with the model's
    name, so that ``load_model`` rebuilds it. ``recipe`` holds the training settings the
    model wants by default (lr, epochs, ...), under the dataset's recipe and the command
    line. ``dataset_recipes`` holds, by dataset name, what the model's authors changed
    for that data (a PYSKL config is one model on one dataset): over that dataset's
    recipe, since a dataset's recipe is tuned for the network it was written with (the
    synthetic set's lr is ST-GCN's), under a preset, a config file and the command
    line. ``recognise``, where given, claims a state_dict saved by another codebase as
    this model's (:class:`RecogniseRequest`).
    """

    name: str
    build: BuildModel
    description: str = ""
    options: type[Settings] = NoOptions
    recipe: Mapping[str, Any] = field(default_factory=dict)
    recognise: Recognise | None = None
    dataset_recipes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the distribution that registered this record: the registry fills it in
    plugin: str = field(default="", compare=False)
