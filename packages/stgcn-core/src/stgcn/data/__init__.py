"""The data layer: the built-in synthetic dataset, what a dataset says about itself
(:mod:`.facts`), clip sampling, collation, restricted pickle loading, the recipes, and
the input streams (joints, bones, motion: :mod:`.streams`).

It imports the plugin layer (records, settings) and the model layer (layouts), never the
training loop above it.

The helpers a dataset plugin uses are public here (docs/plugins.md, "Helpers"):
:func:`check_data_path`, :class:`WorkerHandle`, :func:`fit_clip` and the frame
samplers it is made of. They load on first use, so that ``import stgcn.data`` stays
free of numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stgcn.data.files import PathKind, WorkerHandle, check_data_path
    from stgcn.data.sampling import (
        fit_clip,
        take_frames,
        uniform_indices,
        used_frames,
        window_indices,
    )

_PUBLIC = {
    "PathKind": "stgcn.data.files",
    "WorkerHandle": "stgcn.data.files",
    "check_data_path": "stgcn.data.files",
    "fit_clip": "stgcn.data.sampling",
    "take_frames": "stgcn.data.sampling",
    "uniform_indices": "stgcn.data.sampling",
    "used_frames": "stgcn.data.sampling",
    "window_indices": "stgcn.data.sampling",
}

__all__ = [
    "PathKind",
    "WorkerHandle",
    "check_data_path",
    "fit_clip",
    "take_frames",
    "uniform_indices",
    "used_frames",
    "window_indices",
]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'stgcn.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
