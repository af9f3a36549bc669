"""Fixtures shared by the stgcn-core tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from stgcn.plugins import registry as plugins


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for distributions made by the test; plugins reloaded after."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    plugins.reset()
    yield folder
    plugins.reset()
    for name in list(sys.modules):
        if name.startswith("fake_"):
            del sys.modules[name]
