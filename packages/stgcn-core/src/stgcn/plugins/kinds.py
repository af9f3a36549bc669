"""The plugin kinds, declared once.

Each row of :data:`KINDS` names a kind (the name of its table in the registry and of
its list in ``stgcn plugins --json``), the record type a plugin registers, the hook
that registers it and how one row of ``stgcn plugins`` describes a record. The
registry, ``stgcn plugins``, the unknown-name errors and ``stgcn plugin new KIND NAME``
read this table and nothing else, so a new kind is a hook spec, a record and one row
here (the scaffold of a kind without templates of its own is a generic package that
implements its hook).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stgcn.plugins.records import Backend, Dataset, Exporter, Logger, PoseEstimator

#: ``row(registry, name)``: the ``stgcn plugins --json`` entry of one record
Row = Callable[[Any, str], dict[str, Any]]
#: what ``stgcn plugins`` prints after the label, from the record's ``--json`` entry
Text = Callable[[dict[str, Any]], str]


def _name(row: dict[str, Any]) -> str:
    return str(row["name"])


@dataclass(frozen=True)
class Kind:
    """One kind of thing a plugin provides."""

    #: the registry table and ``--json`` list: "backends"
    name: str
    #: the type ``register`` checks each record against
    record: type[Any]
    #: the hook a plugin implements to register them
    hook: str
    row: Row
    #: the word ``stgcn plugins`` prints before each name ("backend")
    label: str
    text: Text = _name
    #: a name users look for that an uninstalled distribution provides: (name, distribution)
    install_hint: tuple[str, str] | None = None
    #: how the names of a kind's distributions start ("stgcn-data"): ``stgcn plugin new``
    #: names a package PREFIX-NAME; "stgcn-" and the kind's word when left empty
    package_prefix: str = ""

    @property
    def singular(self) -> str:
        """``backend``: the accessor's name (``registry.backend(name)``)."""
        return self.name[:-1]

    @property
    def words(self) -> tuple[str, str]:
        """The kind in errors, singular and plural: ("pose estimator", "pose estimators")."""
        return self.singular.replace("_", " "), self.name.replace("_", " ")

    @property
    def command(self) -> str:
        """``pose-estimator``: the kind's word on the command line (``stgcn plugin new``)."""
        return self.singular.replace("_", "-")

    @property
    def distribution_prefix(self) -> str:
        """``stgcn-data``: what the names of this kind's plugin distributions start with."""
        return self.package_prefix or f"stgcn-{self.command}"


def _backend_row(registry: Any, name: str) -> dict[str, Any]:
    backend = registry.backends[name]
    availability = registry.availability(name)
    return {
        "name": name,
        "description": backend.description,
        "available": availability.available,
        "reason": availability.reason or None,
        "collective": backend.collective,
        "precisions": list(backend.precisions),
    }


def _dataset_row(registry: Any, name: str) -> dict[str, Any]:
    dataset = registry.datasets[name]
    layout = dataset.layout if isinstance(dataset.layout, str) else dataset.layout.name
    return {
        "name": dataset.name,
        "description": dataset.description,
        "num_class": dataset.num_class,
        "layout": layout,
        "in_channels": dataset.in_channels,
        "num_person": dataset.num_person,
        "needs_data_path": dataset.needs_data_path,
    }


def _described_row(kind: str) -> Row:
    def row(registry: Any, name: str) -> dict[str, Any]:
        return {"name": name, "description": registry.tables[kind][name].description}

    return row


def _pose_estimator_row(registry: Any, name: str) -> dict[str, Any]:
    estimator = registry.pose_estimators[name]
    return {
        "name": name,
        "description": estimator.description,
        "layouts": sorted(estimator.layouts),
        "max_persons": estimator.max_persons,
    }


def _backend_text(row: dict[str, Any]) -> str:
    state = "available" if row["available"] else f"unavailable: {row['reason']}"
    return f"{row['name']:<12} {state}"


def _dataset_text(row: dict[str, Any]) -> str:
    classes = row["num_class"] or "its data names its"
    return f"{row['name']:<12} {classes} classes, {row['layout']} layout"


def _described_text(row: dict[str, Any]) -> str:
    return f"{row['name']:<12} {row['description']}".rstrip()


def _pose_estimator_text(row: dict[str, Any]) -> str:
    return f"{row['name']:<12} {', '.join(row['layouts'])} layouts"


KINDS: tuple[Kind, ...] = (
    Kind("backends", Backend, "stgcn_register_backends", _backend_row, "backend", _backend_text),
    Kind(
        "datasets",
        Dataset,
        "stgcn_register_datasets",
        _dataset_row,
        "dataset",
        _dataset_text,
        package_prefix="stgcn-data",
    ),
    Kind(
        "exporters",
        Exporter,
        "stgcn_register_exporters",
        _described_row("exporters"),
        "exporter",
        _described_text,
        package_prefix="stgcn-export",
    ),
    Kind(
        "loggers",
        Logger,
        "stgcn_register_loggers",
        _described_row("loggers"),
        "logger",
        _described_text,
    ),
    Kind(
        "pose_estimators",
        PoseEstimator,
        "stgcn_register_pose_estimators",
        _pose_estimator_row,
        "pose",
        _pose_estimator_text,
        install_hint=("mediapipe", "stgcn-pose-mediapipe"),
        package_prefix="stgcn-pose",
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}
BY_SINGULAR = {kind.singular: kind for kind in KINDS}
