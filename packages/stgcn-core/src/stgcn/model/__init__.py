"""The model layer: the graph, the model contract, the ST-GCN network, its spectral
temporal path, and the checkpoint file.

It imports nothing of stgcn but ``errors``. Names are resolved on first use (PEP 562),
so that the command line can read :data:`INIT_SCHEMES` without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: How fresh weights are drawn: the reference trainer's N(0, 0.02), or PyTorch's fan-in.
INIT_SCHEMES = ("reference", "pytorch")

_HOMES = {
    "STGCN": "stgcn.model.network",
    "TEMPORAL_ALGORITHMS": "stgcn.model.network",
    "set_temporal_algorithm": "stgcn.model.network",
    "Graph": "stgcn.model.graph",
    "Layout": "stgcn.model.layouts",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'stgcn.model' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
