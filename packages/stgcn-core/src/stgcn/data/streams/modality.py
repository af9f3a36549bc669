"""Bones and motion of skeleton clips, for any layout.

A joint's bone is the joint minus its parent, the parent being its neighbour one step
nearer the layout's center (by hop distance over the layout's edges); the center's bone
is zero. Motion is the difference between consecutive frames: frame t holds frame
t + 1 minus frame t, and the last frame is zero. Coordinates are the channels other
than a score channel; where the data carries a score (2D keypoints with their
detector's confidence), the score of a bone or a motion is the mean of the two scores it
spans, so that a bone to an undetected joint is marked as less trustworthy.

Clips are ``(C, T, V, M)`` or batches ``(N, C, T, V, M)``: the functions work on the
last four dimensions, on numpy arrays or torch tensors alike.
"""

from __future__ import annotations

from collections import deque
from typing import TypeVar

import numpy as np
import torch

from stgcn.errors import StgcnError
from stgcn.model.layouts import Layout

MODALITIES = ("joint", "bone", "joint_motion", "bone_motion")

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def parents(layout: Layout) -> list[int]:
    """Each joint's neighbour one hop nearer the center (the center is its own parent).

    Ties (two neighbours equally near) go to the lower joint index; a joint that no
    path links to the center is its own parent, so its bone is zero.
    """
    neighbours: list[set[int]] = [set() for _ in range(layout.num_node)]
    for i, j in layout.edges:
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    distance = {layout.center: 0}
    queue = deque([layout.center])
    while queue:
        joint = queue.popleft()
        for other in sorted(neighbours[joint]):
            if other not in distance:
                distance[other] = distance[joint] + 1
                queue.append(other)
    result = []
    for joint in range(layout.num_node):
        step = distance.get(joint, 0) - 1
        nearer = [n for n in sorted(neighbours[joint]) if distance.get(n) == step]
        result.append(nearer[0] if nearer else joint)
    return result


def _score_channel(data: Array, score: bool) -> int | None:
    channels = data.shape[-4]
    return channels - 1 if score and channels >= 2 else None


def bones(data: Array, parent: list[int], score: bool = False) -> Array:
    """Each joint minus its parent; with ``score``, the last channel is the pair's mean."""
    of_parent = data[..., list(parent), :]
    result = data - of_parent
    channel = _score_channel(data, score)
    if channel is not None:
        pair = data[..., channel, :, :, :] + of_parent[..., channel, :, :, :]
        result[..., channel, :, :, :] = pair / 2
    return result


def motion(data: Array, score: bool = False) -> Array:
    """Frame t + 1 minus frame t at frame t; the last frame is zero."""
    result = data * 0
    result[..., :-1, :, :] = data[..., 1:, :, :] - data[..., :-1, :, :]
    channel = _score_channel(data, score)
    if channel is not None:
        mean = (data[..., channel, 1:, :, :] + data[..., channel, :-1, :, :]) / 2
        result[..., channel, :-1, :, :] = mean
    return result


def apply_modality(data: Array, modality: str, parent: list[int], score: bool = False) -> Array:
    """The stream ``modality`` of joint data (a clip or a batch)."""
    if modality == "joint":
        return data
    if modality == "bone":
        return bones(data, parent, score)
    if modality == "joint_motion":
        return motion(data, score)
    if modality == "bone_motion":
        return motion(bones(data, parent, score), score)
    raise StgcnError(f"modality must be one of {', '.join(MODALITIES)}, not {modality!r}")
