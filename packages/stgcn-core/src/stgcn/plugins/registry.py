"""The plugin manager: collects what each plugin registers into one :class:`Registry`.

Each plugin's register hooks are called on their own, so that every record has an owner
(``registry.owner_of(DATASETS, name)``) and a plugin that fails while registering loses
only its own records. The kinds are declared once, in :mod:`stgcn.plugins.kinds`; this
module handles them all alike, keyed by the kinds' constants, so that
``registry.get(DATASETS, name)`` is typed by the row itself. Loading the plugin modules
(entry points, ``STGCN_PLUGINS``, the API version check, ``STGCN_STRICT_PLUGINS``) is
:mod:`stgcn.plugins.loading`, choosing a run's backend :mod:`stgcn.plugins.backend_choice`,
the plugins' commands :mod:`stgcn.plugins.command_hooks`, the listing
:mod:`stgcn.plugins.listing`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from stgcn.errors import StgcnError
from stgcn.plugins import backend_choice
from stgcn.plugins.kinds import BACKENDS, KINDS, Kind, check_hooks
from stgcn.plugins.listing import unknown_message
from stgcn.plugins.loading import (
    PluginInfo,
    call_own_hook,
    fail,
    load_plugins,
    plugin_manager,
    usable,
)

if TYPE_CHECKING:
    from stgcn.plugins.records import Availability, RunBackend

T = TypeVar("T")


class Registry:
    """Everything the installed plugins registered, by kind and name:
    ``registry.table(BACKENDS)`` is the table of backends and
    ``registry.get(BACKENDS, name)`` one of them, for every kind of
    :data:`stgcn.plugins.kinds.KINDS`."""

    def __init__(
        self,
        tables: Mapping[Kind[Any], Mapping[str, Any]] | None = None,
        plugins: list[PluginInfo] | None = None,
        owner: Mapping[tuple[str, str], PluginInfo] | None = None,
    ) -> None:
        tables = tables or {}
        unknown = [kind.name for kind in tables if kind not in KINDS]
        if unknown:
            raise TypeError(f"Registry() got unknown kinds: {', '.join(sorted(unknown))}")
        self.plugins = list(plugins or [])
        #: (kind name, record name) -> the plugin that registered it
        self._owner = dict(owner or {})
        self._tables: dict[str, dict[str, Any]] = {
            kind.name: dict(tables.get(kind, {})) for kind in KINDS
        }

    def table(self, kind: Kind[T]) -> Mapping[str, T]:
        """Every record of ``kind`` by name (read-only)."""
        return MappingProxyType(self._tables[kind.name])

    def get(self, kind: Kind[T], name: str) -> T:
        """The record of ``kind`` named ``name``; one line naming the known ones otherwise."""
        table: dict[str, T] = self._tables[kind.name]
        if name not in table:
            raise StgcnError(unknown_message(kind, name, table))
        return table[name]

    def with_table(self, kind: Kind[T], table: Mapping[str, T]) -> Registry:
        """A copy with ``kind``'s table replaced (a test adds a spy backend this way)."""
        tables = {other: self._tables[other.name] for other in KINDS}
        return Registry({**tables, kind: table}, self.plugins, self._owner)

    def owner_of(self, kind: Kind[Any], name: str) -> PluginInfo | None:
        """The plugin that registered ``name`` of ``kind``, or None for an unknown name."""
        return self._owner.get((kind.name, name))

    def availability(self, name: str) -> Availability:
        """A backend's availability (:mod:`stgcn.plugins.backend_choice`)."""
        return backend_choice.availability(self.get(BACKENDS, name))

    def ready_backend(
        self, name: str | None, precision: str | None, options: Mapping[str, str] | None = None
    ) -> tuple[RunBackend, str]:
        """The named (or best) backend made ready for a run (:mod:`.backend_choice`)."""
        return backend_choice.ready_backend(self, name, precision, options or {})

    def best_backend(self) -> str:
        """The first available backend, accelerators before the cpu."""
        return backend_choice.best_backend(self)

    def _add(self, kind: Kind[Any], record_name: str, record: Any, info: PluginInfo) -> None:
        """Add one plugin's record; a name another plugin registered is refused."""
        previous = self._owner.get((kind.name, record_name))
        if previous is not None:
            raise StgcnError(
                f"{kind.singular} {record_name!r} is registered twice: by "
                f"{previous.distribution} ({previous.name}) and by "
                f"{info.distribution} ({info.name}); uninstall one of them"
            )
        self._tables[kind.name][record_name] = record
        self._owner[(kind.name, record_name)] = info
        info.provided.setdefault(kind.name, []).append(record_name)


def collect(manager: pluggy.PluginManager, infos: list[PluginInfo]) -> Registry:
    """Call each plugin's register hooks separately, so that each record has an owner
    and one plugin's failure discards only that plugin's records. The kinds' hooks are
    checked against the specs first: a misspelt row is one error, not every plugin
    failing."""
    check_hooks(manager, KINDS)
    registry = Registry(plugins=infos)
    for info in usable(infos):
        plugin = manager.get_plugin(info.name)
        found: dict[Kind[Any], dict[str, Any]] = {kind: {} for kind in KINDS}
        try:
            for kind in KINDS:
                recorder = _recorder(found[kind], kind, info)
                call_own_hook(manager, kind.hook, plugin, register=recorder)
        except StgcnError:
            raise
        except Exception as error:  # a broken plugin is skipped, not fatal
            fail(info, "registration", error)
            manager.unregister(plugin)
            continue
        for kind, records in found.items():
            for name, record in records.items():
                registry._add(kind, name, record, info)
    return registry


def _recorder(into: dict[str, Any], kind: Kind[Any], info: PluginInfo) -> Callable[[Any], None]:
    expected = kind.record

    def register(record: Any) -> None:
        if not isinstance(record, expected):
            raise TypeError(
                f"register() for {kind.name} expects a {expected.__name__}, got {record!r}"
            )
        if record.name in into:
            raise ValueError(f"{kind.singular} {record.name!r} registered twice by one plugin")
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
#: True while the plugins load and register (a plugin's register hook must not ask for
#: the registry being built: :func:`loading_plugins`)
_LOADING = False


def loaded_owner_of(kind: Kind[Any], name: str) -> PluginInfo | None:
    """The owner of a record of the registry loaded in this process (None: not loaded)."""
    return _STATE[1].owner_of(kind, name) if _STATE is not None else None


def loaded_registry() -> Registry | None:
    """The process-wide registry if it is loaded, else None (loading nothing): for a
    helper a plugin module may call when it is imported, which must not load the plugins
    (that would import the half-imported module again)."""
    return _STATE[1] if _STATE is not None else None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    return _state()[1]


def get_plugin_manager() -> pluggy.PluginManager:
    return _state()[0]


def loading_plugins() -> bool:
    """Whether the process-wide registry is being built now (a plugin module importing,
    a register hook running): what a helper a plugin calls then must not ask for it."""
    return _LOADING


def _state() -> tuple[pluggy.PluginManager, Registry]:
    global _STATE, _LOADING
    if _STATE is None:
        if _LOADING:
            raise StgcnError(
                "the plugin registry was asked for while the plugins register "
                "(a plugin's import or register hook asked for it)"
            )
        _LOADING = True
        try:
            manager = plugin_manager()
            _STATE = (manager, collect(manager, load_plugins(manager)))
        finally:
            _LOADING = False
    return _STATE


def reset() -> None:
    """Forget the loaded plugins (tests install and remove plugins at run time)."""
    global _STATE
    _STATE = None
