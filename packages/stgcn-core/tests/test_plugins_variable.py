"""STGCN_PLUGINS: plugin modules loaded from a source tree, without an installed distribution."""

from __future__ import annotations

import json

import pytest

from stgcn.errors import StgcnError
from stgcn.plugins import registry as plugins
from stgcn.plugins.kinds import DATASETS
from stgcn.testing.helpers import make_distribution, run_stgcn

LOOSE_DATASET = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

__version__ = "4.5.6"

def build(split, data_path, options):
    raise RuntimeError("not used in this test")

@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="loose", num_class=3, build=build, needs_data_path=False))
"""


def test_named_module_without_distribution_is_registered(site, monkeypatch) -> None:
    (site / "fake_loose.py").write_text(LOOSE_DATASET)
    monkeypatch.setenv("STGCN_PLUGINS", " fake_loose , ")
    registry = plugins.get_registry()
    assert registry.get(DATASETS, "loose").num_class == 3
    info = registry.owner_of(DATASETS, "loose")
    assert (info.distribution, info.version, info.module) == ("fake_loose", "4.5.6", "fake_loose")


def test_module_also_installed_is_registered_once(site, monkeypatch) -> None:
    make_distribution(site, "fake-loose-dist", "1.0", "fake_loose", LOOSE_DATASET)
    monkeypatch.setenv("STGCN_PLUGINS", "fake_loose,fake_loose")
    registry = plugins.get_registry()  # a second registration would raise "registered twice"
    assert registry.owner_of(DATASETS, "loose").distribution == "fake-loose-dist"
    assert [info.module for info in registry.plugins].count("fake_loose") == 1


def test_missing_module_is_reported_and_skipped(site, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STGCN_PLUGINS", "fake_not_there")
    registry = plugins.get_registry()
    assert "synthetic" in registry.table(DATASETS)
    failed = [info for info in registry.plugins if info.error]
    assert [info.name for info in failed] == ["fake_not_there"]
    assert "import failed: ModuleNotFoundError" in failed[0].error
    assert "plugin 'fake_not_there'" in capsys.readouterr().err


def test_missing_module_is_fatal_in_strict_mode(site, monkeypatch) -> None:
    monkeypatch.setenv("STGCN_PLUGINS", "fake_not_there")
    monkeypatch.setenv("STGCN_STRICT_PLUGINS", "1")
    with pytest.raises(StgcnError, match="fake_not_there"):
        plugins.get_registry()


def test_python_dash_m_stgcn_lists_a_named_module(site) -> None:
    """The way a machine without installed packages runs it: PYTHONPATH and the variable."""
    (site / "fake_loose.py").write_text(LOOSE_DATASET)
    result = run_stgcn("plugins", "--json", site=site, env={"STGCN_PLUGINS": "fake_loose"})
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fake_loose"]["version"] == "4.5.6"
    assert [d["name"] for d in rows["fake_loose"]["datasets"]] == ["loose"]
