"""Fixtures every package's tests share, as a pytest plugin.

A package's ``tests/conftest.py`` loads it with::

    pytest_plugins = ["stgcn.testing.pytest_plugin"]

It is a module of its own, not part of ``stgcn.testing``'s import, because the
contract kit is used without pytest; and it is loaded by the conftests that ask for
it, not through a ``pytest11`` entry point, which would load it into every pytest
run of every environment stgcn-core is installed in.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stgcn.plugins import registry as plugins
from stgcn.testing.helpers import TINY_RUN, run_stgcn

#: hypothesis's storage for this session, removed at its end (None: not ours to remove)
_hypothesis_home: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps a cache of constants (and, where a test keeps one, its example
    database) under ``.hypothesis/`` in the current folder: pointed at a temporary folder
    here, so that the property tests write nothing into the source tree. Not done where
    hypothesis is not installed, or where ``HYPOTHESIS_STORAGE_DIRECTORY`` chooses a place."""
    global _hypothesis_home
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or _hypothesis_home is not None:
        return
    if importlib.util.find_spec("hypothesis") is None:
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    _hypothesis_home = Path(tempfile.mkdtemp(prefix="stgcn-hypothesis-"))
    set_hypothesis_home_dir(_hypothesis_home)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _hypothesis_home
    if _hypothesis_home is not None:
        shutil.rmtree(_hypothesis_home, ignore_errors=True)
        _hypothesis_home = None


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for distributions made by the test
    (:func:`stgcn.testing.helpers.make_distribution`); plugins reloaded after, and
    the test's ``fake_*`` modules forgotten."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.reset()
    yield folder
    plugins.reset()
    for name in list(sys.modules):
        if name.startswith("fake_"):
            del sys.modules[name]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint trained by the real ``stgcn run`` (``TINY_RUN``) on the synthetic
    dataset, once per session."""
    work = tmp_path_factory.mktemp("run")
    result = run_stgcn("run", *TINY_RUN, "--work-dir", str(work))
    assert result.returncode == 0, result.stderr
    return work / "checkpoints" / "best.pth.tar"
