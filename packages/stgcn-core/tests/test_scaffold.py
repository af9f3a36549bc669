"""``stgcn plugin new KIND``: every kind's generated package installs and passes its own tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stgcn.commands.plugin_new import new_dataset_package, new_plugin_package
from stgcn.errors import StgcnError
from stgcn.plugins.kinds import KINDS
from stgcn.testing.helpers import run_stgcn

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


#: each kind's generated tests, counted: a package whose tests were not all collected fails
TEST_COUNTS = {"backend": 6, "dataset": 13, "exporter": 5, "logger": 2, "pose-estimator": 7}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """Every kind's package generated (``my-KIND``), then built by hatchling into wheels
    and installed, all in one pip call, into one folder that goes on the path."""
    work = tmp_path_factory.mktemp("scaffold")
    packages = {}
    for kind in KINDS:
        name = f"my-{kind.command}"
        made = run_stgcn("plugin", "new", kind.command, name, "--output", str(work / "new"))
        assert made.returncode == 0, made.stderr
        packages[kind.command] = work / "new" / f"{kind.distribution_prefix}-{name}"
        assert made.stdout.splitlines()[0] == f"wrote {packages[kind.command]}"
    site = work / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            *map(str, packages.values()),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    return site, packages


def test_every_registered_kind_has_a_scaffold() -> None:
    assert sorted(TEST_COUNTS) == sorted(kind.command for kind in KINDS)


# the slowest tests of the suite (the dataset's about 20 s on 2 cores): each builds and
# pip-installs a generated package and runs its tests as its author would, the dataset's
# with a real training run of its default recipe, which must learn (issue 34)
@pytest.mark.parametrize("kind", [kind.command for kind in KINDS])
def test_generated_package_installs_and_passes_its_own_tests(
    installed: tuple[Path, dict[str, Path]], kind: str
) -> None:
    site, packages = installed
    package, name = packages[kind], f"my-{kind}"
    module = package.name.replace("-", "_")
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["entry-points"]["stgcn"] == {name: module}
    assert (package / "src" / module / "py.typed").is_file()
    assert package.name in (package / "README.md").read_text()
    assert not any("${" in path.read_text() for path in package.rglob("*.py"))
    assert (site / module / "__init__.py").is_file(), "installed from a wheel, not linked"

    listing = run_stgcn("plugins", env={"PYTHONPATH": str(site)})
    assert f"{package.name} 0.1.0" in listing.stdout
    label = next(k.label for k in KINDS if k.command == kind)
    assert re.search(rf"\b{label}\s+{name}\b", listing.stdout), listing.stdout
    environment = {**os.environ, "PYTHONPATH": str(site)}
    environment.pop("STGCN_PLUGINS", None)
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(package),
            str(package / "tests"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=package,
        env=environment,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert f"{TEST_COUNTS[kind]} passed" in tests.stdout, tests.stdout[-1000:]


def test_a_kind_without_templates_gets_a_generic_package(tmp_path: Path) -> None:
    from stgcn.plugins.kinds import Kind
    from stgcn.plugins.records import Logger

    kind = Kind("widgets", "widget", Logger, "stgcn_register_loggers", lambda r, n: {}, "widget")
    package = new_plugin_package(kind, "mine", tmp_path)
    assert package.name == "stgcn-widget-mine"
    source = (package / "src" / "stgcn_widget_mine" / "__init__.py").read_text()
    assert "def stgcn_register_loggers(register" in source
    assert "widget" in (package / "README.md").read_text()
    test = (package / "tests" / "test_plugin.py").read_text()
    assert "stgcn_widget_mine in [implementation.plugin" in test


def test_an_unknown_kind_is_one_line() -> None:
    result = run_stgcn("plugin", "new", "widget", "mine")
    assert result.returncode != 0
    assert "No such command 'widget'" in result.stderr


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "stgcn-data-mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = run_stgcn("plugin", "new", "dataset", "mine", "--output", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"stgcn: error: {target} already exists; choose another --output or name"
    ]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stgcn-data-mine"], "no staging left"


@pytest.mark.parametrize("name", ["Mine", "my_clips", "-mine", "mine-", "9lives", "a--b", ""])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StgcnError, match="use lower-case letters, digits and single hyphens"):
        new_dataset_package(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_generated_module_declares_the_current_api_range(tmp_path: Path) -> None:
    package = new_dataset_package("ok2", tmp_path)
    source = (package / "src" / "stgcn_data_ok2" / "__init__.py").read_text()
    assert 'STGCN_API = ">=1,<2"' in source
    assert "${" not in source
