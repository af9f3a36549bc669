"""Loading plugin modules, checked against the plugin API version each declares.

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
``">=2,<3"``); one that excludes this core is skipped with a one-line reason
rather than failing later in the middle of a run, and one written for the previous
major version is pointed to the migration page (``MIGRATION_PAGE``). A module without
``STGCN_API`` is taken as compatible.

The distribution's name and version come from its own metadata (``entry_point.dist``).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from stgcn.errors import StgcnError, first_line
from stgcn.plugins import hookspecs

ENTRY_POINT_GROUP = "stgcn"
PLUGINS_VARIABLE = "STGCN_PLUGINS"
CORE_DISTRIBUTION = "stgcn-core"
BUILTIN_PLUGINS = (
    "stgcn.backends.cpu",
    "stgcn.data.synthetic_plugin",
    "stgcn.data.layouts_plugin",
    "stgcn.networks.st_gcn",
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
#: The version of the hooks and records a plugin is written against. The major number
#: changes when a plugin written for the previous one could break.
API_VERSION = "2.3"
#: Where a plugin author reads what changed from the previous major version.
MIGRATION_PAGE = "docs/plugins.md#migrating-from-1x"
#: The versions of the previous major API: a plugin whose range admits one of them was
#: written for it, and is told where to read what changed.
PREVIOUS_MAJOR = ("1.0", "1.1", "1.2", "1.3", "1.4")
#: The module attribute where a plugin states the API versions it supports.
API_ATTRIBUTE = "STGCN_API"


@dataclass
class PluginInfo:
    """One plugin module and what it provided, for ``stgcn plugins``;
    ``info.provided["datasets"]`` (any kind's name) lists the names it registered of that
    kind."""

    name: str
    distribution: str
    version: str
    module: str
    provided: dict[str, list[str]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    error: str | None = None
    #: why a plugin that imported fine was not used (an API range that excludes this core)
    skipped: str | None = None
    #: the ``STGCN_API`` range the module declares ("" when it declares none)
    api: str = ""


def strict_plugins() -> bool:
    return os.environ.get("STGCN_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {first_line(error)}"


def _refuse(info: PluginInfo, warning: str, fatal: str, error: BaseException | None = None) -> None:
    """Report a plugin left out: the ``warning`` (it is skipped), or under
    STGCN_STRICT_PLUGINS the error ``fatal``, which must not claim that anything was
    skipped, since the command stops there."""
    head = f"plugin {info.name!r} ({info.distribution})"
    if strict_plugins():
        raise StgcnError(
            f"{head} {fatal}; fatal because STGCN_STRICT_PLUGINS is set "
            "(unset it to skip the plugin and go on)"
        ) from error
    print(f"stgcn: warning: {head} {warning}", file=sys.stderr)


def fail(info: PluginInfo, stage: str, error: BaseException) -> None:
    info.error = f"{stage} failed: {describe_error(error)}"
    _refuse(info, f"{info.error}; skipped", info.error, error)


def api_incompatibility(module: ModuleType) -> str | None:
    """Why ``module`` cannot be used with this core's plugin API, or None when it can."""
    declared = getattr(module, API_ATTRIBUTE, None)
    if declared is None:
        return None
    try:
        supported = SpecifierSet(str(declared))
    except InvalidSpecifier:
        return f"its {API_ATTRIBUTE} {declared!r} is not a version range such as '>=2,<3'"
    if Version(API_VERSION) in supported:
        return None
    if any(Version(old) in supported for old in PREVIOUS_MAJOR):
        return (
            f"written for stgcn plugin API {declared}, this stgcn-core has {API_VERSION}; "
            f"see {MIGRATION_PAGE}"
        )
    return f"needs stgcn plugin API {declared}, this stgcn-core has {API_VERSION}"


def _register(manager: pluggy.PluginManager, info: PluginInfo, module: ModuleType) -> None:
    """Register ``module`` unless its declared API range excludes this core."""
    reason = api_incompatibility(module)
    if reason is not None:
        info.skipped = reason
        _refuse(info, f"skipped: {reason}", f"cannot be used: {reason}")
        return
    info.api = str(getattr(module, API_ATTRIBUTE, ""))
    manager.register(module, name=info.name)


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
        _register(manager, info, importlib.import_module(module_name))
        infos.append(info)
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist  # the distribution's own metadata names the plugin
        name, version = (dist.name, dist.version) if dist else ("unknown", "unknown")
        info = PluginInfo(entry_point.name, name, version, entry_point.value)
        infos.append(info)
        try:
            module = entry_point.load()
        except Exception as error:  # any import failure skips this plugin only
            fail(info, "import", error)
            continue
        _register(manager, info, module)
    for module_name in named_plugin_modules():
        # no distribution to name: the module stands for it in ``stgcn plugins``
        info = PluginInfo(module_name, module_name, "unknown", module_name)
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # any import failure skips this plugin only
            infos.append(info)
            fail(info, "import", error)
            continue
        if manager.is_registered(module) or any(
            other.module == module_name and other.skipped for other in infos
        ):
            continue  # already there (or already skipped) through its entry point
        info.version = str(getattr(module, "__version__", "unknown"))
        infos.append(info)
        _register(manager, info, module)
    for info, module in extra:
        info.api = str(getattr(module, API_ATTRIBUTE, ""))
        manager.register(module, name=info.name)
        infos.append(info)
    return infos


def named_plugin_modules() -> list[str]:
    """The modules listed in ``STGCN_PLUGINS`` (comma-separated), in order, once each."""
    names = (part.strip() for part in os.environ.get(PLUGINS_VARIABLE, "").split(","))
    return list(dict.fromkeys(name for name in names if name))


def usable(infos: Iterable[PluginInfo]) -> Iterable[PluginInfo]:
    """The plugins that loaded and were not skipped."""
    return (info for info in infos if info.error is None and info.skipped is None)


def call_own_hook(manager: pluggy.PluginManager, hook: str, plugin: object, **kwargs: Any) -> None:
    """Call ``hook`` for one plugin only, so its failures and records stay its own."""
    for impl in getattr(manager.hook, hook).get_hookimpls():
        if impl.plugin is plugin:
            impl.function(**kwargs)
