"""``stgcn plugin new dataset NAME``: a ready package for a third-party dataset plugin.

The generated package installs and passes its own tests as written: a dataset that
reads numpy arrays, a generator of small sample data, and a test holding it to the
contract kit (``stgcn.testing``). The author then replaces the reader with their own.

The command is added through the ``stgcn_register_commands`` hook, like any plugin's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11's; 3.10 has importlib.abc
    from importlib.abc import Traversable

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.registry).
STGCN_API = ">=1,<2"

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
TEMPLATE_SUFFIX = ".tmpl"
MODULE_FOLDER = "__module__"


def _api_range() -> str:
    from stgcn.plugins.registry import API_VERSION

    major = int(API_VERSION.split(".")[0])
    return f">={major},<{major + 1}"


def _files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found += _files(entry, relative + "/")
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((relative.removesuffix(TEMPLATE_SUFFIX), entry))
    return found


def new_dataset_package(name: str, output: str | Path = ".") -> Path:
    """Write ``OUTPUT/stgcn-data-NAME`` and return it; an existing folder is refused."""
    from string import Template

    from stgcn import __version__

    if not NAME_PATTERN.fullmatch(name):
        raise StgcnError(
            f"dataset name {name!r}: use lower-case letters, digits and single hyphens, "
            "starting with a letter (e.g. my-clips)"
        )
    values = {
        "dataset": name,
        "dist": f"stgcn-data-{name}",
        "module": f"stgcn_data_{name.replace('-', '_')}",
        "api_range": _api_range(),
        "core_version": __version__,
    }
    parent = Path(output)
    target = parent / values["dist"]
    if target.exists():
        raise StgcnError(f"{target} already exists; choose another --output or name")
    if parent.exists() and not parent.is_dir():
        raise StgcnError(f"{parent} is not a folder")
    parent.mkdir(parents=True, exist_ok=True)
    templates = resources.files("stgcn.commands") / "scaffold_templates" / "dataset"
    # written beside the target, then renamed: a failure leaves no half-made package
    staging = Path(tempfile.mkdtemp(prefix=f".{values['dist']}-", dir=parent))
    try:
        for relative, template in _files(templates):
            path = staging / relative.replace(MODULE_FOLDER, values["module"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(template.read_text(encoding="utf-8")).substitute(values))
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


@click.group("plugin")
def plugin_group() -> None:
    """Start a plugin of your own."""


@plugin_group.group("new")
def new_group() -> None:
    """Write a ready package for a new plugin."""


@new_group.command("dataset")
@click.argument("name")
@click.option(
    "--output", default=".", show_default=True, help="Folder to write stgcn-data-NAME into."
)
def new_dataset(name: str, output: str) -> None:
    """A dataset plugin package NAME: pyproject, hook implementation, README, tests."""
    target = new_dataset_package(name, output)
    click.echo(f"wrote {target}")
    click.echo(f"next: pip install -e '{target}[test]' && pytest {target / 'tests'}")


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(plugin_group)
