"""The built-in commands are plugins, and plugins share groups through one helper."""

from __future__ import annotations

import click
import pytest

from stgcn import cli as cli_module
from stgcn.commands import SHARED_GROUPS, group
from stgcn.commands.options import one_input
from stgcn.errors import StgcnError
from stgcn.plugins import command_hooks, listing, loading
from stgcn.plugins import registry as plugins

BUILT_IN = [
    "run",
    "eval",
    "fuse",
    "bench",
    "plugins",
    "weights",
    "report",
    "info",
    "data",
    "plugin",
]


def test_every_built_in_command_comes_from_a_core_plugin() -> None:
    root = click.Group("stgcn")
    manager = loading.plugin_manager()
    registry = plugins.collect(manager, loading.load_plugins(manager))
    command_hooks.register_commands(manager, registry, root)
    core = next(row for row in listing.describe(registry) if row["name"] == "stgcn-core")
    assert core["commands"] == BUILT_IN
    assert set(BUILT_IN) <= set(root.commands)
    assert {"list", "extract", "convert"} <= set(group(root, "data").commands)


def test_a_shared_group_is_made_once_whoever_asks_first() -> None:
    root = click.Group("stgcn")
    convert = group(root, "data", "convert")
    assert group(root, "data", "convert") is convert
    assert root.commands["data"].help == SHARED_GROUPS[("data",)]
    assert convert.help == SHARED_GROUPS[("data", "convert")]
    made = group(root, "export", help="Write a trained model to another format.")
    assert group(root, "export", help="ignored once it exists") is made
    assert made.help == "Write a trained model to another format."


def test_a_command_in_the_way_of_a_group_is_a_plugin_conflict() -> None:
    root = click.Group("stgcn")
    root.add_command(click.Command("export"))
    with pytest.raises(TypeError, match="'export' command is not a group"):
        group(root, "export")


def test_the_old_convert_name_is_gone() -> None:
    # stgcn.cli.convert was a re-export of the shared group (plugin API 2.0 removed it)
    assert not hasattr(cli_module, "convert")
    assert group(cli_module.cli, "data", "convert").name == "convert"


def test_one_input_names_every_choice() -> None:
    assert one_input(("a", "--a X", None), ("b", "--b Y", "y")) == ("b", "y")
    with pytest.raises(StgcnError, match="give one of --a X, --b Y and --c Z"):
        one_input(("a", "--a X", "x"), ("b", "--b Y", "y"), ("c", "--c Z", None))


def test_info_takes_the_checkpoint_as_an_option_or_an_argument(tmp_path) -> None:
    import json

    import torch

    import stgcn
    from stgcn.testing.helpers import stgcn_in_process

    path = tmp_path / "bare.pt"
    torch.save(stgcn.STGCN(7).state_dict(), path)
    positional = stgcn_in_process("info", str(path), "--json")
    assert positional.returncode == 0, positional.stderr
    option = stgcn_in_process("info", "--checkpoint", str(path), "--json")
    assert option.returncode == 0, option.stderr
    assert json.loads(option.stdout) == json.loads(positional.stdout)
    assert json.loads(option.stdout)["num_class"] == 7
    same = stgcn_in_process("info", str(path), "--checkpoint", str(tmp_path / "." / "bare.pt"))
    assert same.returncode == 0, same.stderr
    other = tmp_path / "other.pt"
    both = stgcn_in_process("info", str(path), "--checkpoint", str(other))
    assert both.returncode == 1
    assert both.stderr.splitlines() == [
        f"stgcn: error: give the checkpoint once: CHECKPOINT {path} and --checkpoint {other} differ"
    ]
    neither = stgcn_in_process("info")
    assert neither.stderr.strip() == "stgcn: error: give a CHECKPOINT or --dataset NAME"
