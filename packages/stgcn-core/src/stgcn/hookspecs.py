"""The hooks a stgcn plugin can implement: the public path of :mod:`stgcn.plugins.hookspecs`.

Its register hooks are those the kinds table names (:data:`stgcn.plugins.kinds.KINDS`,
one per kind), so a new kind's hook is public here without an edit. Importing this
module imports neither torch nor the registry: a plugin module that only needs
``hookimpl`` stays cheap to import.
"""

from stgcn.plugins import hookspecs as _specs
from stgcn.plugins.hookspecs import hookimpl as hookimpl
from stgcn.plugins.hookspecs import hookspec as hookspec
from stgcn.plugins.hookspecs import stgcn_register_commands as stgcn_register_commands
from stgcn.plugins.kinds import KINDS as _KINDS

#: the hooks that are no kind's register hook
_OTHER_HOOKS = ("stgcn_register_commands",)

globals().update({kind.hook: getattr(_specs, kind.hook) for kind in _KINDS})

__all__ = ["hookimpl", "hookspec", *(kind.hook for kind in _KINDS), *_OTHER_HOOKS]
