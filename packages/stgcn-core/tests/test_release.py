"""What a release needs of every package (issue 47): one version for all of them, each
sibling dependency a range that the plugin API allows, the licence in every package, and
Python classifiers that say what ``requires-python`` admits and the smoke sessions test.
And ``stgcn --version``, which shows the versions that met on a user's machine.

The package versions and the plugin API version are separate numbers: the packages move
together (CHANGELOG.md), the plugin API (``stgcn.plugins.loading.API_VERSION``) moves by
what a plugin may rely on (docs/plugins.md)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from stgcn.plugins.loading import API_VERSION
from stgcn.testing.helpers import make_distribution, run_stgcn

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the core depends on tomli there
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[3]
PROJECTS = sorted(
    [*REPO.glob("packages/*/pyproject.toml"), *REPO.glob("examples/*/pyproject.toml")]
)
#: the Python versions a classifier may name (the ones pyenv and CI have)
KNOWN_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


def project(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]


def sibling_requirements(path: Path) -> list[Requirement]:
    """The requirements of a package on the repository's own packages (dependencies and
    extras alike)."""
    table = project(path)
    names = {project(p)["name"] for p in PROJECTS}
    extras = [r for group in table.get("optional-dependencies", {}).values() for r in group]
    requirements = [Requirement(r) for r in [*table.get("dependencies", []), *extras]]
    return [r for r in requirements if r.name in names]


def test_every_package_is_found() -> None:
    names = {project(p)["name"] for p in PROJECTS}
    assert {"stgcn-core", "stgcn-export", "stgcn-serve", "stgcn-data-ntu"} <= names


def test_every_package_carries_one_version_and_its_module_says_the_same() -> None:
    versions = {project(p)["name"]: project(p)["version"] for p in PROJECTS}
    assert len(set(versions.values())) == 1, f"the packages move together: {versions}"
    (version,) = set(versions.values())
    Version(version)  # a valid PEP 440 version
    for path in PROJECTS:
        for init in (path.parent / "src").glob("*/__init__.py"):
            declared = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.MULTILINE)
            if declared:
                assert declared.group(1) == version, f"{init}: __version__ {declared.group(1)}"


def test_siblings_are_required_within_the_release_series() -> None:
    """Each package on stgcn-core (and a sibling) takes any release of the same series:
    from this version up to, not including, the next series, which is where a new major
    plugin API would come (CHANGELOG.md says so). The range admits this release, and no
    release of the next series."""
    version = Version(project(PROJECTS[0])["version"])
    series_end = (
        f"{version.major}.{version.minor + 1}" if version.major == 0 else f"{version.major + 1}"
    )
    expected = SpecifierSet(f">={version.major}.{version.minor}.0,<{series_end}")
    found = 0
    for path in PROJECTS:
        for requirement in sibling_requirements(path):
            found += 1
            assert requirement.specifier == expected, (
                f"{path.parent.name} requires {requirement}; expected {expected}"
            )
            assert requirement.specifier.contains(version)
            assert not requirement.specifier.contains(Version(series_end))
    core = [p for p in PROJECTS if project(p)["name"] != "stgcn-core"]
    for path in core:
        names = {r.name for r in sibling_requirements(path)}
        assert "stgcn-core" in names, f"{path.parent.name} does not depend on stgcn-core"
    assert found >= len(core)


def test_the_plugin_api_version_is_its_own_number() -> None:
    assert Version(API_VERSION).major >= 2
    plugins_page = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert "Migrating from 1.x" in plugins_page
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    version = project(PROJECTS[0])["version"]
    assert f"## [{version}]" in changelog, "CHANGELOG.md has no entry for this version"
    assert f"plugin API {API_VERSION}" in changelog


def test_every_package_ships_the_licence() -> None:
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    for path in PROJECTS:
        table = project(path)
        assert table["license"] == "Apache-2.0"
        assert table.get("license-files") == ["LICENSE"], path
        copy = path.parent / "LICENSE"
        assert copy.is_file() and copy.read_text(encoding="utf-8") == licence, copy


def claimed_pythons(path: Path) -> set[str]:
    prefix = "Programming Language :: Python :: "
    return {
        c.removeprefix(prefix) for c in project(path).get("classifiers", []) if c.startswith(prefix)
    } & set(KNOWN_PYTHONS)


def smoke_pythons() -> list[str]:
    """The Python versions noxfile.py's smoke sessions install and test the packages on."""
    tree = ast.parse((REPO / "noxfile.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "SMOKE_PYTHONS":
            return list(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py has no SMOKE_PYTHONS")


def test_the_python_classifiers_say_what_requires_python_admits_and_is_tested() -> None:
    tested = set(smoke_pythons())
    for path in PROJECTS:
        table = project(path)
        admitted = SpecifierSet(table["requires-python"])
        claimed = claimed_pythons(path)
        expected = {v for v in KNOWN_PYTHONS if admitted.contains(f"{v}.0")}
        assert claimed, f"{path}: no Python version classifiers"
        # it claims every tested version pip may install it on, and no other; its lowest
        # admitted version is tested (requires-python has no upper bound unless a
        # dependency has one: a newer Python is admitted, and claimed once tested)
        assert claimed == expected & tested, f"{path}: claims {claimed}, admits {expected}"
        lowest = min(expected, key=Version)
        assert lowest in tested, f"{path}: admits {lowest}, which no session tests"


def test_the_contract_kits_package_says_it_is_a_pytest_framework() -> None:
    core = project(REPO / "packages" / "stgcn-core" / "pyproject.toml")
    assert "Framework :: Pytest" in core["classifiers"]
    assert "Topic :: Scientific/Engineering :: Artificial Intelligence" in core["classifiers"]


def test_version_lists_the_installed_distributions_and_the_plugin_api(site) -> None:
    """A third party's plugin (its own name and version) is listed beside the core."""
    make_distribution(site, "posefinder", "3.4.5", "posefinder_plugin", "STGCN_API = '>=2,<3'\n")
    result = run_stgcn("--version", site=site)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    from stgcn import __version__

    assert lines[0] == f"stgcn {__version__}, plugin API {API_VERSION}"
    listed = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert listed["stgcn-core"] == __version__
    assert listed["posefinder"] == "3.4.5"
    assert "torch" not in listed


def test_the_project_pages_links_resolve() -> None:
    """CHANGELOG.md, CONTRIBUTING.md and SECURITY.md, as README.md's links are
    (test_readme_links.py): each relative link leads to a file of the repository."""
    for page in ("CHANGELOG.md", "CONTRIBUTING.md", "SECURITY.md"):
        text = (REPO / page).read_text(encoding="utf-8")
        targets = re.findall(r"\]\(([^)\s]+)\)", text)
        missing = [
            target
            for target in targets
            if "://" not in target
            and not target.startswith("#")
            and not (REPO / target.split("#", 1)[0]).exists()
        ]
        assert not missing, f"{page} links to what is not there: {missing}"
