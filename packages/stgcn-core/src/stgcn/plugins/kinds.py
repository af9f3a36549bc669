"""The plugin kinds, declared once.

Each row of :data:`KINDS` names a kind (the name of its table in the registry and of
its list in ``stgcn plugins --json``), the record type a plugin registers, the hook
that registers it and how one row of ``stgcn plugins`` describes a record. Each row is
also a constant (:data:`DATASETS`, ...), the typed key of its table:
``registry.get(DATASETS, name)`` is a :class:`~stgcn.plugins.records.Dataset` to a type
checker, and ``registry.table(DATASETS)`` all of them.

The registry, ``stgcn plugins``, the unknown-name errors, the public facades
(:mod:`stgcn.hookspecs`, :mod:`stgcn.records`) and ``stgcn plugin new KIND NAME`` read
this table and nothing else, so a new kind is a hook spec, a record and one row here
(the scaffold of a kind without templates of its own is a generic package that
implements its hook). The registry checks each row's hook against the hook specs when
it collects (:func:`check_hooks`), so a misspelt hook is one error naming the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from stgcn.errors import StgcnError
from stgcn.model.joint_names import feeds
from stgcn.plugins.records import (
    Backend,
    Dataset,
    Exporter,
    Layout,
    Logger,
    Model,
    PoseEstimator,
    Weights,
)

if TYPE_CHECKING:
    import pluggy

    from stgcn.plugins.registry import Registry

#: the record type of a kind
T = TypeVar("T")
#: ``row(registry, name)``: the ``stgcn plugins --json`` entry of one record
Row = Callable[["Registry", str], dict[str, Any]]
#: what ``stgcn plugins`` prints after the label, from the record's ``--json`` entry
Text = Callable[[dict[str, Any]], str]


def _name(row: dict[str, Any]) -> str:
    return str(row["name"])


@dataclass(frozen=True, eq=False)
class Kind(Generic[T]):
    """One kind of thing a plugin provides, whose records are ``T``s.

    Compared by identity: each kind is one constant of this module.
    """

    #: the registry table and ``--json`` list: "backends"
    name: str
    #: one of them, in errors and ``stgcn plugin new``: "backend", "pose_estimator"
    singular: str
    #: the type ``register`` checks each record against (``T`` itself; typed ``Any``
    #: because a Protocol such as :class:`Backend` is not a concrete ``type[T]``)
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

    @property
    def constant(self) -> str:
        """``POSE_ESTIMATORS``: the name of this kind's constant here and in
        :mod:`stgcn.records`."""
        return self.name.upper()


def _backend_row(registry: Registry, name: str) -> dict[str, Any]:
    backend = registry.get(BACKENDS, name)
    availability = registry.availability(name)
    return {
        "name": name,
        "description": backend.description,
        "available": availability.available,
        "reason": availability.reason or None,
        "collective": backend.collective,
        "precisions": list(backend.precisions),
    }


def _dataset_row(registry: Registry, name: str) -> dict[str, Any]:
    dataset = registry.get(DATASETS, name)
    layout = dataset.layout if isinstance(dataset.layout, str) else dataset.layout.name
    return {
        "name": dataset.name,
        "description": dataset.description,
        "num_class": dataset.num_class,
        "layout": layout,
        "in_channels": dataset.in_channels,
        "num_person": dataset.num_person,
        "needs_data_path": dataset.needs_data_path,
        "coordinates": dataset.coordinates,
    }


def _exporter_row(registry: Registry, name: str) -> dict[str, Any]:
    return {"name": name, "description": registry.get(EXPORTERS, name).description}


def _logger_row(registry: Registry, name: str) -> dict[str, Any]:
    return {"name": name, "description": registry.get(LOGGERS, name).description}


def _pose_estimator_row(registry: Registry, name: str) -> dict[str, Any]:
    estimator = registry.get(POSE_ESTIMATORS, name)
    layouts = registry.table(LAYOUTS)
    return {
        "name": name,
        "description": estimator.description,
        # the registered layouts its joints feed, by name (stgcn.model.joint_names)
        "layouts": [n for n in sorted(layouts) if feeds(estimator.joints, layouts[n])],
        "max_persons": estimator.max_persons,
        "unavailable": estimator.unavailable() if estimator.unavailable is not None else None,
    }


def _layout_row(registry: Registry, name: str) -> dict[str, Any]:
    layout = registry.get(LAYOUTS, name)
    return {
        "name": name,
        "description": layout.description,
        "num_node": layout.num_node,
        "joints": list(layout.joints),
        "center": layout.center,
    }


def _model_row(registry: Registry, name: str) -> dict[str, Any]:
    model = registry.get(MODELS, name)
    return {
        "name": name,
        "description": model.description,
        "options": model.options.keys(),
        "recognises_foreign_weights": model.recognise is not None,
    }


def _weights_row(registry: Registry, name: str) -> dict[str, Any]:
    weights = registry.get(WEIGHTS, name)
    return {
        "name": name,
        "description": weights.description,
        "model": weights.model,
        "layout": weights.layout,
        "num_class": weights.num_class,
        "dataset": weights.dataset,
        "url": weights.url,
        "source": weights.source,
        "size": weights.size,
        "sha256": weights.sha256,
    }


def _backend_text(row: dict[str, Any]) -> str:
    state = "available" if row["available"] else f"unavailable: {row['reason']}"
    return f"{row['name']:<12} {state}"


def _dataset_text(row: dict[str, Any]) -> str:
    classes = row["num_class"] or "its data names its"
    return f"{row['name']:<12} {classes} classes, {row['layout']} layout"


def _described_text(row: dict[str, Any]) -> str:
    return f"{row['name']:<12} {row['description']}".rstrip()


def _layout_text(row: dict[str, Any]) -> str:
    return f"{row['name']:<12} {row['num_node']} joints"


def _weights_text(row: dict[str, Any]) -> str:
    return f"{row['name']:<12} {row['model']}, {row['dataset']}"


def _pose_estimator_text(row: dict[str, Any]) -> str:
    if row.get("unavailable"):
        return f"{row['name']:<12} unavailable: {row['unavailable']}"
    return f"{row['name']:<12} {', '.join(row['layouts']) or 'no'} layouts"


BACKENDS: Kind[Backend] = Kind(
    name="backends",
    singular="backend",
    record=Backend,
    hook="stgcn_register_backends",
    row=_backend_row,
    label="backend",
    text=_backend_text,
)
DATASETS: Kind[Dataset] = Kind(
    name="datasets",
    singular="dataset",
    record=Dataset,
    hook="stgcn_register_datasets",
    row=_dataset_row,
    label="dataset",
    text=_dataset_text,
    package_prefix="stgcn-data",
)
EXPORTERS: Kind[Exporter] = Kind(
    name="exporters",
    singular="exporter",
    record=Exporter,
    hook="stgcn_register_exporters",
    row=_exporter_row,
    label="exporter",
    text=_described_text,
    package_prefix="stgcn-export",
)
LOGGERS: Kind[Logger] = Kind(
    name="loggers",
    singular="logger",
    record=Logger,
    hook="stgcn_register_loggers",
    row=_logger_row,
    label="logger",
    text=_described_text,
)
POSE_ESTIMATORS: Kind[PoseEstimator] = Kind(
    name="pose_estimators",
    singular="pose_estimator",
    record=PoseEstimator,
    hook="stgcn_register_pose_estimators",
    row=_pose_estimator_row,
    label="pose",
    text=_pose_estimator_text,
    install_hint=("mediapipe", "stgcn-pose-mediapipe"),
    package_prefix="stgcn-pose",
)
LAYOUTS: Kind[Layout] = Kind(
    name="layouts",
    singular="layout",
    record=Layout,
    hook="stgcn_register_layouts",
    row=_layout_row,
    label="layout",
    text=_layout_text,
)

MODELS: Kind[Model] = Kind(
    name="models",
    singular="model",
    record=Model,
    hook="stgcn_register_models",
    row=_model_row,
    label="model",
    text=_described_text,
)

WEIGHTS: Kind[Weights] = Kind(
    name="weights",
    singular="weights",
    record=Weights,
    hook="stgcn_register_weights",
    row=_weights_row,
    label="weights",
    text=_weights_text,
)

#: every kind, in the order ``stgcn plugins`` lists them
KINDS: tuple[Kind[Any], ...] = (
    BACKENDS,
    DATASETS,
    EXPORTERS,
    LOGGERS,
    POSE_ESTIMATORS,
    LAYOUTS,
    MODELS,
    WEIGHTS,
)


def check_hooks(manager: pluggy.PluginManager, kinds: Iterable[Kind[Any]] = KINDS) -> None:
    """Refuse a row whose hook is not a register hook of the plugin manager's specs: a
    misspelt ``hook`` is then one error naming the row, before any plugin is called,
    instead of every plugin failing to register."""
    for kind in kinds:
        caller = getattr(manager.hook, kind.hook, None)
        spec = getattr(caller, "spec", None)
        if spec is None:
            raise StgcnError(
                f"plugin kind {kind.name!r} names the hook {kind.hook!r}, which is not a "
                "hook spec of stgcn.plugins.hookspecs (a misspelt row of stgcn.plugins.kinds)"
            )
        if tuple(spec.argnames) != ("register",):
            raise StgcnError(
                f"plugin kind {kind.name!r} names the hook {kind.hook!r}, whose spec takes "
                f"({', '.join(spec.argnames)}) instead of (register)"
            )
