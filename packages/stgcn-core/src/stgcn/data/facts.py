"""A dataset record as its data describes it, and as a checkpoint remembers it.

``Dataset.describe`` gives the facts that only the data decides: the
classes of an annotation file, its joint count, whether it is 2D. The trainer asks once
the data path and options are known and builds the model from the answer; the
checkpoint stores the answer (``data_facts``), so ``stgcn eval``, ``predict`` and
``export`` rebuild the same record without the data or the plugin's load-time state.
Calls into a plugin go through :func:`plugin_call`, so that a plugin's bug is one line
naming the plugin (its traceback under ``--debug``) rather than a bare traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from stgcn.data.coordinates import CONVENTIONS, REFERENCE
from stgcn.errors import StgcnError, first_line, plugin_code
from stgcn.model.checkpoint import DATA_FACTS_KEY, Checkpoint
from stgcn.model.layouts import LAYOUTS as BUILTIN_LAYOUTS
from stgcn.model.layouts import Layout
from stgcn.plugins.layouts import resolve_layout
from stgcn.plugins.records import DataFacts, Dataset, DescribeRequest, SampleRequest

if TYPE_CHECKING:
    import numpy as np

#: the checkpoint key that holds :func:`facts_of` the run's dataset
CHECKPOINT_KEY = DATA_FACTS_KEY

Result = TypeVar("Result")


def plugin_of(record: Dataset) -> str:
    """The distribution that registered ``record`` (for errors), or "" when unknown."""
    return record.plugin


def plugin_call(record: Dataset, what: str, call: Callable[..., Result], *args: Any) -> Result:
    """``call(*args)``; an exception other than StgcnError becomes one
    :class:`~stgcn.errors.PluginError` line naming the dataset, its plugin and ``what``
    it was doing (the original chained, for ``--debug``)."""
    with plugin_code(f"dataset {record.name!r}", plugin_of(record), what):
        return call(*args)


def describe(record: Dataset, data_path: Path | None, options: Mapping[str, Any]) -> Dataset:
    """``record`` with the facts its ``describe`` finds in the data, checked; a record
    without ``describe`` as it is. ``options`` are the dataset's own (the core's taken
    out)."""
    if record.describe is None:
        return record
    request = DescribeRequest(data_path=data_path, options=dict(options))
    facts = plugin_call(record, "describe", record.describe, request)
    if not isinstance(facts, DataFacts):
        raise StgcnError(
            f"dataset {record.name!r}: describe() returned {type(facts).__name__}, not DataFacts"
        )
    described = record.with_facts(facts)
    check_facts(described)
    return described


def check_facts(record: Dataset) -> None:
    """The facts make a model: classes, channels and persons positive, names one a class,
    a layout that builds."""
    problems = []
    if record.num_class < 1:
        problems.append(f"num_class is {record.num_class}")
    if record.in_channels < 1:
        problems.append(f"in_channels is {record.in_channels}")
    if record.num_person < 1:
        problems.append(f"num_person is {record.num_person}")
    if record.class_names is not None and len(record.class_names) != record.num_class:
        problems.append(f"{len(record.class_names)} class names for {record.num_class} classes")
    try:
        resolve_layout(record.layout)
    except (ValueError, KeyError, StgcnError) as error:
        problems.append(f"layout refused: {first_line(error)}")
    if record.coordinates not in CONVENTIONS:
        known = ", ".join(sorted(CONVENTIONS))
        problems.append(f"coordinates {record.coordinates!r} is none of {known}")
    if problems:
        raise StgcnError(f"dataset {record.name!r} describes its data badly: {'; '.join(problems)}")


def facts_of(record: Dataset) -> dict[str, Any]:
    """The record's facts in checkpoint-safe types. A layout is stored whole (its
    mapping), so that reading the checkpoint never needs the plugin that registered it;
    the core's own layouts, which every stgcn has, by name (as checkpoints always
    stored them)."""
    return {
        "num_class": int(record.num_class),
        "class_names": list(record.class_names) if record.class_names is not None else None,
        "layout": _stored_layout(record.layout),
        "in_channels": int(record.in_channels),
        "num_person": int(record.num_person),
        "score_channel": bool(record.score_channel),
        "coordinates": str(record.coordinates),
    }


def _stored_layout(layout: str | Layout) -> str | dict[str, Any]:
    if isinstance(layout, str) and layout in BUILTIN_LAYOUTS:
        return layout
    return resolve_layout(layout).to_dict()


def from_checkpoint(record: Dataset, checkpoint: Checkpoint | None) -> Dataset:
    """``record`` with the facts a checkpoint stored for it; older checkpoints stored none
    (their datasets knew everything at registration) and leave it as it is. A fact a
    checkpoint predates (its coordinate convention, say) keeps the record's value: the
    data was read that way when the checkpoint was written."""
    stored = checkpoint.data_facts if checkpoint is not None else None
    if not isinstance(stored, Mapping):
        return record
    known = {k: v for k, v in stored.items() if k in DataFacts.__dataclass_fields__}
    if isinstance(known.get("layout"), Mapping):
        known["layout"] = resolve_layout(known["layout"])
    return record.with_facts(DataFacts(**known))


def coordinates_of(record: Dataset | None, checkpoint: Checkpoint | None) -> str:
    """The coordinate convention a model's inputs follow (:mod:`stgcn.data.coordinates`):
    the one its checkpoint recorded, else the one its dataset declares, else the
    reference's (a checkpoint of the reference's, or of an stgcn before conventions were
    recorded, with no dataset installed to say otherwise)."""
    stored = checkpoint.data_facts if checkpoint is not None else None
    if isinstance(stored, Mapping) and isinstance(stored.get("coordinates"), str):
        return str(stored["coordinates"])
    return record.coordinates if record is not None else REFERENCE


def read_sample(record: Dataset, path: Path, options: Mapping[str, Any]) -> np.ndarray:
    """One clip read by the dataset's ``read_sample``, as the model's data ``options`` say."""
    reader = record.read_sample
    if reader is None:
        raise StgcnError(f"dataset {record.name!r} cannot read clip files")
    return reader(SampleRequest(path=path, options=dict(options)))
