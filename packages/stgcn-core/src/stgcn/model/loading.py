"""Building a model from a stgcn checkpoint or a bare reference state_dict.

Released reference checkpoints carry no configuration, only tensors; the layout,
strategy, class count and input channels can all be read back from the shapes and
from the adjacency buffer ``A`` they store. The layouts tried are the ``candidates``
the caller hands down (the command line hands every registered layout: this layer
cannot ask the plugin registry), else the built-in ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

from stgcn.errors import StgcnError, first_line
from stgcn.model.checkpoint import Checkpoint, strip_prefix
from stgcn.model.graph import STRATEGIES, Graph
from stgcn.model.layouts import LAYOUTS, Layout, get_layout
from stgcn.model.network import STGCN

__all__ = [
    "build_model",
    "infer_model_config",
    "load_model",
    "load_model_and_checkpoint",
    "strip_prefix",  # its home is stgcn.model.checkpoint; kept here for older imports
]


def infer_model_config(
    state_dict: Mapping[str, Any],
    layout: str | Layout | dict[str, Any] | None = None,
    strategy: str | None = None,
    num_class: int | None = None,
    candidates: Iterable[Layout] | None = None,
) -> dict[str, Any]:
    """The STGCN constructor arguments that fit a bare state_dict; without ``layout``,
    the layout is the one of ``candidates`` (default: the built-in layouts) whose graph
    gives the stored ``A``."""
    for key in ("A", "fcn.weight", "data_bn.weight"):
        if key not in state_dict:
            raise StgcnError(f"not an ST-GCN state_dict: key {key!r} is missing")
    A = state_dict["A"]
    if A.dim() != 3 or A.shape[1] != A.shape[2]:
        raise StgcnError(f"not an ST-GCN state_dict: A has shape {tuple(A.shape)}")
    num_node = int(A.shape[1])
    found_class = int(state_dict["fcn.weight"].shape[0])
    if num_class is not None and num_class != found_class:
        raise StgcnError(f"the state_dict has {found_class} classes, not the {num_class} asked for")
    config = {
        "num_class": found_class,
        "in_channels": int(state_dict["data_bn.weight"].shape[0]) // num_node,
        "edge_importance_weighting": "edge_importance.0" in state_dict,
    }
    if layout is not None:
        layouts = [get_layout(layout)]
    else:
        pool = LAYOUTS.values() if candidates is None else candidates
        layouts = [candidate for candidate in pool if candidate.num_node == num_node]
    config.update(_match_graph(A, layouts, strategy))
    return config


def _match_graph(A: torch.Tensor, layouts: list[Layout], strategy: str | None) -> dict[str, Any]:
    num_node = int(A.shape[1])
    strategies = [strategy] if strategy is not None else list(STRATEGIES)
    stored = A.detach().cpu().numpy()
    for candidate in layouts:
        if candidate.num_node != num_node:
            raise StgcnError(
                f"layout {candidate.name!r} has {candidate.num_node} joints; "
                f"the state_dict has {num_node}"
            )
        for name in strategies:
            for max_hop in (1, 2, 3):
                graph = Graph(candidate, name, max_hop=max_hop)
                if graph.A.shape == stored.shape and np.allclose(graph.A, stored, atol=1e-6):
                    return {
                        "layout": candidate.to_dict()
                        if candidate.name not in LAYOUTS
                        else candidate.name,
                        "strategy": name,
                        "max_hop": max_hop,
                    }
    raise StgcnError(
        f"cannot tell the layout and strategy of this state_dict (A {tuple(A.shape)}); "
        "give them with --layout and --strategy"
    )


def build_model(config: Mapping[str, Any]) -> STGCN:
    return STGCN(**config)


def load_model(
    path: str | os.PathLike[str],
    layout: str | Layout | dict[str, Any] | None = None,
    strategy: str | None = None,
    num_class: int | None = None,
    candidates: Iterable[Layout] | None = None,
) -> STGCN:
    """An STGCN in eval mode from a stgcn checkpoint or a bare reference state_dict (whose
    layout, unless given, is found among ``candidates``: :func:`infer_model_config`)."""
    model, _ = load_model_and_checkpoint(path, layout, strategy, num_class, candidates)
    return model


def load_model_and_checkpoint(
    path: str | os.PathLike[str],
    layout: str | Layout | dict[str, Any] | None = None,
    strategy: str | None = None,
    num_class: int | None = None,
    candidates: Iterable[Layout] | None = None,
) -> tuple[STGCN, Checkpoint | None]:
    """Like :func:`load_model`, also returning the stgcn checkpoint (None for a state_dict)."""
    checkpoint = Checkpoint.from_file(path)
    if checkpoint.model_config is not None:
        config = dict(checkpoint.model_config)
    else:
        config = infer_model_config(checkpoint.weights, layout, strategy, num_class, candidates)
    model = build_model(config)
    try:
        model.load_state_dict(checkpoint.weights, strict=True)
    except RuntimeError as error:
        raise StgcnError(f"{path} does not fit the ST-GCN network: {first_line(error)}") from None
    return model.eval(), None if checkpoint.is_bare else checkpoint
