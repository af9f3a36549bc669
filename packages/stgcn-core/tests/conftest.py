"""Fixtures shared by the stgcn-core tests: stgcn.testing's pytest plugin."""

from __future__ import annotations

import sys
from pathlib import Path

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["stgcn.testing.pytest_plugin"]
