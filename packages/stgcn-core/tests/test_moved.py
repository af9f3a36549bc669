"""The core was regrouped by layer; plugins and scripts written before that keep
importing the modules by their old names, and the public re-exports stay complete."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import stgcn
import stgcn.hookspecs
import stgcn.plugins.hookspecs
import stgcn.plugins.records
import stgcn.records
from stgcn.system.moved import MOVED, new_home


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_name_is_the_module_at_its_new_home(old: str) -> None:
    module = importlib.import_module(old)
    home = importlib.import_module(MOVED[old])
    assert module is home
    assert module.__name__ == MOVED[old]
    assert module.__spec__ is not None and module.__spec__.name == MOVED[old]


def test_submodules_of_a_moved_package_follow_it_and_load_once() -> None:
    from stgcn.data.sampling import uniform_indices
    from stgcn.datasets.sampling import uniform_indices as by_old_name

    assert by_old_name is uniform_indices
    assert new_home("stgcn.datasets.sampling") == "stgcn.data.sampling"
    assert new_home("stgcn.streams.training") == "stgcn.training.streams"
    assert new_home("stgcn.data.sampling") is None
    assert sys.modules["stgcn.datasets.sampling"] is sys.modules["stgcn.data.sampling"]


def test_old_names_work_in_a_fresh_process_without_importing_torch_first() -> None:
    code = (
        "import sys; from stgcn.datasets.recipes import PYSKL_STGCN; "
        "import stgcn.graph, stgcn.model.graph; "
        "assert stgcn.graph is stgcn.model.graph; print('torch' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "False"


def test_an_unknown_name_still_fails_to_import() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("stgcn.no_such_module")


@pytest.mark.parametrize(
    ("public", "home"),
    [(stgcn.hookspecs, stgcn.plugins.hookspecs), (stgcn.records, stgcn.plugins.records)],
    ids=["hookspecs", "records"],
)
def test_the_public_paths_re_export_every_public_name(public: object, home: object) -> None:
    names = {
        name
        for name, value in vars(home).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == home.__name__
    }
    hooks = {name for name in vars(home) if name.startswith("stgcn_register_")}
    assert names | hooks <= set(vars(public)), sorted((names | hooks) - set(vars(public)))
    assert stgcn.__version__
