"""The whole ``stgcn`` command group, for the command reference (mkdocs-click).

The root group in :mod:`stgcn.cli` holds no command until the plugins (the built-in
commands among them) have added their own, so the reference documents this module's
``cli``, built here once, rather than the bare group: what the page shows is exactly
what ``stgcn --help`` shows where this repository's packages are installed. Only their
commands are added: the site is built in the environment the tests share, which also
holds the example plugins (examples/), whose commands are theirs to document.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stgcn.cli import cli
from stgcn.commands.export import wire_exporters
from stgcn.plugins.command_hooks import register_commands
from stgcn.plugins.kinds import EXPORTERS
from stgcn.plugins.registry import Registry, get_plugin_manager, get_registry

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PACKAGES = Path(__file__).resolve().parent.parent / "packages"
#: the distributions of this repository's packages (packages/*/pyproject.toml)
OURS = {
    tomllib.loads(project.read_text())["project"]["name"]
    for project in PACKAGES.glob("*/pyproject.toml")
}

registry = get_registry()
ours = Registry(plugins=[info for info in registry.plugins if info.distribution in OURS])
register_commands(get_plugin_manager(), ours, cli)
# ``stgcn export NAME`` for each of their exporters, as ``stgcn`` itself adds them
exporters = registry.table(EXPORTERS)
wire_exporters(
    cli,
    registry.with_table(
        EXPORTERS,
        {
            name: record
            for name, record in exporters.items()
            if getattr(registry.owner_of(EXPORTERS, name), "distribution", None) in OURS
        },
    ),
)
