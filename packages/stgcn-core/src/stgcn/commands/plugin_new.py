"""``stgcn plugin new KIND NAME``: a ready package for a plugin of any registered kind.

The generated package installs and passes its own tests as written: for a dataset, a
reader of numpy arrays, a generator of small learnable sample data, a test holding it
to the contract kit (``stgcn.testing``) and one training it; for a model, a small
network and a test that it learns the synthetic dataset; for a backend, a logger, an
exporter, a pose estimator and a layout, a small working plugin of that kind with tests
that exercise it. The author then replaces the working part with their own.

The kinds are the rows of :data:`stgcn.plugins.kinds.KINDS`: each gets a subcommand,
and its files come from ``scaffold_templates/<kind>/`` over ``scaffold_templates/
common/``; a kind without a folder of its own gets ``scaffold_templates/generic/``,
a package implementing its hook, so that a kind added with a table row is
scaffoldable with no code here.

The command is added through the ``stgcn_register_commands`` hook, like any plugin's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.kinds import KINDS, Kind

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11's; 3.10 has importlib.abc
    from importlib.abc import Traversable

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
TEMPLATE_SUFFIX = ".tmpl"
MODULE_FOLDER = "__module__"
COMMON_FOLDER = "common"
GENERIC_FOLDER = "generic"


def _api_range() -> str:
    from stgcn.plugins.loading import API_VERSION

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


def _templates(kind: Kind[Any]) -> list[tuple[str, Traversable]]:
    """The kind's template files, each relative path once: its own over the common ones."""
    root = resources.files("stgcn.commands") / "scaffold_templates"
    own = root / kind.singular
    chosen = dict(_files(root / COMMON_FOLDER))
    chosen.update(_files(own if own.is_dir() else root / GENERIC_FOLDER))
    return sorted(chosen.items())


def _values(kind: Kind[Any], name: str) -> dict[str, str]:
    from stgcn import __version__

    dist = f"{kind.distribution_prefix}-{name}"
    return {
        "name": name,
        kind.singular: name,  # ${dataset}, ${backend}: the name in a kind's own templates
        "dist": dist,
        "module": dist.replace("-", "_"),
        "class_name": "".join(part.capitalize() for part in name.split("-")),
        "kind": kind.words[0],
        "kinds": kind.words[1],
        "hook": kind.hook,
        "record": kind.record.__name__,
        "api_range": _api_range(),
        "core_version": __version__,
    }


def kind_named(word: str) -> Kind[Any]:
    """The kind ``stgcn plugin new WORD`` means (``dataset``, ``pose-estimator``)."""
    for kind in KINDS:
        if word in (kind.command, kind.singular):
            return kind
    known = ", ".join(kind.command for kind in KINDS)
    raise StgcnError(f"no plugin kind {word!r}; kinds: {known}")


def new_plugin_package(kind: Kind[Any] | str, name: str, output: str | Path = ".") -> Path:
    """Write ``OUTPUT/<prefix>-NAME`` for a plugin of ``kind`` and return it; an existing
    folder is refused, and a failure leaves nothing behind."""
    from string import Template

    kind = kind_named(kind) if isinstance(kind, str) else kind
    if not NAME_PATTERN.fullmatch(name):
        raise StgcnError(
            f"{kind.words[0]} name {name!r}: use lower-case letters, digits and single "
            "hyphens, starting with a letter (e.g. my-clips)"
        )
    values = _values(kind, name)
    parent = Path(output)
    target = parent / values["dist"]
    if target.exists():
        raise StgcnError(f"{target} already exists; choose another --output or name")
    if parent.exists() and not parent.is_dir():
        raise StgcnError(f"{parent} is not a folder")
    parent.mkdir(parents=True, exist_ok=True)
    # written beside the target, then renamed: a failure leaves no half-made package
    staging = Path(tempfile.mkdtemp(prefix=f".{values['dist']}-", dir=parent))
    try:
        for relative, template in _templates(kind):
            path = staging / relative.replace(MODULE_FOLDER, values["module"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(template.read_text(encoding="utf-8")).substitute(values))
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def new_dataset_package(name: str, output: str | Path = ".") -> Path:
    """Write ``OUTPUT/stgcn-data-NAME`` and return it; an existing folder is refused."""
    return new_plugin_package("dataset", name, output)


@click.group("plugin")
def plugin_group() -> None:
    """Start a plugin of your own."""


@plugin_group.group("new")
def new_group() -> None:
    """Write a ready package for a new plugin."""


def _kind_command(kind: Kind[Any]) -> click.Command:
    prefix = kind.distribution_prefix

    @click.command(kind.command)
    @click.argument("name")
    @click.option(
        "--output",
        default=".",
        show_default=True,
        help=f"Folder to write {prefix}-NAME into.",
    )
    def new_kind(name: str, output: str) -> None:
        target = new_plugin_package(kind, name, output)
        click.echo(f"wrote {target}")
        click.echo(f"next: pip install -e '{target}[test]' && pytest {target / 'tests'}")

    new_kind.help = (
        f"Package NAME for a new {kind.words[0]}: pyproject, hook implementation, README, tests."
    )
    return new_kind


for _kind in KINDS:
    new_group.add_command(_kind_command(_kind))


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(plugin_group)
