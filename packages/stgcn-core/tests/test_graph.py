"""Tests for the skeleton layouts and the partitioned adjacency.

Released checkpoints carry ``A`` as a buffer and were trained with the reference's
adjacency, so these tests pin the values: small layouts worked out by hand, hand-computed
entries of the openpose spatial matrix, and a literal, entry-by-entry reading of the
definition (REFERENCE.md §2) that the vectorised ``Graph`` must agree with exactly.
"""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest

from stgcn.model.graph import (
    STRATEGIES,
    Graph,
    adjacency,
    hop_distance,
    inward_edges,
    pyskl_spatial,
)
from stgcn.model.layouts import LAYOUTS, Layout, get_layout

INF = np.inf


def matrix(num_node: int, entries: dict[tuple[int, int], float]) -> np.ndarray:
    """A ``V x V`` matrix that is zero except at the given ``(row, column)`` entries."""
    out = np.zeros((num_node, num_node))
    for (row, column), value in entries.items():
        out[row, column] = value
    return out


def assert_adjacency(actual: np.ndarray, expected: list[np.ndarray]) -> None:
    expected_stack = np.stack(expected)
    assert actual.shape == expected_stack.shape
    np.testing.assert_allclose(actual, expected_stack, rtol=0, atol=1e-7)


# Small layouts. Edges are listed in arbitrary direction to check direction does not matter.
CHAIN3 = Layout.custom(3, [(0, 1), (2, 1)], center=0, name="chain3")
CHAIN4 = Layout.custom(4, [(1, 0), (1, 2), (3, 2)], center=0, name="chain4")
STAR = Layout.custom(4, [(0, 1), (2, 0), (0, 3)], center=0, name="star")


# --------------------------------------------------------------------------- hand-worked cases
# 3-chain 0-1-2. With self-links the 0/1 matrix is [[1,1,0],[1,1,1],[0,1,1]]; its column
# sums are (2, 3, 2), so column w is divided by 2, 3, 2.


def test_chain3_uniform() -> None:
    expected = matrix(
        3,
        {
            (0, 0): 1 / 2,
            (0, 1): 1 / 3,
            (1, 0): 1 / 2,
            (1, 1): 1 / 3,
            (1, 2): 1 / 2,
            (2, 1): 1 / 3,
            (2, 2): 1 / 2,
        },
    )
    assert_adjacency(Graph(CHAIN3, "uniform").A, [expected])


def test_chain3_distance() -> None:
    hop0 = matrix(3, {(0, 0): 1 / 2, (1, 1): 1 / 3, (2, 2): 1 / 2})
    hop1 = matrix(3, {(0, 1): 1 / 3, (1, 0): 1 / 2, (1, 2): 1 / 2, (2, 1): 1 / 3})
    assert_adjacency(Graph(CHAIN3, "distance").A, [hop0, hop1])


def test_chain3_spatial_center_at_end() -> None:
    # distances to the centre 0: (0, 1, 2). Entry (j, i) is "close" when j is farther
    # from the centre than i, "further" when j is nearer.
    root = matrix(3, {(0, 0): 1 / 2, (1, 1): 1 / 3, (2, 2): 1 / 2})
    close = matrix(3, {(1, 0): 1 / 2, (2, 1): 1 / 3})
    further = matrix(3, {(0, 1): 1 / 3, (1, 2): 1 / 2})
    assert_adjacency(Graph(CHAIN3, "spatial").A, [root, close, further])


def test_chain3_spatial_center_in_middle() -> None:
    layout = Layout.custom(3, [(0, 1), (1, 2)], center=1)
    # distances to the centre 1: (1, 0, 1): both ends send to the middle as "close".
    root = matrix(3, {(0, 0): 1 / 2, (1, 1): 1 / 3, (2, 2): 1 / 2})
    close = matrix(3, {(0, 1): 1 / 3, (2, 1): 1 / 3})
    further = matrix(3, {(1, 0): 1 / 2, (1, 2): 1 / 2})
    assert_adjacency(Graph(layout, "spatial").A, [root, close, further])


# Star: centre 0 joined to leaves 1, 2, 3. Column sums (4, 2, 2, 2).


def test_star_uniform() -> None:
    entries = {(v, 0): 1 / 4 for v in range(4)}
    entries.update({(0, leaf): 1 / 2 for leaf in (1, 2, 3)})
    entries.update({(leaf, leaf): 1 / 2 for leaf in (1, 2, 3)})
    assert_adjacency(Graph(STAR, "uniform").A, [matrix(4, entries)])


def test_star_spatial_center_at_hub() -> None:
    root = matrix(4, {(0, 0): 1 / 4, (1, 1): 1 / 2, (2, 2): 1 / 2, (3, 3): 1 / 2})
    close = matrix(4, {(leaf, 0): 1 / 4 for leaf in (1, 2, 3)})
    further = matrix(4, {(0, leaf): 1 / 2 for leaf in (1, 2, 3)})
    assert_adjacency(Graph(STAR, "spatial").A, [root, close, further])


def test_star_spatial_center_at_leaf() -> None:
    layout = Layout.custom(4, STAR.edges, center=1)
    # distances to the centre 1 with max_hop 1: (1, 0, inf, inf). Leaves 2 and 3 are not
    # joined, so no bone has both ends equally far from the centre.
    root = matrix(4, {(0, 0): 1 / 4, (1, 1): 1 / 2, (2, 2): 1 / 2, (3, 3): 1 / 2})
    close = matrix(4, {(0, 1): 1 / 2, (2, 0): 1 / 4, (3, 0): 1 / 4})
    further = matrix(4, {(1, 0): 1 / 4, (0, 2): 1 / 2, (0, 3): 1 / 2})
    assert_adjacency(Graph(layout, "spatial").A, [root, close, further])


def test_chain4_spatial_joints_beyond_max_hop_count_as_root() -> None:
    # Centre 0, max_hop 1: distances to the centre are (0, 1, inf, inf). Joints 2 and 3 are
    # both "infinitely" far, inf == inf, so the bone 2-3 lands in the root partition of
    # hop 1, while 1-2 splits into close (2 -> 1) and further (1 -> 2).
    # Column sums (2, 3, 3, 2).
    hop0 = matrix(4, {(0, 0): 1 / 2, (1, 1): 1 / 3, (2, 2): 1 / 3, (3, 3): 1 / 2})
    root_and_close = matrix(4, {(1, 0): 1 / 2, (2, 1): 1 / 3, (2, 3): 1 / 2, (3, 2): 1 / 3})
    further = matrix(4, {(0, 1): 1 / 3, (1, 2): 1 / 3})
    assert_adjacency(Graph(CHAIN4, "spatial").A, [hop0, root_and_close, further])


def test_chain4_max_hop_2() -> None:
    # All pairs at most 2 apart are linked; 0 and 3 (3 apart) are not. Column sums (3,4,4,3).
    graph = Graph(CHAIN4, "distance", max_hop=2)
    expected_hops = np.array(
        [[0, 1, 2, INF], [1, 0, 1, 2], [2, 1, 0, 1], [INF, 2, 1, 0]], dtype=float
    )
    np.testing.assert_array_equal(graph.hop_dis, expected_hops)
    hop0 = matrix(4, {(0, 0): 1 / 3, (1, 1): 1 / 4, (2, 2): 1 / 4, (3, 3): 1 / 3})
    hop1 = matrix(
        4,
        {
            (0, 1): 1 / 4,
            (1, 0): 1 / 3,
            (1, 2): 1 / 4,
            (2, 1): 1 / 4,
            (2, 3): 1 / 3,
            (3, 2): 1 / 4,
        },
    )
    hop2 = matrix(4, {(0, 2): 1 / 4, (2, 0): 1 / 3, (1, 3): 1 / 3, (3, 1): 1 / 4})
    assert_adjacency(graph.A, [hop0, hop1, hop2])
    assert_adjacency(Graph(CHAIN4, "uniform", max_hop=2).A, [hop0 + hop1 + hop2])


def test_chain4_max_hop_2_spatial() -> None:
    # distances to the centre 0: (0, 1, 2, inf). Hop 2 pairs: 0-2 and 1-3.
    graph = Graph(CHAIN4, "spatial", max_hop=2)
    hop0 = matrix(4, {(0, 0): 1 / 3, (1, 1): 1 / 4, (2, 2): 1 / 4, (3, 3): 1 / 3})
    close1 = matrix(4, {(1, 0): 1 / 3, (2, 1): 1 / 4, (3, 2): 1 / 4})
    further1 = matrix(4, {(0, 1): 1 / 4, (1, 2): 1 / 4, (2, 3): 1 / 3})
    close2 = matrix(4, {(2, 0): 1 / 3, (3, 1): 1 / 4})
    further2 = matrix(4, {(0, 2): 1 / 4, (1, 3): 1 / 3})
    assert_adjacency(graph.A, [hop0, close1, further1, close2, further2])


def test_chain4_dilation_2() -> None:
    # max_hop 2, dilation 2: only hops 0 and 2 link, so 0-2 and 1-3 (plus self-links).
    # Every column sums to 2.
    hop0 = matrix(4, {(v, v): 1 / 2 for v in range(4)})
    hop2 = matrix(4, {(0, 2): 1 / 2, (2, 0): 1 / 2, (1, 3): 1 / 2, (3, 1): 1 / 2})
    assert_adjacency(Graph(CHAIN4, "uniform", max_hop=2, dilation=2).A, [hop0 + hop2])
    assert_adjacency(Graph(CHAIN4, "distance", max_hop=2, dilation=2).A, [hop0, hop2])
    # distances to the centre 0 with max_hop 2: (0, 1, 2, inf)
    close = matrix(4, {(2, 0): 1 / 2, (3, 1): 1 / 2})
    further = matrix(4, {(0, 2): 1 / 2, (1, 3): 1 / 2})
    assert_adjacency(Graph(CHAIN4, "spatial", max_hop=2, dilation=2).A, [hop0, close, further])


def test_max_hop_0_is_the_normalised_identity() -> None:
    for strategy in STRATEGIES:
        A = Graph("openpose", strategy, max_hop=0).A
        assert_adjacency(A, [np.eye(18)])


# ----------------------------------------------------------------------- openpose by hand
# Openpose, centre 1 (neck). Column degrees with the self-link: neck 1: {1, 0, 2, 5} -> 4;
# nose 0: {0, 1, 14, 15} -> 4; shoulder 2: {2, 1, 3, 8} -> 4; elbow 3: {3, 2, 4} -> 3;
# wrist 4: {4, 3} -> 2; eye 14: {14, 0, 16} -> 3; ear 16: {16, 14} -> 2.
# With max_hop 1 the distance to the centre is 0 for 1, 1 for 0, 2 and 5, inf for the rest.


@pytest.fixture(scope="module")
def openpose_spatial() -> np.ndarray:
    return Graph("openpose", "spatial").A


@pytest.mark.parametrize(
    ("k", "j", "i", "value"),
    [
        # root partition (hop 0): the diagonal, 1 / degree
        (0, 1, 1, 1 / 4),
        (0, 0, 0, 1 / 4),
        (0, 3, 3, 1 / 3),
        (0, 4, 4, 1 / 2),
        (0, 16, 16, 1 / 2),
        # nose -> neck: nose is farther from the centre: close, 1 / deg(neck)
        (1, 0, 1, 1 / 4),
        (2, 0, 1, 0.0),
        # neck -> nose: neck is nearer: further, 1 / deg(nose)
        (2, 1, 0, 1 / 4),
        (1, 1, 0, 0.0),
        # shoulder <-> neck
        (1, 2, 1, 1 / 4),
        (2, 1, 2, 1 / 4),
        # elbow (inf) -> shoulder (1): close; shoulder -> elbow: further, 1 / deg(elbow)
        (1, 3, 2, 1 / 4),
        (2, 2, 3, 1 / 3),
        # wrist <-> elbow: both beyond max_hop, inf == inf: root (in partition 1)
        (1, 4, 3, 1 / 3),
        (1, 3, 4, 1 / 2),
        (2, 4, 3, 0.0),
        (2, 3, 4, 0.0),
        # eye (inf) -> nose (1): close; nose -> eye: further
        (1, 14, 0, 1 / 4),
        (2, 0, 14, 1 / 3),
        # ear <-> eye: both beyond max_hop: root
        (1, 16, 14, 1 / 3),
        (1, 14, 16, 1 / 2),
        # not joined: zero everywhere
        (0, 1, 4, 0.0),
        (1, 1, 4, 0.0),
        (2, 1, 4, 0.0),
        (1, 4, 1, 0.0),
    ],
)
def test_openpose_spatial_entries(
    openpose_spatial: np.ndarray, k: int, j: int, i: int, value: float
) -> None:
    assert openpose_spatial[k, j, i] == pytest.approx(value, abs=1e-7)


def test_openpose_spatial_neck_column(openpose_spatial: np.ndarray) -> None:
    # What arrives at the neck: itself (root), nose/shoulders (close), nothing further.
    neck = openpose_spatial[:, :, 1]
    np.testing.assert_allclose(neck[0], np.eye(18)[1] / 4, atol=1e-7)
    np.testing.assert_allclose(neck[1], np.isin(np.arange(18), [0, 2, 5]) / 4, atol=1e-7)
    np.testing.assert_array_equal(neck[2], np.zeros(18))


# ------------------------------------------------------------------ the layouts themselves
REFERENCE_EDGES = {
    "openpose": [
        (4, 3),
        (3, 2),
        (7, 6),
        (6, 5),
        (13, 12),
        (12, 11),
        (10, 9),
        (9, 8),
        (11, 5),
        (8, 2),
        (5, 1),
        (2, 1),
        (0, 1),
        (15, 0),
        (14, 0),
        (17, 15),
        (16, 14),
    ],
    "ntu-rgb+d": [
        (a - 1, b - 1)
        for a, b in [
            (1, 2),
            (2, 21),
            (3, 21),
            (4, 3),
            (5, 21),
            (6, 5),
            (7, 6),
            (8, 7),
            (9, 21),
            (10, 9),
            (11, 10),
            (12, 11),
            (13, 1),
            (14, 13),
            (15, 14),
            (16, 15),
            (17, 1),
            (18, 17),
            (19, 18),
            (20, 19),
            (22, 23),
            (23, 8),
            (24, 25),
            (25, 12),
        ]
    ],
    "ntu_edge": [
        (a - 1, b - 1)
        for a, b in [
            (1, 2),
            (3, 2),
            (4, 3),
            (5, 2),
            (6, 5),
            (7, 6),
            (8, 7),
            (9, 2),
            (10, 9),
            (11, 10),
            (12, 11),
            (13, 1),
            (14, 13),
            (15, 14),
            (16, 15),
            (17, 1),
            (18, 17),
            (19, 18),
            (20, 19),
            (21, 22),
            (22, 8),
            (23, 24),
            (24, 12),
        ]
    ],
}
REFERENCE_SIZES = {"openpose": (18, 1), "ntu-rgb+d": (25, 20), "ntu_edge": (24, 2), "coco": (17, 0)}
#: joints and centre of every built-in layout: the reference's and the later skeletons
SIZES = {
    **REFERENCE_SIZES,
    "openpose-body25": (25, 1),
    "mediapipe-pose": (33, 0),
    "mediapipe-hand": (21, 0),
    "mediapipe-holistic": (75, 0),
    "coco-wholebody": (133, 0),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_EDGES))
def test_reference_layouts_match_the_reference_edges(name: str) -> None:
    layout = LAYOUTS[name]
    assert (layout.num_node, layout.center) == REFERENCE_SIZES[name]
    assert len(layout.edges) == len(REFERENCE_EDGES[name])
    # direction does not matter to the adjacency, so compare unordered pairs
    assert set(map(frozenset, layout.edges)) == set(map(frozenset, REFERENCE_EDGES[name]))


def bfs_distances(layout: Layout) -> np.ndarray:
    """All-pairs shortest path lengths by breadth-first search (``inf`` if unreachable)."""
    neighbours: list[set[int]] = [set() for _ in range(layout.num_node)]
    for i, j in layout.edges:
        neighbours[i].add(j)
        neighbours[j].add(i)
    out = np.full((layout.num_node, layout.num_node), INF)
    for start in range(layout.num_node):
        out[start, start] = 0
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for other in neighbours[node]:
                if out[start, other] == INF:
                    out[start, other] = out[start, node] + 1
                    queue.append(other)
    return out


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_builtin_layouts_are_connected(name: str) -> None:
    # a joint cut off from the rest would never exchange features with it
    layout = LAYOUTS[name]
    assert np.isfinite(bfs_distances(layout)).all()
    bones = len(set(map(frozenset, layout.edges)))
    assert bones == len(layout.edges)  # no bone listed twice
    # the reference skeletons are trees; coco closes the torso and the eyes-nose triangle,
    # mediapipe-pose the torso, the mouth-nose triangle and each palm's triangle (and
    # mediapipe-holistic, which adds two hand trees); coco-wholebody coco's three cycles
    # and the face's seven (its four rings; the jaw, the brows and the nose bridge; the
    # two lip rings' corners; the chin to the lower lip)
    cycles = {"coco": 3, "mediapipe-pose": 7, "mediapipe-holistic": 7, "coco-wholebody": 10}
    assert bones == layout.num_node - 1 + cycles.get(name, 0)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("max_hop", [1, 2, 3])
def test_hop_distance_is_shortest_path_capped_at_max_hop(name: str, max_hop: int) -> None:
    layout = LAYOUTS[name]
    expected = bfs_distances(layout)
    expected[expected > max_hop] = INF
    actual = hop_distance(layout.num_node, layout.edges, max_hop)
    np.testing.assert_array_equal(actual, expected)


# ------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize(
    ("strategy", "max_hop", "dilation", "partitions"),
    [
        ("uniform", 1, 1, 1),
        ("uniform", 2, 1, 1),
        ("distance", 1, 1, 2),
        ("distance", 2, 1, 3),
        ("distance", 3, 1, 4),
        ("distance", 2, 2, 2),  # hops 0 and 2
        ("spatial", 1, 1, 3),
        ("spatial", 2, 1, 5),
        ("spatial", 2, 2, 3),
    ],
)
def test_shapes(name: str, strategy: str, max_hop: int, dilation: int, partitions: int) -> None:
    graph = Graph(name, strategy, max_hop=max_hop, dilation=dilation)
    V = SIZES[name][0]
    assert graph.num_node == V
    assert graph.A.shape == (partitions, V, V)
    assert graph.A.dtype == np.float32
    assert graph.hop_dis.shape == (V, V)


# --------------------------------------------------------------- facts that must always hold
ALL_GRAPHS = [
    (name, strategy, max_hop, dilation)
    for name in sorted(LAYOUTS)
    for strategy in STRATEGIES
    for max_hop, dilation in [(1, 1), (2, 1), (2, 2)]
]


def unnormalised(graph: Graph) -> np.ndarray:
    """Undo the column normalisation: ``A * D`` per partition, back to 0/1 entries."""
    degree = (graph.A.sum(axis=0) > 0).sum(axis=0)
    return graph.A * degree[None, None, :]


@pytest.mark.parametrize(("name", "strategy", "max_hop", "dilation"), ALL_GRAPHS)
def test_partitions_sum_to_the_normalised_matrix(
    name: str, strategy: str, max_hop: int, dilation: int
) -> None:
    graph = Graph(name, strategy, max_hop=max_hop, dilation=dilation)
    total = graph.A.sum(axis=0)
    # each joint links to itself, so no column is empty: every column sums to exactly 1
    np.testing.assert_allclose(total.sum(axis=0), np.ones(graph.num_node), rtol=1e-6)
    # partitions never overlap: each (j, i) belongs to exactly one of them
    assert ((graph.A > 0).sum(axis=0) <= 1).all()
    # the linked pairs are exactly those at a valid hop, and that set is symmetric
    linked = total > 0
    valid = np.isin(graph.hop_dis, list(range(0, max_hop + 1, dilation)))
    np.testing.assert_array_equal(linked, valid)
    np.testing.assert_array_equal(linked, linked.T)
    # within a column every non-zero entry is 1 / degree
    ones = unnormalised(graph)
    assert (np.isclose(ones, 0.0) | np.isclose(ones, 1.0, rtol=1e-6)).all()


@pytest.mark.parametrize(("name", "strategy", "max_hop", "dilation"), ALL_GRAPHS)
def test_partition_symmetries(name: str, strategy: str, max_hop: int, dilation: int) -> None:
    graph = Graph(name, strategy, max_hop=max_hop, dilation=dilation)
    ones = unnormalised(graph) > 0.5
    np.testing.assert_array_equal(graph.hop_dis, graph.hop_dis.T)
    if strategy == "uniform":
        np.testing.assert_array_equal(ones[0], ones[0].T)
    elif strategy == "distance":
        # each hop ring is a symmetric relation, and partition 0 is the diagonal
        np.testing.assert_array_equal(ones, ones.transpose(0, 2, 1))
        np.testing.assert_array_equal(ones[0], np.eye(graph.num_node, dtype=bool))
    else:
        np.testing.assert_array_equal(ones[0], np.eye(graph.num_node, dtype=bool))
        to_center = graph.hop_dis[:, graph.layout.center]
        equal = to_center[:, None] == to_center[None, :]
        for ring in range(1, ones.shape[0], 2):
            root_close, further = ones[ring], ones[ring + 1]
            root, close = root_close & equal, root_close & ~equal
            # "root" is symmetric; j -> i close exactly when i -> j is further
            np.testing.assert_array_equal(root, root.T)
            np.testing.assert_array_equal(close, further.T)


def literal_reference_adjacency(
    layout: Layout, strategy: str, max_hop: int, dilation: int
) -> np.ndarray:
    """REFERENCE.md §2 read entry by entry, with loops and no vectorisation."""
    V, center = layout.num_node, layout.center
    hop = bfs_distances(layout)
    hop[hop > max_hop] = INF
    hops = list(range(0, max_hop + 1, dilation))
    linked = np.array([[1.0 if hop[j, i] in hops else 0.0 for i in range(V)] for j in range(V)])
    normalised = np.zeros((V, V))
    for i in range(V):
        column = sum(linked[j, i] for j in range(V))
        for j in range(V):
            if column > 0:
                normalised[j, i] = linked[j, i] / column
    if strategy == "uniform":
        return normalised[None]
    parts = []
    for h in hops:
        at_hop = [[normalised[j, i] if hop[j, i] == h else 0.0 for i in range(V)] for j in range(V)]
        if strategy == "distance":
            parts.append(np.array(at_hop))
            continue
        root, close, further = np.zeros((V, V)), np.zeros((V, V)), np.zeros((V, V))
        for j, i in itertools.product(range(V), range(V)):
            if hop[j, center] == hop[i, center]:
                root[j, i] = at_hop[j][i]
            elif hop[j, center] > hop[i, center]:
                close[j, i] = at_hop[j][i]
            else:
                further[j, i] = at_hop[j][i]
        parts.extend([root] if h == 0 else [root + close, further])
    return np.stack(parts)


@pytest.mark.parametrize(("name", "strategy", "max_hop", "dilation"), ALL_GRAPHS)
def test_matches_literal_reading_of_the_definition(
    name: str, strategy: str, max_hop: int, dilation: int
) -> None:
    graph = Graph(name, strategy, max_hop=max_hop, dilation=dilation)
    expected = literal_reference_adjacency(LAYOUTS[name], strategy, max_hop, dilation)
    # same float32 rounding as the reference's torch.tensor(A, dtype=float32): bit-equal
    np.testing.assert_array_equal(graph.A, expected.astype(np.float32))


# ---------------------------------------------------------------------- custom layouts
def test_custom_layout_from_dict_equals_layout_custom() -> None:
    spec = {"num_node": 4, "edges": [[0, 1], [2, 0], [0, 3]], "center": 0, "name": "star"}
    from_dict = get_layout(spec)
    assert from_dict == Layout.custom(4, [(0, 1), (2, 0), (0, 3)], 0, name="star")
    assert from_dict.edges == ((0, 1), (2, 0), (0, 3))
    np.testing.assert_array_equal(Graph(spec).A, Graph(STAR).A)
    # name is optional in a mapping
    assert get_layout({"num_node": 2, "edges": [(0, 1)], "center": 1}).name == "custom"


def test_layout_round_trips_through_to_dict() -> None:
    for layout in [*LAYOUTS.values(), STAR]:
        assert get_layout(layout.to_dict()) == layout


def test_layout_objects_and_names_resolve() -> None:
    assert get_layout("openpose") is LAYOUTS["openpose"]
    assert get_layout(STAR) is STAR
    assert Graph(LAYOUTS["coco"]).layout is LAYOUTS["coco"]


def test_layout_custom_coerces_to_plain_ints() -> None:
    layout = Layout.custom(np.int64(3), [np.array([0, 1]), (np.int64(1), 2)], np.int64(1))
    assert layout.edges == ((0, 1), (1, 2))
    assert all(type(x) is int for edge in layout.edges for x in edge)
    assert type(layout.num_node) is int and type(layout.center) is int


def test_single_joint_layout() -> None:
    graph = Graph({"num_node": 1, "edges": [], "center": 0}, "spatial")
    assert graph.A.shape == (3, 1, 1)
    np.testing.assert_array_equal(graph.A[:, 0, 0], [1.0, 0.0, 0.0])


def test_disconnected_custom_layout() -> None:
    # two separate bones 0-1 and 2-3, centre 0: joints 2 and 3 never reach the centre,
    # compare inf == inf and share the root partition
    layout = Layout.custom(4, [(0, 1), (2, 3)], 0)
    A = Graph(layout, "spatial").A
    assert A[1, 2, 3] == pytest.approx(0.5) and A[1, 3, 2] == pytest.approx(0.5)
    assert A[2, 2, 3] == 0 and A[2, 3, 2] == 0
    np.testing.assert_allclose(A.sum(axis=(0, 1)), np.ones(4), rtol=1e-6)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("kinetics", "unknown layout"),
        ("", "unknown layout"),
        (5, "unknown layout"),
        ([1, 2], "unknown layout"),
        ({"num_node": 3, "edges": [(0, 1)]}, "center"),
        ({"edges": [(0, 1)], "center": 0}, "num_node"),
        ({"num_node": 3, "center": 0}, "edges"),
        ({"num_node": 3, "edges": [(0, 3)], "center": 0}, r"edge \(0, 3\)"),
        ({"num_node": 3, "edges": [(-1, 0)], "center": 0}, r"edge \(-1, 0\)"),
        ({"num_node": 3, "edges": [(0, 1, 2)], "center": 0}, "not a pair"),
        ({"num_node": 3, "edges": [0], "center": 0}, "not a pair"),
        ({"num_node": 3, "edges": [(0, 1)], "center": 3}, "center 3"),
        ({"num_node": 3, "edges": [(0, 1)], "center": -1}, "center -1"),
        ({"num_node": 0, "edges": [], "center": 0}, "num_node"),
    ],
)
def test_bad_layouts_raise_value_error(layout: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Graph(layout)  # type: ignore[arg-type]


def test_unknown_layout_error_lists_the_known_ones() -> None:
    known = (
        "coco, coco-wholebody, mediapipe-hand, mediapipe-holistic, mediapipe-pose, "
        "ntu-rgb\\+d, ntu_edge, openpose, openpose-body25"
    )
    with pytest.raises(ValueError, match=known):
        get_layout("openpose18")


@pytest.mark.parametrize("strategy", ["Spatial", "agcn", "", "distances"])
def test_bad_strategy_raises_value_error(strategy: str) -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        Graph("openpose", strategy)


@pytest.mark.parametrize(("max_hop", "dilation"), [(-1, 1), (1, 0), (1, -2)])
def test_bad_hops_raise_value_error(max_hop: int, dilation: int) -> None:
    with pytest.raises(ValueError, match=r"max_hop|dilation"):
        Graph("openpose", "spatial", max_hop=max_hop, dilation=dilation)


def test_layout_constructor_checks_edges_directly() -> None:
    with pytest.raises(ValueError, match="outside"):
        Layout("bad", 2, ((0, 2),), 0)


# ------------------------------------------------- the graphs other models convolve over
# PYSKL's spatial mode: I, then A[parent, child] = 1 / (parents of child) for the inward
# bones and A[child, parent] = 1 / (children of parent) for the outward ones.
# A fork, centre 0: 0 - 1, and 1 - 2, 1 - 3 (listed in mixed directions).
FORK = Layout.custom(4, [(0, 1), (2, 1), (1, 3)], center=0, name="fork")
# A triangle, centre 0: the cross-bar 1 - 2 joins two joints one bone from the centre.
TRIANGLE = Layout.custom(3, [(0, 1), (2, 0), (1, 2)], center=0, name="triangle")


def test_pyskl_spatial_of_a_fork_by_hand() -> None:
    A = pyskl_spatial(FORK)
    inward = matrix(4, {(0, 1): 1, (1, 2): 1, (1, 3): 1})
    # joint 1 has two children, so each sends it half
    outward = matrix(4, {(1, 0): 1, (2, 1): 0.5, (3, 1): 0.5})
    assert_adjacency(A, [np.eye(4), inward, outward])
    assert A.dtype == np.float32


def test_pyskl_spatial_keeps_the_listed_order_of_a_bone_across_the_centre_ring() -> None:
    # 1 -> 2 is inward as listed: 1 has two parents (0 and 2), 0 two children (1 and 2)
    inward = matrix(3, {(0, 1): 0.5, (2, 1): 0.5, (0, 2): 1})
    outward = matrix(3, {(1, 0): 0.5, (2, 0): 0.5, (1, 2): 1})
    assert_adjacency(pyskl_spatial(TRIANGLE), [np.eye(3), inward, outward])
    flipped = Layout.custom(3, [(0, 1), (2, 0), (2, 1)], center=0, name="triangle")
    # 2 -> 1 now: 2 has the two parents, 0 the children 1 and 2 still
    inward = matrix(3, {(0, 1): 1, (0, 2): 0.5, (1, 2): 0.5})
    outward = matrix(3, {(1, 0): 0.5, (2, 0): 0.5, (2, 1): 1})
    assert_adjacency(pyskl_spatial(flipped), [np.eye(3), inward, outward])


def test_pyskl_spatial_of_openpose_follows_its_inward_edges() -> None:
    # the reference's openpose edges are PYSKL's inward list, child first
    A = pyskl_spatial("openpose")
    layout = LAYOUTS["openpose"]
    assert inward_edges(layout) == list(layout.edges)
    expected_in = np.zeros((18, 18))
    for child, parent in layout.edges:
        expected_in[parent, child] = 1  # every child has one parent
    np.testing.assert_array_equal(A[1], expected_in)
    children = expected_in.sum(axis=1)
    np.testing.assert_allclose(A[2], expected_in.T / np.maximum(children, 1)[None, :], atol=1e-7)
    # it is not the reference's spatial strategy
    assert not np.allclose(A, Graph("openpose", "spatial").A)


def test_pyskl_spatial_is_three_partitions_for_every_builtin_layout() -> None:
    for name, layout in LAYOUTS.items():
        A = pyskl_spatial(name)
        assert A.shape == (3, layout.num_node, layout.num_node), name
        # each bone once in each direction, every column of a bone matrix summing to 1 or 0
        assert np.count_nonzero(A[1]) == np.count_nonzero(A[2]) == len(layout.edges), name
        for part in A[1:]:
            sums = part.sum(axis=0)
            assert np.allclose(sums[sums > 0], 1.0), name


def test_adjacency_of_a_chain_by_hand() -> None:
    # A + I of 0 - 1 - 2: degrees 2, 3, 2
    expected = np.array(
        [
            [1 / 2, 1 / np.sqrt(6), 0],
            [1 / np.sqrt(6), 1 / 3, 1 / np.sqrt(6)],
            [0, 1 / np.sqrt(6), 1 / 2],
        ]
    )
    A = adjacency(CHAIN3)
    assert A.shape == (3, 3) and A.dtype == np.float32
    np.testing.assert_allclose(A, expected, rtol=0, atol=1e-7)
    np.testing.assert_allclose(adjacency(STAR), adjacency(STAR).T)
