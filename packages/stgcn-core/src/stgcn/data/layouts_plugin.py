"""Registers the built-in skeleton layouts (:data:`stgcn.model.layouts.LAYOUTS`) through
the same hook as a third party's, so that ``stgcn plugins`` lists them and every layout
name resolves through the registry."""

from __future__ import annotations

from collections.abc import Callable

from stgcn.model.layouts import LAYOUTS, Layout
from stgcn.plugins.hookspecs import hookimpl

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"


@hookimpl
def stgcn_register_layouts(register: Callable[[Layout], None]) -> None:
    for layout in LAYOUTS.values():
        register(layout)
