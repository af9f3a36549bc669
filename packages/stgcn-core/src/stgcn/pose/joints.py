"""Joint sets by name, and the maps between them.

Every estimator and file format names its joints (REFERENCE §9 gives the orders); a
:class:`JointMap` takes a skeleton in one set to an stgcn layout by matching names, so
that no table of indices has to be written (or checked) by hand for each pair. A
layout joint that the source lacks but that two source joints imply (OpenPose's neck,
between the shoulders) is *derived*: its x and y are the mean of the two, its score the
*lower* of their scores. The minimum, not the mean: a neck is no surer than its less
visible shoulder, and where one shoulder is undetected (score 0) the neck is too, so
that the Kinetics convention zeroes it instead of placing it half-way to the origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stgcn.errors import StgcnError

# The joint tables keep one line per body part (fmt: skip), so that a joint's index
# can be counted off them; the formatter would put one name on each line.

#: OpenPose's COCO-18 order: the ``openpose`` layout of stgcn and of the Kinetics checkpoints
OPENPOSE_18: tuple[str, ...] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip

#: OpenPose's BODY_25: COCO-18 with a mid-hip at 8 and six foot points at 19-24
BODY_25: tuple[str, ...] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip

#: COCO-17 (HRNet, MMPose, Detectron2, YOLO-pose): the ``coco`` layout of stgcn
COCO_17: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

#: the stgcn layouts a pose estimator's output can be brought to, by joint name
LAYOUT_JOINTS: Mapping[str, tuple[str, ...]] = {"openpose": OPENPOSE_18, "coco": COCO_17}

#: joints a layout may need that a source can imply: the mean of two others
DERIVED: Mapping[str, tuple[str, str]] = {
    "neck": ("left_shoulder", "right_shoulder"),
    "mid_hip": ("left_hip", "right_hip"),
}


@dataclass(frozen=True)
class JointMap:
    """Source joints to a target layout: ``sources[i]`` lists the source joints whose
    mean gives target joint ``i`` (one joint: taken as it is; two: derived, the lower
    score)."""

    source: tuple[str, ...]
    target: str
    sources: tuple[tuple[int, ...], ...]

    @property
    def derived(self) -> tuple[str, ...]:
        """The target joints made from two source joints (for documentation and tests)."""
        names = LAYOUT_JOINTS[self.target]
        return tuple(names[i] for i, picked in enumerate(self.sources) if len(picked) > 1)

    def apply(self, joints: np.ndarray) -> np.ndarray:
        """``(..., source joints, 3)`` x, y, score to ``(..., target joints, 3)``."""
        joints = np.asarray(joints, dtype=np.float32)
        if joints.shape[-2:] != (len(self.source), 3):
            raise StgcnError(
                f"a skeleton of {joints.shape[-2]} joints given to a map from "
                f"{len(self.source)} joints"
            )
        out = np.empty((*joints.shape[:-2], len(self.sources), 3), dtype=np.float32)
        for index, picked in enumerate(self.sources):
            chosen = joints[..., list(picked), :]
            out[..., index, :2] = chosen[..., :2].mean(axis=-2)
            out[..., index, 2] = chosen[..., 2].min(axis=-1)
        return out


def joint_map(source: Sequence[str], target: str) -> JointMap:
    """The map from joints named ``source`` to layout ``target``; every target joint must
    be in the source or derivable from it (:data:`DERIVED`)."""
    if target not in LAYOUT_JOINTS:
        known = ", ".join(sorted(LAYOUT_JOINTS))
        raise StgcnError(f"skeletons can be brought to the layouts {known}, not {target!r}")
    where = {name: index for index, name in enumerate(source)}
    picked: list[tuple[int, ...]] = []
    for name in LAYOUT_JOINTS[target]:
        if name in where:
            picked.append((where[name],))
        elif name in DERIVED and all(part in where for part in DERIVED[name]):
            picked.append(tuple(where[part] for part in DERIVED[name]))
        else:
            raise StgcnError(f"the {target} layout needs a {name}, which these skeletons lack")
    return JointMap(tuple(source), target, tuple(picked))


def layouts_of(source: Sequence[str]) -> dict[str, JointMap]:
    """Every layout that joints named ``source`` can be brought to, with its map."""
    maps = {}
    for target in LAYOUT_JOINTS:
        try:
            maps[target] = joint_map(source, target)
        except StgcnError:
            continue
    return maps
