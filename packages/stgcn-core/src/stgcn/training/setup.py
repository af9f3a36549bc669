"""The configuration a ``stgcn run`` starts from, and whether it resumes.

Layers, later ones winning: the defaults, the model's recipe, the dataset's recipe, the
model's recipe for that dataset and the chosen preset (or, when resuming, the run's own
``config.json`` instead of those), a ``--config`` file, then the options typed on the
command line. This module alone says that order; ``RunConfig.layered`` parses and checks
every layer the same way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError
from stgcn.plugins.records import Dataset, Model
from stgcn.plugins.settings import parse_str
from stgcn.training.config import RunConfig, read_config_file


def resolve_run_config(
    typed: Mapping[str, Any],
    dataset_of: Callable[[str], Dataset],
    config_file: str | None = None,
    preset: str | None = None,
    resume: bool = False,
    models: ModelLookups | None = None,
) -> tuple[RunConfig, bool]:
    """The run's configuration and whether it continues an earlier run.

    ``typed`` holds only the options the user gave (RunConfig keys); ``dataset_of``
    finds a dataset record by name (the registry's ``dataset``), ``models`` a model's
    recipe and the model a weights file is for (neither without it). A job that Slurm
    requeued or torch's agent restarted resumes its work dir without ``--resume``.
    """
    from_file = read_config_file(config_file) if config_file else {}
    work_dir = typed.get("work_dir")
    if not resume and work_dir:
        from stgcn.training.preemption.signals import restarted

        # a job that Slurm requeued or torch's agent restarted continues its run
        resume = restarted() and (Path(work_dir) / "config.json").is_file()
    layers = (
        _saved_config(work_dir)
        if resume
        else _recipe(typed, from_file, (dataset_of, models), preset)
    )
    layers += [(config_file or "config", from_file), ("options", typed)]
    config = RunConfig.layered(layers)
    if models is not None and config.weights and not resume:
        config = dataclasses.replace(config, weights=models.weights_file(config.weights))
    return config, resume


Layers = list[tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class ModelLookups:
    """What the layering asks of the registered models: a model's record (its recipes),
    and the model a weights file is for (a checkpoint's, or the one that recognises a
    foreign state_dict; None where none does)."""

    record: Callable[[str], Model]
    of_weights: Callable[[str], str | None]
    #: the file a ``weights`` value names: a path, or released weights' name, fetched
    #: (:func:`stgcn.networks.released.weights_file`)
    weights_file: Callable[[str], str] = str


def _recipe(
    typed: Mapping[str, Any],
    from_file: Mapping[str, Any],
    lookups: tuple[Callable[[str], Dataset], ModelLookups | None],
    preset: str | None,
) -> Layers:
    """The model the weights are for where neither the command line nor the file names
    one, the model's recipe, then the dataset's, the model's for that dataset and the
    chosen preset, for the model and the dataset the run names."""
    dataset_of, models = lookups
    layers: Layers = []
    record = None
    if models is not None:
        model = _named(typed, from_file, "model")
        weights = _named(typed, from_file, "weights")
        if weights:
            weights = models.weights_file(weights)
        if model is None and weights and Path(weights).is_file():
            found = models.of_weights(weights)
            if found is not None:
                layers.append((f"weights {weights}", {"model": found}))
                model = found
        record = models.record(model or RunConfig.model)
        layers.append((f"model {record.name!r} recipe", record.recipe))
    name = _named(typed, from_file, "dataset") or RunConfig.dataset
    dataset = dataset_of(name)
    layers.append((f"dataset {name!r} recipe", _for_its_batch(dataset.recipe)))
    if record is not None and name in record.dataset_recipes:
        layers.append((f"model {record.name!r} recipe for {name!r}", record.dataset_recipes[name]))
    if preset:
        if preset not in dataset.presets:
            known = ", ".join(sorted(dataset.presets)) or "none"
            raise StgcnError(f"dataset {name!r} has no preset {preset!r} (known: {known})")
        layers.append((f"preset {preset!r}", dataset.presets[preset]))
    return layers


def _for_its_batch(recipe: Mapping[str, Any]) -> Mapping[str, Any]:
    """``recipe`` with its lr meant for its own batch where it sets one without saying how
    it scales: a model's recipe may give PYSKL's lr for a batch of 128 scaled linearly,
    and a dataset's ``lr`` over it (the Kinetics recipe's 0.1 for its batch of 64) is
    not to be rescaled by the model's reference batch. A no-op under any model whose
    recipe leaves ``lr_scaling`` at its default, ``none``."""
    if "lr" in recipe and "lr_scaling" not in recipe:
        return {**recipe, "lr_scaling": "none"}
    return recipe


def _named(typed: Mapping[str, Any], from_file: Mapping[str, Any], key: str) -> str | None:
    """The name the command line, else the config file, gives ``key``."""
    # a file's value as its field reads it: `dataset: [x]` in YAML is text, not a key
    in_file = from_file.get(key)
    return typed.get(key) or (parse_str(in_file, key) if in_file is not None else None)


def _saved_config(work_dir: str | None) -> Layers:
    """The configuration the run in ``work_dir`` recorded when it started."""
    if not work_dir:
        raise StgcnError("--resume needs --work-dir, the folder of the run to continue")
    saved = Path(work_dir) / "config.json"
    if not saved.is_file():
        raise StgcnError(f"nothing to resume: {saved} does not exist")
    try:
        values = json.loads(saved.read_text())
    except json.JSONDecodeError as error:
        raise StgcnError(f"{saved} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise StgcnError(f"{saved}: expected a table of settings")
    return [(str(saved), values)]
