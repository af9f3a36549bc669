"""Released weights by name: where ``--weights NAME`` and ``--checkpoint NAME`` become a
file.

Every command that takes a weights file passes what the user typed through
:func:`weights_file`, the one place a name is looked up: a path that exists stays that
path; the name of a registered :class:`~stgcn.plugins.records.Weights` record is its file
in torch's hub cache (``torch.hub.get_dir()/checkpoints``, so ``TORCH_HOME`` moves it),
downloaded the first time (:mod:`stgcn.system.download`); anything else is returned as
typed, for the command's own "not found" line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stgcn.plugins.kinds import WEIGHTS
from stgcn.plugins.records import Weights
from stgcn.plugins.registry import get_registry
from stgcn.system.download import Expected, fetch


def cache_folder() -> Path:
    """Where released weights are kept: torch's hub cache, shared with torch.hub."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_path(weights: Weights) -> Path:
    """Where the file of ``weights`` is, or will be once downloaded."""
    return cache_folder() / weights.cache_name


def fetch_released(weights: Weights) -> Path:
    """The file of ``weights``: the cached one, else downloaded now (once)."""
    path = cached_path(weights)
    if path.is_file():
        return path
    print(f"stgcn: downloading {weights.name} from {weights.url} to {path}", file=sys.stderr)
    return fetch(weights.url, path, Expected(weights.size, weights.sha256))


def weights_file(value: str) -> str:
    """The file that ``value`` (a path or a released weights' name) names."""
    if Path(value).exists():
        return value
    weights = get_registry().table(WEIGHTS).get(value)
    if weights is None:
        return value
    return str(fetch_released(weights))
