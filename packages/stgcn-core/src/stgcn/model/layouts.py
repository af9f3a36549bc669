"""Skeletons: the :class:`Layout` record and the data of the built-in layouts.

A layout names its joints, lists its bones and picks the joint taken as centre. This
module is the one place the built-in layouts' data is written: the core's layouts plugin
(:mod:`stgcn.data.layouts_plugin`) registers every entry of :data:`LAYOUTS`, and the
model layer resolves a built-in name here (``STGCN(layout="openpose")``) because it may
not ask the plugin registry; everything above the model layer resolves layout names
through the registry (``registry.get(LAYOUTS, name)``), which also holds the layouts
plugins bring.

The reference's layouts (``openpose``, ``ntu-rgb+d``, ``ntu_edge``) keep its edges and
centres exactly: released checkpoints store the adjacency built from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Layout:
    """A skeleton: how many joints and their names, which pairs are bones, and the joint
    taken as centre.

    Edges are 0-based joint pairs; self-links are added when the adjacency is built.
    ``joints`` gives one name per joint (empty for a layout read from data that named
    none): estimators and pose files meet a layout by these names
    (:func:`stgcn.pose.joint_map`). A plugin registers one with
    ``stgcn_register_layouts(register)``; a dataset may also hand one to the model as
    its data describes it.
    """

    name: str
    num_node: int
    edges: tuple[tuple[int, int], ...]
    center: int
    #: one name per joint, in index order; () where the layout names none
    joints: tuple[str, ...] = ()
    #: one line for ``stgcn plugins``; not part of the skeleton (not compared, not stored)
    description: str = field(default="", compare=False)

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
        if self.joints and len(self.joints) != self.num_node:
            raise ValueError(
                f"layout {self.name!r}: {len(self.joints)} joint names for {self.num_node} joints"
            )
        repeated = sorted({name for name in self.joints if self.joints.count(name) > 1})
        if repeated:
            raise ValueError(f"layout {self.name!r}: joint names repeated: {', '.join(repeated)}")

    @classmethod
    def custom(
        cls,
        num_node: int,
        edges: Iterable[Sequence[int]],
        center: int,
        name: str = "custom",
        joints: Iterable[str] = (),
    ) -> Layout:
        """A layout from plain values (a JSON file, a checkpoint's mapping)."""
        pairs = []
        for edge in edges:
            try:
                i, j = edge
            except (TypeError, ValueError):
                raise ValueError(
                    f"layout {name!r}: edge {edge!r} is not a pair of joint indices"
                ) from None
            pairs.append((int(i), int(j)))
        if isinstance(joints, str):
            raise ValueError(f"layout {name!r}: joints must be a list of names")
        names = tuple(str(joint) for joint in joints)
        return cls(name, int(num_node), tuple(pairs), int(center), names)

    def to_dict(self) -> dict[str, Any]:
        """The skeleton as plain values (what a checkpoint stores; ``joints`` only where
        named, so that a checkpoint of an unnamed layout reads as before)."""
        values: dict[str, Any] = {
            "name": self.name,
            "num_node": self.num_node,
            "edges": [list(e) for e in self.edges],
            "center": self.center,
        }
        if self.joints:
            values["joints"] = list(self.joints)
        return values


def _one_based(pairs: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((i - 1, j - 1) for i, j in pairs)


# The joint tables keep one line per body part (fmt: skip), so that a joint's index
# can be counted off them; the formatter would put one name on each line.

#: OpenPose's COCO-18 order (BODY_18): the ``openpose`` layout
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

#: COCO-17 keypoints (HRNet, MMPose, Detectron2, YOLO-pose): the ``coco`` layout
COCO_17: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

#: Kinect v2's 25 joints as NTU RGB+D numbers them (1-based there)
NTU_25: tuple[str, ...] = (
    "spine_base", "spine_mid", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "spine_shoulder",
    "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)  # fmt: skip

#: the reference's ``ntu_edge``: NTU's joints without the mid-spine, the spine joint
#: (2, 1-based) linking the spine base, the neck and both shoulders
NTU_EDGE_24: tuple[str, ...] = (
    "spine_base", "spine", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)  # fmt: skip

#: MediaPipe Pose's 33 landmarks
MEDIAPIPE_POSE_33: tuple[str, ...] = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip

#: MediaPipe Hands' 21 landmarks: the wrist, then four per finger from its base
MEDIAPIPE_HAND_21: tuple[str, ...] = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip


def _fingers() -> tuple[tuple[int, int], ...]:
    """Each finger's base to the wrist, then each joint to the one before it (inward)."""
    edges = []
    for base in (1, 5, 9, 13, 17):
        edges.append((base, 0))
        edges.extend((joint, joint - 1) for joint in range(base + 1, base + 4))
    return tuple(edges)


# fmt: off
#: every built-in layout by name, the data the core's layouts plugin registers
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
        OPENPOSE_18,
        "OpenPose BODY_18 (COCO-18), the Kinetics-skeleton layout",
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
        NTU_25,
        "NTU RGB+D's Kinect v2 skeleton",
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
        NTU_EDGE_24,
        "the reference's 24-joint NTU variant",
    ),
    # COCO keypoint order: nose, eyes (l, r), ears (l, r), shoulders, elbows, wrists,
    # hips, knees, ankles (each left then right). Centre: the nose, as in PYSKL.
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
        COCO_17,
        "the 17 COCO keypoints (HRNet, MMPose, YOLO-pose)",
    ),
    # OpenPose's own BODY_25 bones; centre: the neck, as in the openpose layout
    "openpose-body25": Layout(
        "openpose-body25",
        25,
        (
            (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10),
            (10, 11), (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16),
            (16, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
        ),
        1,
        BODY_25,
        "OpenPose BODY_25: BODY_18 with a mid-hip and the feet",
    ),
    # MediaPipe's pose connections, which draw the face, the mouth and the body apart:
    # here joined, the mouth corners to the nose and each ear to its shoulder (as
    # OpenPose links them), so that no joint is cut off from the graph; centre: the
    # nose, as in the coco layout
    "mediapipe-pose": Layout(
        "mediapipe-pose",
        33,
        (
            (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8),
            (9, 10), (0, 9), (0, 10), (7, 11), (8, 12),
            (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
            (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
            (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
            (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
        ),
        0,
        MEDIAPIPE_POSE_33,
        "MediaPipe Pose's 33 landmarks",
    ),
    # PYSKL's handmp: the wrist to each finger's base and along each finger
    "mediapipe-hand": Layout(
        "mediapipe-hand",
        21,
        _fingers(),
        0,
        MEDIAPIPE_HAND_21,
        "MediaPipe Hands' 21 landmarks (PYSKL's handmp)",
    ),
}
# fmt: on


def get_layout(layout: str | Layout | dict[str, Any]) -> Layout:
    """Resolve a built-in layout name, a Layout, or a ``{num_node, edges, center}``
    mapping (``name`` and ``joints`` optional). A plugin's layout name is resolved above
    the model layer (:func:`stgcn.plugins.layouts.resolve_layout`), which hands the
    :class:`Layout` down."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, dict):
        missing = [key for key in ("num_node", "edges", "center") if key not in layout]
        if missing:
            raise ValueError(f"layout mapping lacks {', '.join(missing)}")
        return Layout.custom(
            layout["num_node"],
            layout["edges"],
            layout["center"],
            layout.get("name", "custom"),
            layout.get("joints") or (),
        )
    try:
        return LAYOUTS[layout]
    except (KeyError, TypeError):
        known = ", ".join(sorted(LAYOUTS))
        raise ValueError(f"unknown layout {layout!r}; known layouts: {known}") from None
