"""Joint sets by name, and the maps between them.

Every estimator and file format names its joints (REFERENCE §9 gives the orders), and so
does every layout (``Layout.joints``); a :class:`JointMap` takes a skeleton in one set
to a layout, any registered one, by matching names, so that no table of indices has to
be written (or checked) by hand for each pair. A
layout joint that the source lacks but that two source joints imply (OpenPose's neck,
between the shoulders) is *derived*: its x and y are the mean of the two, its score the
*lower* of their scores. The minimum, not the mean: a neck is no surer than its less
visible shoulder, and where one shoulder is undetected (score 0) the neck is too, so
that the Kinetics convention zeroes it instead of placing it half-way to the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stgcn.errors import StgcnError
from stgcn.model.joint_names import DERIVED as DERIVED
from stgcn.model.joint_names import joint_sources, missing_joints
from stgcn.model.layouts import LAYOUTS as BUILTIN_LAYOUTS
from stgcn.model.layouts import Layout
from stgcn.plugins.kinds import LAYOUTS
from stgcn.plugins.layouts import resolve_layout
from stgcn.plugins.registry import loaded_registry

# The joint sets are the layouts' own names (stgcn.model.layouts holds them); these
# constants keep the names a file reader or an estimator plugin imports.
#: OpenPose's COCO-18 order: the ``openpose`` layout of stgcn and of the Kinetics checkpoints
OPENPOSE_18: tuple[str, ...] = BUILTIN_LAYOUTS["openpose"].joints
#: OpenPose's BODY_25: COCO-18 with a mid-hip at 8 and six foot points at 19-24
BODY_25: tuple[str, ...] = BUILTIN_LAYOUTS["openpose-body25"].joints
#: COCO-17 (HRNet, MMPose, Detectron2, YOLO-pose): the ``coco`` layout of stgcn
COCO_17: tuple[str, ...] = BUILTIN_LAYOUTS["coco"].joints
#: MediaPipe Pose's 33 landmarks: the ``mediapipe-pose`` layout
MEDIAPIPE_POSE_33: tuple[str, ...] = BUILTIN_LAYOUTS["mediapipe-pose"].joints
#: MediaPipe Hands' 21 landmarks (wrist, then four a finger from the thumb): the
#: ``mediapipe-hand`` layout
MEDIAPIPE_HAND_21: tuple[str, ...] = BUILTIN_LAYOUTS["mediapipe-hand"].joints
#: MediaPipe Holistic's body and hands: the 33 pose landmarks, then ``left_hand_*`` and
#: ``right_hand_*`` (the hand names prefixed): the ``mediapipe-holistic`` layout
MEDIAPIPE_HOLISTIC_75: tuple[str, ...] = BUILTIN_LAYOUTS["mediapipe-holistic"].joints


@dataclass(frozen=True)
class JointMap:
    """Source joints to a target layout: ``sources[i]`` lists the source joints whose
    mean gives target joint ``i`` (one joint: taken as it is; two: derived, the lower
    score); ``joints`` are the target layout's joint names."""

    source: tuple[str, ...]
    target: str
    sources: tuple[tuple[int, ...], ...]
    joints: tuple[str, ...] = ()

    @property
    def derived(self) -> tuple[str, ...]:
        """The target joints made from two source joints (for documentation and tests)."""
        return tuple(self.joints[i] for i, picked in enumerate(self.sources) if len(picked) > 1)

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


def joint_map(source: Sequence[str], target: str | Layout) -> JointMap:
    """The map from joints named ``source`` to layout ``target`` (a registered layout's
    name, or the :class:`~stgcn.records.Layout` itself); every target joint must be in
    the source or derivable from it (:data:`DERIVED`, matched by
    :func:`stgcn.model.joint_names.joint_sources`)."""
    layout = resolve_layout(target)
    if not layout.joints:
        raise StgcnError(f"the {layout.name} layout names no joints: no skeleton maps onto it")
    missing = missing_joints(source, layout)
    if missing:
        raise StgcnError(
            f"the {layout.name} layout needs a {missing[0]}, which these skeletons lack"
        )
    sources = tuple(chosen for chosen in joint_sources(source, layout) if chosen is not None)
    return JointMap(tuple(source), layout.name, sources, layout.joints)


def known_layouts() -> list[Layout]:
    """Every registered layout by name once the plugins are loaded; before (a plugin
    module building its estimator's maps when it is imported, as the scaffold's does) the
    core's own, without loading the plugins, which would import that module again."""
    registry = loaded_registry()
    table = registry.table(LAYOUTS) if registry is not None else BUILTIN_LAYOUTS
    return [table[name] for name in sorted(table)]


def layouts_of(source: Sequence[str]) -> dict[str, JointMap]:
    """Every layout (:func:`known_layouts`) that joints named ``source`` can be brought
    to, with its map."""
    maps = {}
    for layout in known_layouts():
        try:
            maps[layout.name] = joint_map(source, layout)
        except StgcnError:
            continue
    return maps


def layout_named_by(joints: Sequence[str]) -> str | None:
    """The first layout (:func:`known_layouts`) whose joints are ``joints``, in order."""
    for layout in known_layouts():
        if layout.joints and layout.joints == tuple(joints):
            return layout.name
    return None
