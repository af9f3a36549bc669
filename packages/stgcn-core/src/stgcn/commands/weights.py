"""``stgcn weights``: the released weights the installed plugins catalogue, by name.

``stgcn weights list`` says what each is (model, layout, classes, dataset, size) and
whether it is in the cache yet; ``stgcn weights download NAME`` fetches one ahead of use
(on a machine with a network, for one without: copy the cache folder it prints). Every
command that takes a weights file takes these names too (``run --weights NAME``,
``eval``/``predict``/``info``/``export --checkpoint NAME``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl

#: the table's columns: heading and the ``--json`` key it shows
COLUMNS = (
    ("NAME", "name"),
    ("MODEL", "model"),
    ("LAYOUT", "layout"),
    ("CLASSES", "num_class"),
    ("DATASET", "dataset"),
    ("SIZE", "size"),
    ("CACHED", "cached"),
)


@click.group()
def weights() -> None:
    """Released weights by name: list them, fetch them."""


@weights.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_weights(as_json: bool) -> None:
    """List the released weights of the installed plugins, and which are cached."""
    rows = _rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no released weights are catalogued by the installed plugins")
        return
    cells = [[heading for heading, _ in COLUMNS]]
    cells += [[_cell(key, row[key]) for _, key in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    for line in cells:
        padded = (text.ljust(width) for text, width in zip(line, widths, strict=True))
        click.echo("  ".join(padded).rstrip())
    from stgcn.networks.released import cache_folder

    click.echo(f"cache: {cache_folder()}")


@weights.command("download")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def download(names: tuple[str, ...]) -> None:
    """Fetch released weights into the cache now (each once), and print their paths."""
    from stgcn.networks.released import fetch_released
    from stgcn.plugins.kinds import WEIGHTS
    from stgcn.plugins.registry import get_registry

    table = get_registry().table(WEIGHTS)
    unknown = [name for name in names if name not in table]
    if unknown:  # the catalogue is long: the listing names them, not this line
        raise StgcnError(
            f"unknown weights {', '.join(map(repr, unknown))}: stgcn weights list names "
            f"the {len(table)} catalogued"
        )
    for record in (table[name] for name in names):
        click.echo(str(fetch_released(record)))


def _rows() -> list[dict[str, Any]]:
    from stgcn.networks.released import cached_path
    from stgcn.plugins.kinds import WEIGHTS
    from stgcn.plugins.registry import get_registry

    registry = get_registry()
    rows = []
    for name in sorted(registry.table(WEIGHTS)):
        path = cached_path(registry.get(WEIGHTS, name))
        row = WEIGHTS.row(registry, name)
        rows.append({**row, "cached": path.is_file(), "path": str(path)})
    return rows


def _cell(key: str, value: Any) -> str:
    if key == "cached":
        return "yes" if value else "no"
    if key == "size":
        return "?" if value is None else _size(int(value))
    return str(value)


def _size(size: int) -> str:
    """``12.3 MB``: bytes in the largest unit that keeps a number of at least 1."""
    amount = float(size)
    for unit in ("B", "kB", "MB"):
        if amount < 1000:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} GB"


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(weights)
