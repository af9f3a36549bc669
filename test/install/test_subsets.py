"""Any subset of the packages installs from its folders with the one pip line README.md
documents, into a fresh environment, and ``stgcn plugins`` then lists what was installed.

A package that names a sibling it does not need breaks this for every user who leaves
the sibling out (``No matching distribution found for stgcn-data-kinetics>=0.1``), and
the test sessions, which install every package on one line, never see it.

Run by ``nox -s tests-install``, whose environment holds every package's third-party
dependencies (torch among them) and none of the packages. Each subset goes into a new
virtual environment that sees that one's libraries through a ``.pth`` file, so that
torch is not installed again per subset, and pip installs offline (``--no-index``): the
stgcn packages can only come from the folders named on the line, as for a user with no
index that holds them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: README's line, e.g. ``pip install torch==2.13.0 ./packages/stgcn-core ./packages/...``
INSTALL_LINE = re.compile(r"`(pip install torch==[\w.+]+(?: \./packages/[\w-]+)+)`")

#: besides README's own example: the core alone, and subsets that leave siblings out
SUBSETS = [
    ["stgcn-core"],
    ["stgcn-core", "stgcn-data-kinetics", "stgcn-backend-cuda"],
    ["stgcn-core", "stgcn-data-pyskl", "stgcn-backend-npu", "stgcn-models"],
]


def documented_line() -> list[str]:
    """README's pip line for installing without nox, as words."""
    found = INSTALL_LINE.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md gives no `pip install torch==... ./packages/...` line"
    return found[0].split()


def line_for(packages: list[str]) -> list[str]:
    """README's line with ``packages`` in place of its example's."""
    head = [word for word in documented_line() if not word.startswith("./packages/")]
    return [*head, *(f"./packages/{name}" for name in packages)]


def fresh_environment(folder: Path) -> Path:
    """A new virtual environment over this one's libraries; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def user_environment() -> dict[str, str]:
    """No source folders on the path and no forced plugins: what a user's shell has."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STGCN_PLUGINS")}


def test_this_environment_holds_no_stgcn_package() -> None:
    """Else a subset could resolve a left-out sibling from here, and list its plugins."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not [line for line in listed.splitlines() if line.startswith("stgcn")], listed
    assert "torch==" in listed


@pytest.mark.parametrize(
    "packages", [None, *SUBSETS], ids=["readme", *("+".join(s[1:]) or "core" for s in SUBSETS)]
)
def test_a_subset_installs_and_lists_its_plugins(
    tmp_path: Path, packages: list[str] | None
) -> None:
    line = documented_line() if packages is None else line_for(packages)
    wanted = {word.removeprefix("./packages/") for word in line if word.startswith("./packages/")}
    python = fresh_environment(tmp_path / "env")
    assert line[:2] == ["pip", "install"], line
    pip = [str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation", "--quiet"]
    installed = subprocess.run(
        [*pip, *line[2:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=user_environment(),
        timeout=600,
    )
    assert installed.returncode == 0, f"{' '.join(line)}:\n{installed.stdout}{installed.stderr}"

    stgcn = python.parent / "stgcn"
    listing = subprocess.run(
        [str(stgcn), "plugins", "--json"],
        capture_output=True,
        text=True,
        env=user_environment(),
        timeout=300,
    )
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert {row["name"] for row in rows} == wanted, listing.stdout
    assert not [row["errors"] for row in rows if row["errors"]], listing.stdout
