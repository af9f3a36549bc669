"""Fixtures shared by the stgcn-data-kinetics tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from stgcn_data_kinetics.sample_trees import make_converted_tree, make_release_tree

# the shared plugin keeps hypothesis's storage out of the tree (test_properties_*.py)
pytest_plugins = ["stgcn.testing.pytest_plugin"]


@pytest.fixture
def converted(tmp_path: Path) -> Path:
    """A small converted tree: 6 training and 3 validation clips of 12 frames."""
    return make_converted_tree(tmp_path / "converted", train=6, val=3, frames=12, seed=1)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A small release tree: 6 + 3 clips with skeletons and one without in each split."""
    return make_release_tree(tmp_path / "release", train=6, val=3, frames=12, seed=2)
