"""Finding plugins and collecting what they register.

Plugins are modules named by the ``stgcn`` entry point group; the built-ins go
through the same hooks, registered directly so that they work from a source tree
too. A plugin that fails to import or to register is reported and skipped, so one
broken package never takes the others down; ``STGCN_STRICT_PLUGINS=1`` makes that
fatal for plugin authors who want to see it fail loudly.

``STGCN_PLUGINS=module,module`` names plugin modules to load without an installed
distribution (entry points exist only for installed ones): a source tree on
``PYTHONPATH`` on a machine where nothing can be installed. A module that an entry
point already loaded is not registered twice.

The plugin API carries a version, ``API_VERSION``. A plugin module states the
versions it was written for in ``STGCN_API`` (a PEP 440 specifier such as
``">=1,<2"``); one that excludes this core is skipped with a one-line reason
rather than failing later in the middle of a run. A module without ``STGCN_API``
is taken as compatible, so plugins written before the version existed keep working.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from stgcn.errors import StgcnError, first_line
from stgcn.plugins import hookspecs
from stgcn.plugins.records import Availability, Backend, Dataset, Exporter, Logger, PoseEstimator

ENTRY_POINT_GROUP = "stgcn"
PLUGINS_VARIABLE = "STGCN_PLUGINS"
CORE_DISTRIBUTION = "stgcn-core"
BUILTIN_PLUGINS = (
    "stgcn.backends.cpu",
    "stgcn.data.synthetic_plugin",
    "stgcn.commands.run",
    "stgcn.commands.evaluate",
    "stgcn.commands.fuse",
    "stgcn.commands.bench",
    "stgcn.commands.plugins",
    "stgcn.commands.report",
    "stgcn.commands.info",
    "stgcn.commands.data",
    "stgcn.commands.plugin_new",
    "stgcn.loggers.tensorboard_plugin",
)
KINDS = ("backends", "datasets", "exporters", "loggers", "pose_estimators")
#: The version of the hooks and records a plugin is written against. The major number
#: changes when a plugin written for the previous one could break.
API_VERSION = "1.3"
#: The module attribute where a plugin states the API versions it supports.
API_ATTRIBUTE = "STGCN_API"


@dataclass
class PluginInfo:
    """One plugin module and what it provided, for ``stgcn plugins``."""

    name: str
    distribution: str
    version: str
    module: str
    backends: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)
    loggers: list[str] = field(default_factory=list)
    pose_estimators: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    error: str | None = None
    #: why a plugin that imported fine was not used (an API range that excludes this core)
    skipped: str | None = None


@dataclass
class Registry:
    """Everything the installed plugins registered, by name."""

    plugins: list[PluginInfo] = field(default_factory=list)
    backends: dict[str, Backend] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    exporters: dict[str, Exporter] = field(default_factory=dict)
    loggers: dict[str, Logger] = field(default_factory=dict)
    pose_estimators: dict[str, PoseEstimator] = field(default_factory=dict)
    owner: dict[tuple[str, str], PluginInfo] = field(default_factory=dict)

    def backend(self, name: str) -> Backend:
        return self._get("backends", name)

    def dataset(self, name: str) -> Dataset:
        return self._get("datasets", name)

    def exporter(self, name: str) -> Exporter:
        return self._get("exporters", name)

    def logger(self, name: str) -> Logger:
        return self._get("loggers", name)

    def pose_estimator(self, name: str) -> PoseEstimator:
        return self._get("pose_estimators", name)

    def _get(self, kind: str, name: str) -> Any:
        table = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "none installed"
            what, kinds = kind[:-1].replace("_", " "), kind.replace("_", " ")
            hint = ""
            if kind == "pose_estimators" and "mediapipe" not in table:
                hint = " (pip install stgcn-pose-mediapipe adds 'mediapipe')"
            raise StgcnError(f"unknown {what} {name!r}; known {kinds}: {known}{hint}")
        return table[name]

    def availability(self, name: str) -> Availability:
        """A backend's availability; a backend that raises while answering is unavailable."""
        try:
            return self.backend(name).availability()
        except StgcnError:
            raise
        except Exception as error:  # a plugin's bug must not stop listing
            return Availability(False, f"availability check failed: {_describe(error)}")

    def ready_backend(
        self, name: str | None, precision: str | None, options: Mapping[str, str] | None = None
    ) -> tuple[Backend, str]:
        """The named (or best) backend, checked available, with a precision it supports,
        configured with its ``--backend-option`` pairs."""
        name = name or self.best_backend()
        backend = self.backend(name)
        availability = self.availability(name)
        if not availability.available:
            raise StgcnError(f"backend {name!r} is unavailable: {availability.reason}")
        precision = precision or backend.default_precision()
        if precision not in backend.precisions:
            raise StgcnError(
                f"backend {name!r} cannot train in {precision}; "
                f"it supports {', '.join(backend.precisions)}"
            )
        backend.configure(dict(options or {}))
        return backend, precision

    def best_backend(self) -> str:
        """The first available backend, accelerators before the cpu."""
        for name in sorted(self.backends, key=lambda n: (n == "cpu", n)):
            if self.availability(name).available:
                return name
        raise StgcnError("no available backend; see `stgcn plugins`")


def strict_plugins() -> bool:
    return os.environ.get("STGCN_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {first_line(error)}"


def _warn(message: str) -> None:
    print(f"stgcn: warning: {message}", file=sys.stderr)


def _fail(info: PluginInfo, stage: str, error: BaseException) -> None:
    info.error = f"{stage} failed: {_describe(error)}"
    message = f"plugin {info.name!r} ({info.distribution}) {info.error}; skipped"
    if strict_plugins():
        raise StgcnError(message + " (STGCN_STRICT_PLUGINS is set)") from error
    _warn(message)


def api_incompatibility(module: ModuleType) -> str | None:
    """Why ``module`` cannot be used with this core's plugin API, or None when it can."""
    declared = getattr(module, API_ATTRIBUTE, None)
    if declared is None:
        return None
    try:
        supported = SpecifierSet(str(declared))
    except InvalidSpecifier:
        return f"its {API_ATTRIBUTE} {declared!r} is not a version range such as '>=1,<2'"
    if Version(API_VERSION) in supported:
        return None
    return f"needs stgcn plugin API {declared}, this stgcn-core has {API_VERSION}"


def _skip(info: PluginInfo, reason: str) -> None:
    info.skipped = reason
    message = f"plugin {info.name!r} ({info.distribution}) skipped: {reason}"
    if strict_plugins():
        raise StgcnError(message + " (STGCN_STRICT_PLUGINS is set)")
    _warn(message)


def _register(manager: pluggy.PluginManager, info: PluginInfo, module: ModuleType) -> None:
    """Register ``module`` unless its declared API range excludes this core."""
    reason = api_incompatibility(module)
    if reason is not None:
        _skip(info, reason)
        return
    manager.register(module, name=info.name)


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def _core_version() -> str:
    from stgcn import __version__

    return __version__


def plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("stgcn")
    manager.add_hookspecs(hookspecs)
    return manager


def load_plugins(
    manager: pluggy.PluginManager, extra: Iterable[tuple[PluginInfo, ModuleType]] = ()
) -> list[PluginInfo]:
    """Register the built-ins, every entry point that imports, then ``extra``."""
    infos: list[PluginInfo] = []
    for module_name in BUILTIN_PLUGINS:
        info = PluginInfo(module_name, CORE_DISTRIBUTION, _core_version(), module_name)
        manager.register(importlib.import_module(module_name), name=module_name)
        infos.append(info)
    for entry_point in _entry_points():
        dist = entry_point.dist
        info = PluginInfo(
            entry_point.name,
            dist.name if dist else "unknown",
            dist.version if dist else "unknown",
            entry_point.value,
        )
        infos.append(info)
        try:
            module = entry_point.load()
        except Exception as error:  # any import failure skips this plugin only
            _fail(info, "import", error)
            continue
        _register(manager, info, module)
    for module_name in named_plugin_modules():
        # no distribution to name: the module stands for it in ``stgcn plugins``
        info = PluginInfo(module_name, module_name, "unknown", module_name)
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # any import failure skips this plugin only
            infos.append(info)
            _fail(info, "import", error)
            continue
        if manager.is_registered(module) or any(
            other.module == module_name and other.skipped for other in infos
        ):
            continue  # already there (or already skipped) through its entry point
        info.version = str(getattr(module, "__version__", "unknown"))
        infos.append(info)
        _register(manager, info, module)
    for info, module in extra:
        manager.register(module, name=info.name)
        infos.append(info)
    return infos


def named_plugin_modules() -> list[str]:
    """The modules listed in ``STGCN_PLUGINS`` (comma-separated), in order, once each."""
    names = (part.strip() for part in os.environ.get(PLUGINS_VARIABLE, "").split(","))
    return list(dict.fromkeys(name for name in names if name))


def _call_own_hook(manager: pluggy.PluginManager, hook: str, plugin: object, **kwargs: Any) -> None:
    """Call ``hook`` for one plugin only, so its failures and records stay its own."""
    for impl in getattr(manager.hook, hook).get_hookimpls():
        if impl.plugin is plugin:
            impl.function(**kwargs)


def collect(manager: pluggy.PluginManager, infos: list[PluginInfo]) -> Registry:
    """Call each plugin's register hooks separately, so that each record has an owner
    and one plugin's failure discards only that plugin's records."""
    registry = Registry(plugins=infos)
    for info in infos:
        if info.error is not None or info.skipped is not None:
            continue
        plugin = manager.get_plugin(info.name)
        found: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        try:
            for kind in KINDS:
                recorder = _recorder(found[kind], kind, info)
                _call_own_hook(manager, f"stgcn_register_{kind}", plugin, register=recorder)
        except StgcnError:
            raise
        except Exception as error:  # a broken plugin is skipped, not fatal
            _fail(info, "registration", error)
            manager.unregister(plugin)
            continue
        for kind, records in found.items():
            table = getattr(registry, kind)
            for name, record in records.items():
                previous = registry.owner.get((kind, name))
                if previous is not None:
                    raise StgcnError(
                        f"{kind[:-1]} {name!r} is registered twice: by "
                        f"{previous.distribution} ({previous.name}) and by "
                        f"{info.distribution} ({info.name}); uninstall one of them"
                    )
                table[name] = record
                registry.owner[(kind, name)] = info
                getattr(info, kind).append(name)
    return registry


def _recorder(into: dict[str, Any], kind: str, info: PluginInfo) -> Callable[[Any], None]:
    expected = {
        "backends": Backend,
        "datasets": Dataset,
        "exporters": Exporter,
        "loggers": Logger,
        "pose_estimators": PoseEstimator,
    }[kind]

    def register(record: Any) -> None:
        if not isinstance(record, expected):
            raise TypeError(f"register() for {kind} expects a {expected.__name__}, got {record!r}")
        if record.name in into:
            raise ValueError(f"{kind[:-1]} {record.name!r} registered twice by one plugin")
        into[record.name] = record

    return register


def register_commands(manager: pluggy.PluginManager, registry: Registry, cli: Any) -> None:
    """Let each plugin add its commands; note which names each one added."""
    for info in registry.plugins:
        if info.error is not None or info.skipped is not None:
            continue
        plugin = manager.get_plugin(info.name)
        if plugin is None:
            continue
        before = set(cli.commands)
        try:
            _call_own_hook(manager, "stgcn_register_commands", plugin, cli=cli)
        except Exception as error:  # a broken plugin is skipped, not fatal
            for name in set(cli.commands) - before:
                cli.commands.pop(name)
            _fail(info, "command registration", error)
            continue
        info.commands.extend(sorted(set(cli.commands) - before))


_STATE: tuple[pluggy.PluginManager, Registry] | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    return _state()[1]


def get_plugin_manager() -> pluggy.PluginManager:
    return _state()[0]


def _state() -> tuple[pluggy.PluginManager, Registry]:
    global _STATE
    if _STATE is None:
        manager = plugin_manager()
        _STATE = (manager, collect(manager, load_plugins(manager)))
    return _STATE


def reset() -> None:
    """Forget the loaded plugins (tests install and remove plugins at run time)."""
    global _STATE
    _STATE = None


def describe(registry: Registry) -> list[dict[str, Any]]:
    """The ``stgcn plugins --json`` document: one entry per installed distribution."""
    rows: dict[str, dict[str, Any]] = {}
    for info in registry.plugins:
        row = rows.setdefault(
            info.distribution,
            {
                "name": info.distribution,
                "version": info.version,
                "modules": [],
                "backends": [],
                "datasets": [],
                "exporters": [],
                "loggers": [],
                "pose_estimators": [],
                "commands": [],
                "errors": [],
                "skipped": [],
            },
        )
        row["modules"].append(info.module)
        if info.error is not None:
            row["errors"].append({"plugin": info.name, "error": info.error})
        if info.skipped is not None:
            row["skipped"].append({"plugin": info.name, "reason": info.skipped})
        row["backends"] += [_backend_row(registry, name) for name in info.backends]
        row["datasets"] += [_dataset_row(registry.datasets[name]) for name in info.datasets]
        row["exporters"] += [
            {"name": name, "description": registry.exporters[name].description}
            for name in info.exporters
        ]
        row["loggers"] += [
            {"name": name, "description": registry.loggers[name].description}
            for name in info.loggers
        ]
        row["pose_estimators"] += [
            {
                "name": name,
                "description": registry.pose_estimators[name].description,
                "layouts": sorted(registry.pose_estimators[name].layouts),
                "max_persons": registry.pose_estimators[name].max_persons,
            }
            for name in info.pose_estimators
        ]
        row["commands"] += info.commands
    return list(rows.values())


def _backend_row(registry: Registry, name: str) -> dict[str, Any]:
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


def _dataset_row(dataset: Dataset) -> dict[str, Any]:
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
