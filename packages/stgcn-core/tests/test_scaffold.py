"""``stgcn plugin new dataset``: the generated package installs and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from stgcn.commands.plugin_new import new_dataset_package
from stgcn.errors import StgcnError
from stgcn.testing.helpers import run_stgcn

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def test_generated_package_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    made = run_stgcn("plugin", "new", "dataset", "tiny-clips", "--output", str(tmp_path / "work"))
    assert made.returncode == 0, made.stderr
    package = tmp_path / "work" / "stgcn-data-tiny-clips"
    assert made.stdout.splitlines()[0] == f"wrote {package}"
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["entry-points"]["stgcn"] == {"tiny-clips": "stgcn_data_tiny_clips"}
    assert (package / "src" / "stgcn_data_tiny_clips" / "py.typed").is_file()
    assert "stgcn-data-tiny-clips" in (package / "README.md").read_text()

    # installed as a user would (a real wheel build by hatchling), into a folder on the path
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    assert not (site / "stgcn_data_tiny_clips" / "sample_data.py").is_symlink()
    environment = {**os.environ, "PYTHONPATH": str(site)}
    environment.pop("STGCN_PLUGINS", None)
    listing = run_stgcn("plugins", env={"PYTHONPATH": str(site)})
    assert "stgcn-data-tiny-clips 0.1.0" in listing.stdout
    assert "dataset  tiny-clips" in listing.stdout
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=environment,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "9 passed" in tests.stdout, tests.stdout[-1000:]


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
