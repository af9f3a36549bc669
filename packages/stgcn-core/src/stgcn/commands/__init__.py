"""The built-in commands, one module each, and the helper plugins use to share groups.

Every built-in command (``run``, ``eval``, ``fuse``, ``bench``, ``plugins``, ``report``,
``info``, ``data ...``, ``plugin new``) is a plugin module listed in
``stgcn.plugins.loading.BUILTIN_PLUGINS``: it adds its command from a
``stgcn_register_commands(cli)`` hook exactly as a third party's plugin does. A command
module holds its options, one call into the layer below (``training``, ``bench``,
``reports``, ``pose``, ``fusion``) and the printing of the result, nothing else.

Groups that several plugins fill (``stgcn data``, ``stgcn data convert``, ``stgcn
export``) are reached through :func:`group`, whichever plugin gets there first, so that
no plugin depends on another's module globals or on the order plugins load in.
"""

from __future__ import annotations

import click

#: The help of the shared groups the core defines, used by whichever plugin makes them.
SHARED_GROUPS: dict[tuple[str, ...], str] = {
    ("data",): "Datasets: list them; plugins add converters here.",
    ("data", "convert"): (
        "Turn a dataset's release files into the arrays training reads (one command per "
        "plugin).\n\nA dataset plugin adds ``stgcn data convert NAME`` from its "
        "``stgcn_register_commands`` hook with\n"
        '``stgcn.commands.group(cli, "data", "convert").add_command(...)``.'
    ),
}


def group(cli: click.Group, *path: str, help: str | None = None) -> click.Group:
    """The command group at ``path`` below ``cli`` (``group(cli, "data", "convert")`` is
    ``stgcn data convert``), made on first use; every plugin that extends it gets the same one.

    A group that does not exist yet is made with ``help``, or for the core's own shared
    groups (``data``, ``data convert``) with the core's help text, whoever asks first. A
    command of that name that is not a group is a conflict between plugins: TypeError
    (the plugin that asked is reported and skipped, like any failing registration).
    """
    if not path:
        raise ValueError("group() needs the name of at least one group")
    current = cli
    for depth in range(1, len(path) + 1):
        name = path[depth - 1]
        found = current.commands.get(name)
        if found is None:
            text = help if depth == len(path) and help is not None else None
            found = click.Group(name, help=text or SHARED_GROUPS.get(path[:depth]))
            current.add_command(found)
        elif not isinstance(found, click.Group):
            raise TypeError(f"another plugin's {' '.join(path[:depth])!r} command is not a group")
        current = found
    return current


__all__ = ["SHARED_GROUPS", "group"]
