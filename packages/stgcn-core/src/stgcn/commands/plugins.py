"""``stgcn plugins``: the installed plugins and what each provides."""

from __future__ import annotations

import json
from typing import Any

import click

from stgcn.plugins.hookspecs import hookimpl


def describe_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The lines of ``stgcn plugins``: each distribution, then what it provides."""
    lines = []
    for row in rows:
        lines.append(f"{row['name']} {row['version']}")
        for failure in row["errors"]:
            lines.append(f"  FAILED   {failure['plugin']}: {failure['error']}")
        for skipped in row["skipped"]:
            lines.append(f"  SKIPPED  {skipped['plugin']}: {skipped['reason']}")
        for backend in row["backends"]:
            state = "available" if backend["available"] else f"unavailable: {backend['reason']}"
            lines.append(f"  backend  {backend['name']:<12} {state}")
        for dataset in row["datasets"]:
            lines.append(
                f"  dataset  {dataset['name']:<12} {dataset['num_class'] or 'its data names its'} "
                f"classes, {dataset['layout']} layout"
            )
        for exporter in row["exporters"]:
            lines.append(f"  exporter {exporter['name']}")
        for logger in row.get("loggers", []):
            lines.append(f"  logger   {logger['name']}")
        for estimator in row.get("pose_estimators", []):
            lines.append(
                f"  pose     {estimator['name']:<12} {', '.join(estimator['layouts'])} layouts"
            )
        for command in row["commands"]:
            lines.append(f"  command  {command}")
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List installed plugins and what they provide."""
    from stgcn.plugins.registry import describe, get_registry

    rows = describe(get_registry())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for line in describe_rows(rows):
        click.echo(line)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(plugins)
