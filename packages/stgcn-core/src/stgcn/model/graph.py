"""Skeleton layouts and the partitioned adjacency that ST-GCN convolves over.

The adjacency for the built-in layouts must equal the reference implementation's
value for value: released checkpoints store ``A`` as a buffer, and a checkpoint
only reproduces its logits when the buffer we build matches the one it was trained
with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from stgcn.model.layouts import Layout, get_layout

STRATEGIES = ("uniform", "distance", "spatial")


def hop_distance(num_node: int, edges: Iterable[tuple[int, int]], max_hop: int) -> np.ndarray:
    """Shortest path length between joints, ``inf`` beyond ``max_hop``."""
    adjacency = np.eye(num_node)
    for i, j in edges:
        adjacency[i, j] = 1
        adjacency[j, i] = 1
    distance = np.full((num_node, num_node), np.inf)
    reach = np.eye(num_node)
    for hop in range(max_hop + 1):
        reached = reach > 0
        distance[reached & np.isinf(distance)] = hop
        reach = reach @ adjacency
    return distance


def normalize_columns(adjacency: np.ndarray) -> np.ndarray:
    """``A · D⁻¹`` with ``D`` the column sums; empty columns stay zero."""
    degree = adjacency.sum(axis=0)
    inverse = np.zeros_like(degree)
    np.divide(1.0, degree, out=inverse, where=degree > 0)
    return adjacency * inverse[None, :]


class Graph:
    """The partitioned, normalised adjacency ``A`` of shape ``(K, V, V)``.

    ``A[k, v, w]`` weighs what joint ``v`` sends to joint ``w`` in partition ``k``.
    """

    def __init__(
        self,
        layout: str | Layout | dict[str, Any] = "openpose",
        strategy: str = "spatial",
        max_hop: int = 1,
        dilation: int = 1,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(
                f"unknown strategy {strategy!r}; known strategies: {', '.join(STRATEGIES)}"
            )
        if max_hop < 0 or dilation < 1:
            raise ValueError("max_hop must be >= 0 and dilation >= 1")
        self.layout = get_layout(layout)
        self.strategy = strategy
        self.max_hop = max_hop
        self.dilation = dilation
        self.hop_dis = hop_distance(self.layout.num_node, self.layout.edges, max_hop)
        self.A = self._partition().astype(np.float32)

    @property
    def num_node(self) -> int:
        return self.layout.num_node

    def _partition(self) -> np.ndarray:
        hop_dis = self.hop_dis
        valid_hops = range(0, self.max_hop + 1, self.dilation)
        within = np.zeros_like(hop_dis)
        for hop in valid_hops:
            within[hop_dis == hop] = 1
        normalized = normalize_columns(within)

        if self.strategy == "uniform":
            return normalized[None]
        if self.strategy == "distance":
            return np.stack([np.where(hop_dis == hop, normalized, 0.0) for hop in valid_hops])

        # spatial: split each hop ring by distance to the centre, source j versus target i.
        to_center = hop_dis[:, self.layout.center]
        source = to_center[:, None]  # joint j, rows
        target = to_center[None, :]  # joint i, columns
        parts = []
        for hop in valid_hops:
            ring = np.where(hop_dis == hop, normalized, 0.0)
            root = np.where(source == target, ring, 0.0)
            close = np.where(source > target, ring, 0.0)
            further = np.where(source < target, ring, 0.0)
            if hop == 0:
                parts.append(root)
            else:
                parts.append(root + close)
                parts.append(further)
        return np.stack(parts)
