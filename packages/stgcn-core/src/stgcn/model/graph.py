"""Skeleton layouts and the partitioned adjacency that ST-GCN convolves over, and the
graphs other models convolve over (:func:`pyskl_spatial`, :func:`adjacency`).

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


def hops_to(layout: Layout, joint: int) -> list[float]:
    """Each joint's distance in bones to ``joint`` (``inf`` where no bones lead there), by
    breadth-first search: unbounded, unlike :func:`hop_distance`'s ``max_hop``."""
    neighbours: list[set[int]] = [set() for _ in range(layout.num_node)]
    for i, j in layout.edges:
        neighbours[i].add(j)
        neighbours[j].add(i)
    hops = [float("inf")] * layout.num_node
    hops[joint] = 0.0
    frontier = [joint]
    while frontier:
        reached = []
        for node in frontier:
            for other in neighbours[node]:
                if hops[other] == float("inf"):
                    hops[other] = hops[node] + 1
                    reached.append(other)
        frontier = reached
    return hops


def inward_edges(layout: Layout) -> list[tuple[int, int]]:
    """The layout's bones as ``(child, parent)`` pairs, the parent the end nearer the
    centre; a bone between two joints equally far from it (a torso's cross-bar) keeps the
    order the layout lists it in. Self-links are left out (the identity adds them).

    A layout lists its bones in either direction (the reference's edges point inward,
    MediaPipe's outward), so the direction is taken from the centre, as PYSKL's layouts,
    written inward by hand, have it."""
    hops = hops_to(layout, layout.center)
    inward = []
    for i, j in layout.edges:
        if i == j:
            continue
        inward.append((j, i) if hops[j] > hops[i] else (i, j))
    return inward


def pyskl_spatial(layout: str | Layout | dict[str, Any]) -> np.ndarray:
    """PYSKL's ``spatial`` mode, shape ``(3, V, V)``: the identity, the inward bones and
    the outward bones, each bone matrix column-normalised (``A · D⁻¹``).

    Not ST-GCN's ``spatial`` strategy (:class:`Graph`), which splits the hop rings by
    distance to the centre and normalises them together; this is the partition PYSKL's
    ST-GCN++ configurations name (``mode='spatial'``), for models that expect it.
    ``A[k, v, w]`` weighs what joint ``v`` sends to joint ``w``, as in :class:`Graph`: for
    an inward bone ``(child, parent)``, the inward matrix carries ``[parent, child]`` and
    the outward matrix ``[child, parent]``."""
    resolved = get_layout(layout)
    size = resolved.num_node
    inward = np.zeros((size, size))
    outward = np.zeros((size, size))
    for child, parent in inward_edges(resolved):
        inward[parent, child] = 1
        outward[child, parent] = 1
    parts = (np.eye(size), normalize_columns(inward), normalize_columns(outward))
    return np.stack(parts).astype(np.float32)


def adjacency(layout: str | Layout | dict[str, Any]) -> np.ndarray:
    """The plain adjacency with self-links, symmetrically normalised, shape ``(V, V)``:
    ``D^-1/2 (A + I) D^-1/2`` with ``D`` the degrees of ``A + I`` (Kipf and Welling's
    GCN), for a model that convolves over one matrix and has no use for a partition or a
    direction."""
    resolved = get_layout(layout)
    linked = np.eye(resolved.num_node)
    for i, j in resolved.edges:
        linked[i, j] = linked[j, i] = 1
    scale = 1.0 / np.sqrt(linked.sum(axis=0))
    return (linked * scale[:, None] * scale[None, :]).astype(np.float32)
