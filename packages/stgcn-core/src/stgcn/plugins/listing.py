"""How the registry reads to a person: the ``stgcn plugins`` document and listing, and
the line that names the known records when a name is unknown.

Everything kind-specific comes from the kinds table (:mod:`stgcn.plugins.kinds`), so a
new kind shows in ``stgcn plugins`` (text and ``--json``) without code here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from stgcn.plugins.kinds import KINDS, Kind

if TYPE_CHECKING:
    from stgcn.plugins.registry import Registry


def unknown_message(kind: Kind[Any], name: str, known: Mapping[str, Any]) -> str:
    """``unknown dataset 'x'; known datasets: ...``, with the kind's install hint when the
    name users look for is not installed."""
    what, kinds = kind.words
    listed = ", ".join(sorted(known)) or "none installed"
    hint = ""
    if kind.install_hint is not None and kind.install_hint[0] not in known:
        provided, distribution = kind.install_hint
        hint = f" (pip install {distribution} adds {provided!r})"
    return f"unknown {what} {name!r}; known {kinds}: {listed}{hint}"


def describe(registry: Registry) -> list[dict[str, Any]]:
    """The ``stgcn plugins --json`` document: one entry per installed distribution."""
    rows: dict[str, dict[str, Any]] = {}
    for info in registry.plugins:
        row = rows.setdefault(
            info.distribution,
            {
                "name": info.distribution,
                "version": info.version,
                "modules": [],
                **{kind.name: [] for kind in KINDS},
                "commands": [],
                "errors": [],
                "skipped": [],
            },
        )
        row["modules"].append(info.module)
        if info.error is not None:
            row["errors"].append({"plugin": info.name, "error": info.error})
        if info.skipped is not None:
            row["skipped"].append({"plugin": info.name, "reason": info.skipped})
        for kind in KINDS:
            row[kind.name] += [
                kind.row(registry, name) for name in info.provided.get(kind.name, [])
            ]
        row["commands"] += info.commands
    return list(rows.values())


def lines(rows: list[dict[str, Any]]) -> Iterator[str]:
    """The ``stgcn plugins`` listing of :func:`describe`'s document, line by line."""
    for row in rows:
        yield f"{row['name']} {row['version']}"
        for failure in row["errors"]:
            yield f"  FAILED   {failure['plugin']}: {failure['error']}"
        for skipped in row["skipped"]:
            yield f"  SKIPPED  {skipped['plugin']}: {skipped['reason']}"
        for kind in KINDS:
            for entry in row.get(kind.name, []):
                yield f"  {kind.label:<8} {kind.text(entry)}"
        for command in row["commands"]:
            yield f"  command  {command}"
