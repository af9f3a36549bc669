"""The plugin API version: a plugin whose declared range excludes this core is skipped, one
written for the previous major version (1.x) in one line naming the migration page."""

from __future__ import annotations

import json

import pytest

from stgcn.errors import StgcnError
from stgcn.plugins import listing, loading
from stgcn.plugins import registry as plugins
from stgcn.plugins.kinds import DATASETS
from stgcn.testing.helpers import make_distribution, run_stgcn

PLUGIN = """
from stgcn.hookspecs import hookimpl
from stgcn.records import Dataset

{declaration}

def build(request):
    raise RuntimeError("not used in this test")

@hookimpl
def stgcn_register_datasets(register):
    register(Dataset(name="{name}", num_class=3, build=build, needs_data_path=False))
"""


def _plugin(site, module: str, declaration: str) -> None:
    dataset = module.removeprefix("fake_")
    make_distribution(
        site,
        f"stgcn-{dataset}",
        "1.0",
        module,
        PLUGIN.format(declaration=declaration, name=dataset),
    )


def test_the_core_has_a_version_inside_its_own_plugins_range() -> None:
    from stgcn.backends import cpu
    from stgcn.data import synthetic_plugin

    assert loading.API_VERSION == "2.3"
    for module in (cpu, synthetic_plugin):
        assert loading.api_incompatibility(module) is None


#: what a plugin written for API 1.x is told after its declared range
MIGRATE = "this stgcn-core has 2.3; see docs/plugins.md#migrating-from-1x"


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ("", None),
        ("STGCN_API = '>=2,<3'", None),
        ("STGCN_API = '==2.*'", None),
        ("STGCN_API = '>=1'", None),
        ("STGCN_API = '>=1,<2'", f"written for stgcn plugin API >=1,<2, {MIGRATE}"),
        ("STGCN_API = '>=1.4,<2'", f"written for stgcn plugin API >=1.4,<2, {MIGRATE}"),
        ("STGCN_API = '==1.*'", f"written for stgcn plugin API ==1.*, {MIGRATE}"),
        ("STGCN_API = '>=3'", "needs stgcn plugin API >=3, this stgcn-core has 2.3"),
        ("STGCN_API = '<1'", "needs stgcn plugin API <1, this stgcn-core has 2.3"),
        ("STGCN_API = 'one'", "its STGCN_API 'one' is not a version range"),
    ],
)
def test_declared_ranges(declaration: str, reason: str | None) -> None:
    import types

    module = types.ModuleType("fake_declared")
    exec(declaration, module.__dict__)
    found = loading.api_incompatibility(module)
    if reason is None:
        assert found is None
    else:
        assert found == reason or (found is not None and found.startswith(reason))


def test_incompatible_plugin_is_skipped_and_the_others_kept(site, capsys) -> None:
    _plugin(site, "fake_future", "STGCN_API = '>=3,<4'")
    _plugin(site, "fake_current", "STGCN_API = '>=2,<3'")
    _plugin(site, "fake_undeclared", "")
    registry = plugins.get_registry()
    assert {"current", "undeclared"} <= set(registry.table(DATASETS))
    assert "future" not in registry.table(DATASETS)
    warning = capsys.readouterr().err.strip().splitlines()
    assert warning == [
        "stgcn: warning: plugin 'fake_future' (stgcn-future) skipped: "
        "needs stgcn plugin API >=3,<4, this stgcn-core has 2.3"
    ]
    row = next(r for r in listing.describe(registry) if r["name"] == "stgcn-future")
    assert row["skipped"] == [
        {
            "plugin": "fake_future",
            "reason": "needs stgcn plugin API >=3,<4, this stgcn-core has 2.3",
        }
    ]
    assert row["datasets"] == [] and row["errors"] == []


def test_a_plugin_written_for_api_1_is_refused_in_one_line_naming_the_migration(
    site, capsys
) -> None:
    _plugin(site, "fake_old", "STGCN_API = '>=1.4,<2'")
    registry = plugins.get_registry()
    assert "old" not in registry.table(DATASETS)
    assert capsys.readouterr().err.strip().splitlines() == [
        "stgcn: warning: plugin 'fake_old' (stgcn-old) skipped: written for stgcn plugin "
        f"API >=1.4,<2, {MIGRATE}"
    ]
    # what the user then meets is one line, not a traceback
    run = run_stgcn("run", "--dataset", "old", site=site)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert "see docs/plugins.md#migrating-from-1x" in lines[0]
    assert lines[-1].startswith("stgcn: error: unknown dataset 'old'")
    assert "Traceback" not in run.stderr


def test_strict_mode_makes_an_incompatible_plugin_fatal(site, monkeypatch) -> None:
    _plugin(site, "fake_future", "STGCN_API = '>=3'")
    monkeypatch.setenv("STGCN_STRICT_PLUGINS", "1")
    with pytest.raises(StgcnError, match="cannot be used: needs stgcn plugin API >=3") as raised:
        plugins.get_registry()
    assert "skipped" not in str(raised.value)
    assert str(raised.value).endswith(
        "; fatal because STGCN_STRICT_PLUGINS is set (unset it to skip the plugin and go on)"
    )


def test_stgcn_plugins_lists_the_reason_in_one_line(site) -> None:
    _plugin(site, "fake_future", "STGCN_API = '>=3'")
    listing = run_stgcn("plugins", site=site)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    at = lines.index("stgcn-future 1.0")
    assert lines[at + 1] == (
        "  SKIPPED  fake_future: needs stgcn plugin API >=3, this stgcn-core has 2.3"
    )
    as_json = run_stgcn("plugins", "--json", site=site)
    row = next(r for r in json.loads(as_json.stdout) if r["name"] == "stgcn-future")
    assert row["skipped"][0]["reason"].startswith("needs stgcn plugin API >=3")
    # the dataset is absent, so using it is the ordinary one-line unknown-dataset error
    run = run_stgcn("run", "--dataset", "future", site=site)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].startswith("stgcn: error: unknown dataset 'future'")


def test_a_module_named_in_the_variable_is_checked_too(site, monkeypatch, capsys) -> None:
    (site / "fake_loose.py").write_text(
        PLUGIN.format(declaration="STGCN_API = '>=3'", name="loose")
    )
    monkeypatch.setenv("STGCN_PLUGINS", "fake_loose")
    registry = plugins.get_registry()
    assert "loose" not in registry.table(DATASETS)
    info = next(i for i in registry.plugins if i.name == "fake_loose")
    assert info.skipped == "needs stgcn plugin API >=3, this stgcn-core has 2.3"
    assert "skipped" in capsys.readouterr().err


def test_the_core_readme_and_the_plugin_guide_state_the_version_the_code_has() -> None:
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    readme = (repo / "packages" / "stgcn-core" / "README.md").read_text(encoding="utf-8")
    guide = (repo / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert f"`stgcn.plugins.loading.API_VERSION` (now `{loading.API_VERSION}`)" in readme
    assert f'(now `"{loading.API_VERSION}"`;' in guide
    assert f"this stgcn-core has {loading.API_VERSION}`" in guide
    assert "## Migrating from 1.x" in guide
