"""The stgcn plugin: the ``stgcn serve`` command.

Kept import-light: every ``stgcn`` invocation loads this module, so Starlette, uvicorn
and the engines are imported only when ``serve`` runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stgcn.hookspecs import hookimpl

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.2,<3"

if TYPE_CHECKING:
    import click


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    from stgcn_serve.command import serve

    cli.add_command(serve)
