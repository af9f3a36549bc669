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
    from stgcn.model.network import STGCN
    from stgcn.networks.loading import load_model

__version__ = "0.1.0"
__all__ = ["STGCN", "Graph", "Layout", "__version__", "load_model"]

#: the public names, each resolved from its home on first use
_HOMES = {
    "STGCN": "stgcn.model.network",
    "Graph": "stgcn.model.graph",
    "Layout": "stgcn.model.layouts",
    "load_model": "stgcn.networks.loading",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'stgcn' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
