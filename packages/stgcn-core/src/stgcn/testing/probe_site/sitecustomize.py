"""Run at the start of every Python process of a test with this folder first on
``PYTHONPATH`` (stgcn.testing.pytest_plugin puts it there when it checks the
``cpu_precision`` marks): records the process's native-bf16 asks
(:mod:`stgcn.testing.precision_probe`, loaded by its path so that the process imports
neither stgcn nor torch before it would anyway)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_stgcn_precision_probe", Path(__file__).resolve().parent.parent / "precision_probe.py"
)
if _spec is not None and _spec.loader is not None:
    _probe = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_probe)
    _probe.install()
