"""PYSKL's graphs (``pyskl/utils/graph.py``, mode ``spatial``) for the layouts PYSKL
defines, so that a network built here starts from the adjacency PYSKL's does, and a
PYSKL checkpoint's stored graph tells its layout.

stgcn's layouts of the same skeletons are not all PYSKL's bone for bone: its
``ntu-rgb+d`` (the ST-GCN reference's) chains each hand's tip and thumb (22 → 23 → 8,
one-based) where PYSKL joins both to the hand (22 → 8, 23 → 8), and its ``coco`` has
MMPose's 19 links where PYSKL has 16 inward bones (the shoulders to the nose, no
cross-bars). For those layouts the bones are PYSKL's own lists below; any other layout
(a plugin's, or one PYSKL lacks) gets :func:`stgcn.model.graph.pyskl_spatial` of its own
bones, which is PYSKL's formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stgcn.model.graph import normalize_columns, pyskl_spatial
from stgcn.model.layouts import Layout, get_layout


def _zero_based(pairs: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((child - 1, parent - 1) for child, parent in pairs)


#: PYSKL's inward bones ``(child, parent)``, zero-based, by the name of stgcn's layout of
#: the same joints (PYSKL's names: ``nturgb+d``, ``coco``, ``openpose``)
PYSKL_INWARD: dict[str, tuple[tuple[int, int], ...]] = {
    "ntu-rgb+d": _zero_based(
        (
            (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21),
            (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1),
            (18, 17), (19, 18), (20, 19), (22, 8), (23, 8), (24, 12), (25, 12),
        )
    ),
    "coco": (
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5),
        (10, 8), (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2),
    ),
    "openpose": (
        (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
        (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
    ),
}  # fmt: skip


def pyskl_graph(layout: str | Layout | dict[str, Any]) -> np.ndarray:
    """PYSKL's ``spatial`` adjacency of ``layout``, float32 ``(3, V, V)``: the identity,
    the inward bones and the outward bones, each column-normalised; the bones are PYSKL's
    where PYSKL defines the skeleton (:data:`PYSKL_INWARD`, matched by name and joint
    count), the layout's own otherwise."""
    resolved = get_layout(layout)
    inward = PYSKL_INWARD.get(resolved.name)
    if inward is None or max(max(pair) for pair in inward) >= resolved.num_node:
        return pyskl_spatial(resolved)
    size = resolved.num_node
    towards = np.zeros((size, size))
    away = np.zeros((size, size))
    for child, parent in inward:
        towards[parent, child] = 1
        away[child, parent] = 1
    parts = (np.eye(size), normalize_columns(towards), normalize_columns(away))
    return np.stack(parts).astype(np.float32)
