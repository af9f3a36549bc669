"""Skeleton layouts and the partitioned adjacency that ST-GCN convolves over.

The adjacency for the built-in layouts must equal the reference implementation's
value for value: released checkpoints store ``A`` as a buffer, and a checkpoint
only reproduces its logits when the buffer we build matches the one it was trained
with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STRATEGIES = ("uniform", "distance", "spatial")


@dataclass(frozen=True)
class Layout:
    """A skeleton: how many joints, which pairs are bones, and the joint taken as centre.

    Edges are 0-based joint pairs; self-links are added when the adjacency is built.
    Dataset plugins with their own skeleton hand one of these to the model.
    """

    name: str
    num_node: int
    edges: tuple[tuple[int, int], ...]
    center: int

    def __post_init__(self) -> None:
        if self.num_node < 1:
            raise ValueError(f"layout {self.name!r}: num_node must be positive")
        if not 0 <= self.center < self.num_node:
            raise ValueError(
                f"layout {self.name!r}: center {self.center} is not a joint index "
                f"in [0, {self.num_node})"
            )
        for i, j in self.edges:
            if not (0 <= i < self.num_node and 0 <= j < self.num_node):
                raise ValueError(
                    f"layout {self.name!r}: edge ({i}, {j}) names a joint outside "
                    f"[0, {self.num_node})"
                )

    @classmethod
    def custom(
        cls,
        num_node: int,
        edges: Iterable[Sequence[int]],
        center: int,
        name: str = "custom",
    ) -> Layout:
        pairs = []
        for edge in edges:
            try:
                i, j = edge
            except (TypeError, ValueError):
                raise ValueError(
                    f"layout {name!r}: edge {edge!r} is not a pair of joint indices"
                ) from None
            pairs.append((int(i), int(j)))
        return cls(name, int(num_node), tuple(pairs), int(center))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "num_node": self.num_node,
            "edges": [list(e) for e in self.edges],
            "center": self.center,
        }


def _one_based(pairs: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((i - 1, j - 1) for i, j in pairs)


# fmt: off
LAYOUTS: dict[str, Layout] = {
    "openpose": Layout(
        "openpose",
        18,
        (
            (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8),
            (11, 5), (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15),
            (16, 14),
        ),
        1,
    ),
    "ntu-rgb+d": Layout(
        "ntu-rgb+d",
        25,
        _one_based(
            (
                (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
                (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
                (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23), (23, 8),
                (24, 25), (25, 12),
            )
        ),
        21 - 1,
    ),
    "ntu_edge": Layout(
        "ntu_edge",
        24,
        _one_based(
            (
                (1, 2), (3, 2), (4, 3), (5, 2), (6, 5), (7, 6), (8, 7), (9, 2),
                (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15),
                (17, 1), (18, 17), (19, 18), (20, 19), (21, 22), (22, 8), (23, 24),
                (24, 12),
            )
        ),
        2,
    ),
    # COCO keypoint order: nose, eyes (l, r), ears (l, r), shoulders, elbows, wrists,
    # hips, knees, ankles (each left then right). Centre: the nose, as in later
    # skeleton toolboxes.
    "coco": Layout(
        "coco",
        17,
        _one_based(
            (
                (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13),
                (6, 7), (8, 6), (9, 7), (10, 8), (11, 9), (2, 3), (2, 1), (3, 1),
                (4, 2), (5, 3), (4, 6), (5, 7),
            )
        ),
        0,
    ),
}
# fmt: on


def get_layout(layout: str | Layout | dict[str, Any]) -> Layout:
    """Resolve a layout name, a Layout, or a ``{num_node, edges, center}`` mapping."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, dict):
        missing = [key for key in ("num_node", "edges", "center") if key not in layout]
        if missing:
            raise ValueError(f"layout mapping lacks {', '.join(missing)}")
        return Layout.custom(
            layout["num_node"], layout["edges"], layout["center"], layout.get("name", "custom")
        )
    try:
        return LAYOUTS[layout]
    except (KeyError, TypeError):
        known = ", ".join(sorted(LAYOUTS))
        raise ValueError(f"unknown layout {layout!r}; known layouts: {known}") from None


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
