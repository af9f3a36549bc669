"""Layout names resolved through the registry, the one way the layers above the model
find a layout (the model layer cannot ask the registry, so it is handed the resolved
:class:`~stgcn.model.layouts.Layout`).

A name is any registered layout: the core's own (:mod:`stgcn.data.layouts_plugin`) and
those plugins bring (``stgcn_register_layouts``). While the plugins register (a plugin
module importing, a register hook building its pose estimator's joint maps) the registry
is not there yet: only the core's own layouts can be named then (they are the core's
plugin's records, which no other plugin may register under their names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stgcn.errors import StgcnError
from stgcn.model.layouts import LAYOUTS as BUILTIN_LAYOUTS
from stgcn.model.layouts import Layout, get_layout
from stgcn.plugins.kinds import LAYOUTS
from stgcn.plugins.registry import get_registry, loading_plugins


def layout_named(name: str) -> Layout:
    """The registered layout called ``name``; one ``unknown layout`` line otherwise.

    The core's own layouts are the records its layouts plugin registers, under names no
    other plugin may register: they are taken from it directly, so that a plugin module
    may build its joint maps when it is imported, before any registry exists."""
    if name in BUILTIN_LAYOUTS:
        return BUILTIN_LAYOUTS[name]
    if loading_plugins():
        raise StgcnError(
            f"layout {name!r} named while the plugins register, when only the core's "
            f"layouts are known ({', '.join(sorted(BUILTIN_LAYOUTS))}): hand the Layout "
            "record itself"
        )
    return get_registry().get(LAYOUTS, name)


def resolve_layout(layout: str | Layout | Mapping[str, Any]) -> Layout:
    """A registered layout's name, a :class:`Layout`, or a ``{num_node, edges, center}``
    mapping (a custom layout, a checkpoint's stored one) as a :class:`Layout`; a bad
    mapping raises ValueError (as :func:`~stgcn.model.layouts.get_layout` does)."""
    if isinstance(layout, str):
        return layout_named(layout)
    if isinstance(layout, Mapping):
        return get_layout(dict(layout))
    return get_layout(layout)


def layout_names() -> list[str]:
    """Every registered layout's name, sorted (for errors and help)."""
    return sorted(get_registry().table(LAYOUTS))


def registered_layouts() -> list[Layout]:
    """Every registered layout, by name: what a bare state_dict's adjacency is matched
    against (:class:`~stgcn.plugins.records.RecogniseRequest`'s ``layouts``)."""
    table = get_registry().table(LAYOUTS)
    return [table[name] for name in sorted(table)]


def layouts_with_joints(count: int) -> list[Layout]:
    """The registered layouts of ``count`` joints, by name."""
    table = get_registry().table(LAYOUTS)
    return [table[name] for name in sorted(table) if table[name].num_node == count]
