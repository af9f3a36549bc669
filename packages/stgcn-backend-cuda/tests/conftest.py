"""Shared set-up for the stgcn-backend-cuda tests."""

from __future__ import annotations

import sys
from pathlib import Path

# Test modules import their helpers from here (pytest runs in importlib mode).
sys.path.insert(0, str(Path(__file__).parent))
