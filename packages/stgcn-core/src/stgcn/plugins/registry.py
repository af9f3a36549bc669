"""The plugin manager: collects what each plugin registers into one :class:`Registry`.

Each plugin's register hooks are called on their own, so that every record has an owner
(``registry.owner_of(kind, name)``) and a plugin that fails while registering loses only
its own records. The kinds are declared once, in :mod:`stgcn.plugins.kinds`; this module
handles them all alike. Loading the plugin modules (entry points, ``STGCN_PLUGINS``, the
API version check, ``STGCN_STRICT_PLUGINS``) is :mod:`stgcn.plugins.loading`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pluggy

from stgcn.errors import PluginError, StgcnError
from stgcn.plugins.backend import backend_for_run
from stgcn.plugins.kinds import BY_NAME, BY_SINGULAR
from stgcn.plugins.kinds import KINDS as KIND_TABLE
from stgcn.plugins.listing import describe, unknown_message
from stgcn.plugins.loading import (
    API_ATTRIBUTE,
    API_VERSION,
    BUILTIN_PLUGINS,
    CORE_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    PLUGINS_VARIABLE,
    PluginInfo,
    api_incompatibility,
    describe_error,
    fail,
    load_plugins,
    named_plugin_modules,
    plugin_manager,
    strict_plugins,
)
from stgcn.plugins.records import Availability

if TYPE_CHECKING:
    from stgcn.plugins.records import (
        Backend,
        Dataset,
        Exporter,
        Logger,
        PoseEstimator,
        RunBackend,
    )

__all__ = [
    "API_ATTRIBUTE",
    "API_VERSION",
    "BUILTIN_PLUGINS",
    "CORE_DISTRIBUTION",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "PLUGINS_VARIABLE",
    "PluginInfo",
    "Registry",
    "api_incompatibility",
    "backend_code",
    "collect",
    "describe",
    "get_plugin_manager",
    "get_registry",
    "load_plugins",
    "named_plugin_modules",
    "plugin_manager",
    "register_commands",
    "reset",
    "strict_plugins",
]

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
        """A backend's availability; a backend that raises while answering is unavailable."""
        try:
            return self.backend(name).availability()
        except StgcnError:
            raise
        except Exception as error:  # a plugin's bug must not stop listing
            return Availability(False, f"availability check failed: {describe_error(error)}")

    def ready_backend(
        self, name: str | None, precision: str | None, options: Mapping[str, str] | None = None
    ) -> tuple[RunBackend, str]:
        """The named (or best) backend, checked available, with a precision it supports,
        created for this run from its ``--backend-option`` pairs; the registered record
        stays as it is (:func:`stgcn.plugins.backend.backend_for_run`)."""
        name = name or self.best_backend()
        backend = self.backend(name)
        availability = self.availability(name)
        if not availability.available:
            raise StgcnError(f"backend {name!r} is unavailable: {availability.reason}")
        with backend_code(backend, "default_precision"):
            precision = precision or backend.default_precision()
        if precision not in backend.precisions:
            raise StgcnError(
                f"backend {name!r} cannot train in {precision}; "
                f"it supports {', '.join(backend.precisions)}"
            )
        with backend_code(backend, "configure"):
            return backend_for_run(backend, dict(options or {})), precision

    def best_backend(self) -> str:
        """The first available backend, accelerators before the cpu."""
        for name in sorted(self.backends, key=lambda n: (n == "cpu", n)):
            if self.availability(name).available:
                return name
        raise StgcnError("no available backend; see `stgcn plugins`")


def _call_own_hook(manager: pluggy.PluginManager, hook: str, plugin: object, **kwargs: Any) -> None:
    """Call ``hook`` for one plugin only, so its failures and records stay its own."""
    for impl in getattr(manager.hook, hook).get_hookimpls():
        if impl.plugin is plugin:
            impl.function(**kwargs)


def _usable(infos: Iterable[PluginInfo]) -> Iterable[PluginInfo]:
    return (info for info in infos if info.error is None and info.skipped is None)


def collect(manager: pluggy.PluginManager, infos: list[PluginInfo]) -> Registry:
    """Call each plugin's register hooks separately, so that each record has an owner
    and one plugin's failure discards only that plugin's records."""
    registry = Registry(plugins=infos)
    for info in _usable(infos):
        plugin = manager.get_plugin(info.name)
        found: dict[str, dict[str, Any]] = {kind.name: {} for kind in KIND_TABLE}
        try:
            for kind in KIND_TABLE:
                recorder = _recorder(found[kind.name], kind.name, info)
                _call_own_hook(manager, kind.hook, plugin, register=recorder)
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


def register_commands(manager: pluggy.PluginManager, registry: Registry, cli: Any) -> None:
    """Let each plugin add its commands; note which each one added, a subcommand of a
    group another plugin made (``data convert kinetics``) by its whole path."""
    for info in _usable(registry.plugins):
        plugin = manager.get_plugin(info.name)
        if plugin is None:
            continue
        before = _command_paths(cli)
        try:
            _call_own_hook(manager, "stgcn_register_commands", plugin, cli=cli)
        except Exception as error:  # a broken plugin is skipped, not fatal
            for path in _newest(_command_paths(cli), before):
                parent, _, name = path.rpartition(" ")
                _command_paths(cli)[parent].commands.pop(name, None)
            fail(info, "command registration", error)
            continue
        info.commands.extend(sorted(_newest(_command_paths(cli), before)))


def _command_paths(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command under ``group`` by its path below it ("run", "data convert"), the
    group itself as ""."""
    paths = {prefix: group}
    for name, command in getattr(group, "commands", {}).items():
        paths.update(_command_paths(command, f"{prefix} {name}".strip()))
    return paths


def _newest(after: Mapping[str, Any], before: Mapping[str, Any]) -> list[str]:
    """The paths added, without those inside a group that was itself added."""
    added = set(after) - set(before)
    return [path for path in added if path.rpartition(" ")[0] not in added]


_STATE: tuple[pluggy.PluginManager, Registry] | None = None


@contextmanager
def backend_code(backend: Any, place: str) -> Iterator[None]:
    """A call into a backend plugin (``setup``, ``prepare_model``, ...): an exception other
    than StgcnError becomes one :class:`~stgcn.errors.PluginError` line naming the
    backend, the distribution that registered it and ``place``."""
    try:
        yield
    except StgcnError:
        raise
    except Exception as error:
        name = str(getattr(backend, "name", "?"))
        owner = _STATE[1].owner_of("backends", name) if _STATE is not None else None
        plugin = owner.distribution if owner is not None else ""
        raise PluginError.wrapping(error, f"backend {name!r}", plugin, place) from error


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
