"""``stgcn plugins``: the installed plugins and what each provides."""

from __future__ import annotations

import json

import click

from stgcn.plugins.hookspecs import hookimpl


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List installed plugins and what they provide."""
    from stgcn.plugins.listing import describe, lines
    from stgcn.plugins.registry import get_registry

    rows = describe(get_registry())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for line in lines(rows):
        click.echo(line)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(plugins)
