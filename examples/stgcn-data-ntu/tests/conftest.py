"""Fixtures shared by the stgcn-data-ntu tests: small generated .skeleton folders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from stgcn_data_ntu.sample_files import make_raw_folder


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """12 files: performers 1 (trains under xsub) and 3 (validates), cameras 1 and 2."""
    return make_raw_folder(tmp_path / "raw", frames=10, seed=1)
