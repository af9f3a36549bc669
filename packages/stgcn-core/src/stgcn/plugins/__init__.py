"""The plugin layer: the hooks a plugin implements (:mod:`.hookspecs`), the records it
registers (:mod:`.records`), a backend's defaults and the compatibility layer for older
backends (:mod:`.backend`), the kinds of record (:mod:`.kinds`), the ``KEY=VALUE``
settings parser (:mod:`.settings`), :func:`lazy` functions (:mod:`.deferred`), the loading
of plugin modules (:mod:`.loading`), the registry that collects what they register
(:mod:`.registry`), its listing (:mod:`.listing`), the choice of a run's backend
(:mod:`.backend_choice`) and the plugins' commands (:mod:`.command_hooks`).

It imports the model layer (a record may carry a custom :class:`~stgcn.model.graph.Layout`)
and nothing above it. The names a plugin author reads here are re-exported.
"""

from stgcn.plugins.deferred import lazy
from stgcn.plugins.registry import (
    API_VERSION,
    PluginInfo,
    Registry,
    describe,
    get_plugin_manager,
    get_registry,
    reset,
    strict_plugins,
)

__all__ = [
    "API_VERSION",
    "PluginInfo",
    "Registry",
    "describe",
    "get_plugin_manager",
    "get_registry",
    "lazy",
    "reset",
    "strict_plugins",
]
