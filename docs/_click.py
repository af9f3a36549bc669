"""The whole ``stgcn`` command group, for the command reference (mkdocs-click).

The root group in :mod:`stgcn.cli` holds no command until :func:`stgcn.cli.build_cli`
has asked every installed plugin (the built-in commands among them) to add its own, so
the reference documents this module's ``cli``, built here once, rather than the bare
group: what the page shows is then exactly what ``stgcn --help`` shows.
"""

from __future__ import annotations

from stgcn.cli import build_cli

cli = build_cli()
