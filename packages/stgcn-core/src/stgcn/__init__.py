"""ST-GCN skeleton action recognition for PyTorch.

The public names are imported on first use (PEP 562), so that ``import stgcn``
and the ``stgcn`` command do not import torch before they have set what torch
needs to start (``TORCH_DEVICE_BACKEND_AUTOLOAD``, see the README).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stgcn.model.graph import Graph
    from stgcn.model.layouts import Layout
    from stgcn.model.loading import load_model
    from stgcn.model.network import STGCN

__version__ = "0.1.0"
__all__ = ["STGCN", "Graph", "Layout", "__version__", "load_model"]

#: the public names, resolved from the model layer (itself lazy) on first use
_MODEL_NAMES = ("STGCN", "Graph", "Layout", "load_model")


def __getattr__(name: str) -> Any:
    if name not in _MODEL_NAMES:
        raise AttributeError(f"module 'stgcn' has no attribute {name!r}")
    value = getattr(importlib.import_module("stgcn.model"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
