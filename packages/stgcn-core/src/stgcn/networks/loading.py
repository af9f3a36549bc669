"""Building the network a run asks for, and loading the one a file holds.

A run names its model (``--model``, default ``stgcn``); a stgcn checkpoint stores the
model's name and ``config()`` (a checkpoint without a name is ST-GCN's: files written
before models were plugins read as they did); a bare state_dict saved by another
codebase is offered to each registered model's ``recognise`` until one claims it. Every
network comes back checked against the model contract.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stgcn.errors import StgcnError, first_line
from stgcn.model.checkpoint import Checkpoint
from stgcn.model.contract import ModelSpec, SkeletonModel, as_module, check_model, options_of
from stgcn.model.layouts import Layout
from stgcn.plugins.kinds import MODELS
from stgcn.plugins.layouts import registered_layouts, resolve_layout
from stgcn.plugins.records import Dataset, Model, RecogniseRequest
from stgcn.plugins.registry import get_registry
from stgcn.plugins.settings import Settings

#: the model of a run that names none, and of a checkpoint written before models were
#: plugins
DEFAULT_MODEL = "stgcn"


def model_named(name: str) -> Model:
    """The registered model ``name``; one ``unknown model`` line listing them otherwise."""
    return get_registry().get(MODELS, name)


#: the attribute where a network built here keeps its model's registered name
NAME_ATTRIBUTE = "stgcn_model_name"


def build_network(model: Model, spec: ModelSpec) -> SkeletonModel:
    """``model``'s network for ``spec``, checked against the model contract, and marked
    with the model's name (:func:`registered_name`: what a checkpoint or an export of
    it records)."""
    network = check_model(model.build(spec), f"model {model.name!r}")
    setattr(network, NAME_ATTRIBUTE, model.name)
    return network


def registered_name(network: SkeletonModel) -> str:
    """The name of the model plugin that built ``network`` (a network a program built
    itself is taken for ST-GCN's, the default)."""
    return str(getattr(network, NAME_ATTRIBUTE, DEFAULT_MODEL))


def build_named(name: str, spec: ModelSpec) -> SkeletonModel:
    """The registered model ``name``'s network for ``spec``; ``spec.options`` None means
    the model's defaults."""
    model = model_named(name)
    options = spec.options if spec.options is not None else model.options()
    return build_network(model, replace(spec, options=options))


def spec_from_config(model: Model, config: Mapping[str, Any]) -> ModelSpec:
    """The spec that rebuilds a network from its stored ``config()``; its options are
    parsed by the model's family (an option the model no longer has is one line)."""
    options = model.options.parse(options_of(dict(config)), f"model {model.name} (stored)")
    return ModelSpec(
        num_class=int(config["num_class"]),
        in_channels=int(config.get("in_channels", 3)),
        layout=resolve_layout(config["layout"]),
        persons=int(config.get("persons", 2)),
        options=options,
    )


def rebuild(name: str, config: Mapping[str, Any]) -> SkeletonModel:
    """The network a checkpoint describes by its model's name and ``config()``."""
    model = model_named(name)
    return build_network(model, spec_from_config(model, config))


def recognise(request: RecogniseRequest) -> tuple[Model, ModelSpec]:
    """The first registered model (ST-GCN first, then by name) that claims a foreign
    state_dict, and the spec it read from it; one line listing some keys otherwise."""
    table = get_registry().table(MODELS)
    names = sorted(table, key=lambda name: (name != DEFAULT_MODEL, name))
    for name in names:
        model = table[name]
        if model.recognise is None:
            continue
        spec = model.recognise(request)
        if spec is not None:
            return model, spec
    keys = sorted(request.weights)
    shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
    raise StgcnError(
        f"no installed model recognises these weights (keys {shown or 'none'}); "
        f"installed models: {', '.join(names)}"
    )


def model_of_weights(path: str | os.PathLike[str]) -> str | None:
    """The registered model a weights file is for: a stgcn checkpoint's model, or the
    model that recognises a foreign state_dict (None where none does), so that ``stgcn
    run --weights FILE`` trains the network the weights fit without ``--model``."""
    checkpoint = Checkpoint.from_file(path)
    if checkpoint.model_config is not None:
        return checkpoint.model_name or DEFAULT_MODEL
    request = RecogniseRequest(weights=checkpoint.weights, layouts=registered_layouts())
    try:
        model, _ = recognise(request)
    except StgcnError:  # no model claims them: the run says which tensors fit
        return None
    return model.name


def load_model_and_checkpoint(
    path: str | os.PathLike[str],
    layout: str | Layout | Mapping[str, Any] | None = None,
    strategy: str | None = None,
    num_class: int | None = None,
) -> tuple[SkeletonModel, Checkpoint | None]:
    """Like :func:`load_model`, also returning the stgcn checkpoint (None for a foreign
    state_dict)."""
    checkpoint = Checkpoint.from_file(path)
    if checkpoint.model_config is not None:
        name = checkpoint.model_name or DEFAULT_MODEL
        network = rebuild(name, checkpoint.model_config)
    else:
        request = RecogniseRequest(
            weights=checkpoint.weights,
            layouts=registered_layouts(),
            layout=resolve_layout(layout) if layout is not None else None,
            strategy=strategy,
            num_class=num_class,
        )
        model, spec = recognise(request)
        name = model.name
        network = build_network(model, spec)
    module = as_module(network)
    try:
        module.load_state_dict(checkpoint.weights, strict=True)
    except RuntimeError as error:
        raise StgcnError(f"{path} does not fit the {name} network: {first_line(error)}") from None
    module.eval()
    return network, None if checkpoint.is_bare else checkpoint


def load_model(
    path: str | os.PathLike[str],
    layout: str | Layout | Mapping[str, Any] | None = None,
    strategy: str | None = None,
    num_class: int | None = None,
) -> SkeletonModel:
    """The network in eval mode from a stgcn checkpoint (of any registered model) or a
    state_dict a registered model recognises (the reference's: ST-GCN's), whose layout,
    unless given, is the registered one its weights fit."""
    model, _ = load_model_and_checkpoint(path, layout, strategy, num_class)
    return model


#: run settings that are also options of the models that have them: ``stgcn run
#: --dropout`` and ``--init`` set ST-GCN's (and any model's of the same name)
RUN_SETTINGS_AS_OPTIONS = ("dropout", "init")


def options_for_data(
    model: Model, dataset: Dataset, run_values: Mapping[str, Any], given: Mapping[str, Any]
) -> Settings:
    """``model``'s options for a run on ``dataset``, later layers winning: the family's
    defaults, the dataset's partition ``strategy`` (where the family has one), the run
    settings of the same name (``run_values``, where the family has them: a recipe's
    ``init`` is ST-GCN's business) and ``given`` (``--model-option``)."""
    keys = model.options.keys()
    source = f"model {model.name}"
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if "strategy" in keys:
        layers.append((f"dataset {dataset.name!r}", {"strategy": dataset.strategy}))
    shared = {key: value for key, value in run_values.items() if key in keys}
    layers += [(source, shared), (f"{source} (--model-option)", given)]
    return model.options.layered(layers)


def refuse_typed_settings_it_lacks(model: Model, typed: Mapping[str, Any]) -> None:
    """One line where the command line set a run setting that is a model option
    (``--dropout``) and ``model`` has no option of that name: it would do nothing."""
    keys = model.options.keys()
    for key in RUN_SETTINGS_AS_OPTIONS:
        if key in typed and key not in keys:
            raise StgcnError(
                f"model {model.name} has no option {key!r} (set by --{key.replace('_', '-')}); "
                f"its options: {', '.join(keys) or 'none'}"
            )


def network_for_data(model: Model, dataset: Dataset, options: Settings) -> SkeletonModel:
    """``model``'s fresh network for ``dataset``'s classes, channels, layout and persons."""
    spec = ModelSpec(
        num_class=dataset.num_class,
        in_channels=dataset.in_channels,
        layout=resolve_layout(dataset.layout),
        persons=dataset.num_person,
        options=options,
    )
    return build_network(model, spec)
