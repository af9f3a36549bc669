"""Calling each plugin's ``stgcn_register_commands`` on its own, and noting what it added:
a command of its own (``run``) or a subcommand of a group another plugin made (``data
convert kinetics``), by its whole path, for ``stgcn plugins``. A plugin that fails while
adding its commands loses the ones it added, and the others keep theirs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from stgcn.plugins.loading import call_own_hook, fail, usable

if TYPE_CHECKING:
    from stgcn.plugins.registry import Registry


def register_commands(manager: pluggy.PluginManager, registry: Registry, cli: Any) -> None:
    """Let each plugin add its commands; note which each one added."""
    for info in usable(registry.plugins):
        plugin = manager.get_plugin(info.name)
        if plugin is None:
            continue
        before = _command_paths(cli)
        try:
            call_own_hook(manager, "stgcn_register_commands", plugin, cli=cli)
        except Exception as error:  # a broken plugin is skipped, not fatal
            for path in _newest(_command_paths(cli), before):
                parent, _, name = path.rpartition(" ")
                _command_paths(cli)[parent].commands.pop(name, None)
            fail(info, "command registration", error)
            continue
        info.commands = sorted(_newest(_command_paths(cli), before))


def _command_paths(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command under ``group`` by its path below it ("run", "data convert"), the
    group itself as ""."""
    paths = {prefix: group}
    for name, command in getattr(group, "commands", {}).items():
        paths.update(_command_paths(command, f"{prefix} {name}".strip()))
    return paths


def _newest(after: Mapping[str, Any], before: Mapping[str, Any]) -> list[str]:
    """The paths added, without those inside a group that was itself added."""
    added = set(after) - set(before)
    return [path for path in added if path.rpartition(" ")[0] not in added]
