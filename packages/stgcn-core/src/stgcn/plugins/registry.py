"""The plugin manager: collects what each plugin registers into one :class:`Registry`.

Each plugin's register hooks are called on their own, so that every record has an owner
(``registry.owner_of(kind, name)``) and a plugin that fails while registering loses only
its own records. The kinds are declared once, in :mod:`stgcn.plugins.kinds`; this module
handles them all alike. Loading the plugin modules (entry points, ``STGCN_PLUGINS``, the
API version check, ``STGCN_STRICT_PLUGINS``) is :mod:`stgcn.plugins.loading`, choosing a
run's backend :mod:`stgcn.plugins.backend_choice`, the plugins' commands
:mod:`stgcn.plugins.command_hooks`. The names imported from them ``as`` themselves are
re-exported: code written for the one module this used to be imports them from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from stgcn.errors import StgcnError
from stgcn.plugins import backend_choice
from stgcn.plugins.backend_choice import backend_code as backend_code
from stgcn.plugins.command_hooks import register_commands as register_commands
from stgcn.plugins.kinds import BY_NAME, BY_SINGULAR
from stgcn.plugins.kinds import KINDS as KIND_TABLE
from stgcn.plugins.listing import describe as describe
from stgcn.plugins.listing import unknown_message
from stgcn.plugins.loading import API_ATTRIBUTE as API_ATTRIBUTE
from stgcn.plugins.loading import API_VERSION as API_VERSION
from stgcn.plugins.loading import BUILTIN_PLUGINS as BUILTIN_PLUGINS
from stgcn.plugins.loading import CORE_DISTRIBUTION as CORE_DISTRIBUTION
from stgcn.plugins.loading import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from stgcn.plugins.loading import PLUGINS_VARIABLE as PLUGINS_VARIABLE
from stgcn.plugins.loading import PluginInfo as PluginInfo
from stgcn.plugins.loading import api_incompatibility as api_incompatibility
from stgcn.plugins.loading import call_own_hook, fail, usable
from stgcn.plugins.loading import load_plugins as load_plugins
from stgcn.plugins.loading import named_plugin_modules as named_plugin_modules
from stgcn.plugins.loading import plugin_manager as plugin_manager
from stgcn.plugins.loading import strict_plugins as strict_plugins

if TYPE_CHECKING:
    from stgcn.plugins.records import (
        Availability,
        Backend,
        Dataset,
        Exporter,
        Logger,
        PoseEstimator,
        RunBackend,
    )

#: the kinds' names, in the order ``stgcn plugins`` lists them
KINDS = tuple(kind.name for kind in KIND_TABLE)


class Registry:
    """Everything the installed plugins registered, by kind and name: ``registry.backends``
    is the table of backends and ``registry.backend(name)`` one of them, for every kind."""

    if TYPE_CHECKING:
        backends: dict[str, Backend]
        datasets: dict[str, Dataset]
        exporters: dict[str, Exporter]
        loggers: dict[str, Logger]
        pose_estimators: dict[str, PoseEstimator]

        def backend(self, name: str) -> Backend: ...
        def dataset(self, name: str) -> Dataset: ...
        def exporter(self, name: str) -> Exporter: ...
        def logger(self, name: str) -> Logger: ...
        def pose_estimator(self, name: str) -> PoseEstimator: ...

    def __init__(
        self,
        plugins: list[PluginInfo] | None = None,
        owner: dict[tuple[str, str], PluginInfo] | None = None,
        **tables: Mapping[str, Any],
    ) -> None:
        unknown = set(tables) - set(BY_NAME)
        if unknown:
            raise TypeError(f"Registry() got unknown kinds: {', '.join(sorted(unknown))}")
        self.plugins = list(plugins or [])
        self.owner = dict(owner or {})
        self.tables: dict[str, dict[str, Any]] = {k: dict(tables.get(k, {})) for k in BY_NAME}

    def __getattr__(self, name: str) -> Any:
        if name in BY_NAME:
            return self.tables[name]
        if name in BY_SINGULAR:
            return lambda record_name: self.get(BY_SINGULAR[name].name, record_name)
        raise AttributeError(name)

    def with_tables(self, **tables: Mapping[str, Any]) -> Registry:
        """A copy with these kinds' tables replaced (a test adds a spy backend this way)."""
        return Registry(self.plugins, self.owner, **{**self.tables, **tables})

    def get(self, kind: str, name: str) -> Any:
        """The record of ``kind`` named ``name``; one line naming the known ones otherwise."""
        table = self.tables[kind]
        if name not in table:
            raise StgcnError(unknown_message(BY_NAME[kind], name, table))
        return table[name]

    def owner_of(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin that registered ``name`` of ``kind``, or None for an unknown name."""
        return self.owner.get((kind, name))

    def availability(self, name: str) -> Availability:
        """A backend's availability (:mod:`stgcn.plugins.backend_choice`)."""
        return backend_choice.availability(self.backend(name))

    def ready_backend(
        self, name: str | None, precision: str | None, options: Mapping[str, str] | None = None
    ) -> tuple[RunBackend, str]:
        """The named (or best) backend made ready for a run (:mod:`.backend_choice`)."""
        return backend_choice.ready_backend(self, name, precision, options or {})

    def best_backend(self) -> str:
        """The first available backend, accelerators before the cpu."""
        return backend_choice.best_backend(self)


def collect(manager: pluggy.PluginManager, infos: list[PluginInfo]) -> Registry:
    """Call each plugin's register hooks separately, so that each record has an owner
    and one plugin's failure discards only that plugin's records."""
    registry = Registry(plugins=infos)
    for info in usable(infos):
        plugin = manager.get_plugin(info.name)
        found: dict[str, dict[str, Any]] = {kind.name: {} for kind in KIND_TABLE}
        try:
            for kind in KIND_TABLE:
                recorder = _recorder(found[kind.name], kind.name, info)
                call_own_hook(manager, kind.hook, plugin, register=recorder)
        except StgcnError:
            raise
        except Exception as error:  # a broken plugin is skipped, not fatal
            fail(info, "registration", error)
            manager.unregister(plugin)
            continue
        for kind_name, records in found.items():
            for name, record in records.items():
                previous = registry.owner.get((kind_name, name))
                if previous is not None:
                    raise StgcnError(
                        f"{kind_name[:-1]} {name!r} is registered twice: by "
                        f"{previous.distribution} ({previous.name}) and by "
                        f"{info.distribution} ({info.name}); uninstall one of them"
                    )
                registry.tables[kind_name][name] = record
                registry.owner[(kind_name, name)] = info
                info.provided.setdefault(kind_name, []).append(name)
    return registry


def _recorder(into: dict[str, Any], kind: str, info: PluginInfo) -> Callable[[Any], None]:
    expected = BY_NAME[kind].record

    def register(record: Any) -> None:
        if not isinstance(record, expected):
            raise TypeError(f"register() for {kind} expects a {expected.__name__}, got {record!r}")
        if record.name in into:
            raise ValueError(f"{kind[:-1]} {record.name!r} registered twice by one plugin")
        into[record.name] = _stamped(record, info)

    return register


def _stamped(record: Any, info: PluginInfo) -> Any:
    """A record type with ``plugin`` / ``plugin_api`` fields learns who registered it."""
    if not dataclasses.is_dataclass(record) or isinstance(record, type):
        return record
    names = {f.name for f in dataclasses.fields(record)}
    stamp = {"plugin": info.distribution, "plugin_api": info.api}
    stamp = {key: value for key, value in stamp.items() if key in names}
    return dataclasses.replace(record, **stamp) if stamp else record


_STATE: tuple[pluggy.PluginManager, Registry] | None = None


def loaded_owner_of(kind: str, name: str) -> PluginInfo | None:
    """The owner of a record of the registry loaded in this process (None: not loaded)."""
    return _STATE[1].owner_of(kind, name) if _STATE is not None else None


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
