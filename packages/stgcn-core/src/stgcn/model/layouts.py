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
from itertools import pairwise
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


# MediaPipe's pose connections, which draw the face, the mouth and the body apart: here
# joined, the mouth corners to the nose and each ear to its shoulder (as OpenPose links
# them), so that no joint is cut off from the graph
MEDIAPIPE_POSE_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8),
    (9, 10), (0, 9), (0, 10), (7, 11), (8, 12),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


def _fingers(wrist: int = 0) -> tuple[tuple[int, int], ...]:
    """Each finger's base to the wrist, then each joint to the one before it (inward), for
    a hand whose 21 joints start at ``wrist`` (MediaPipe's order, COCO-WholeBody's too)."""
    edges = []
    for base in (1, 5, 9, 13, 17):
        edges.append((wrist + base, wrist))
        edges.extend((wrist + joint, wrist + joint - 1) for joint in range(base + 1, base + 4))
    return tuple(edges)


#: MediaPipe Holistic's 75: the pose's 33, then the left hand's 21, then the right's. A
#: hand's joint is ``left_hand_`` or ``right_hand_`` and its name in the hand layout
#: (``left_hand_wrist``, not ``left_wrist``: that is the pose's, and names are unique)
MEDIAPIPE_HOLISTIC_75: tuple[str, ...] = (
    *MEDIAPIPE_POSE_33,
    *(f"left_hand_{name}" for name in MEDIAPIPE_HAND_21),
    *(f"right_hand_{name}" for name in MEDIAPIPE_HAND_21),
)

#: where each hand starts in ``mediapipe-holistic``
HOLISTIC_LEFT_HAND, HOLISTIC_RIGHT_HAND = 33, 54

#: COCO-WholeBody's fingers as MMPose names them, each from its base (1) to its tip (4)
_WHOLEBODY_FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")


def _wholebody_hand(side: str) -> tuple[str, ...]:
    fingers = (f"{side}_{finger}{n}" for finger in _WHOLEBODY_FINGERS for n in range(1, 5))
    return (f"{side}_hand_root", *fingers)


#: COCO-WholeBody's 133 keypoints, named as MMPose's ``coco_wholebody`` dataset names
#: them: the COCO-17 body, six foot points, 68 face landmarks (the 300-W/iBUG order:
#: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67), then each hand
COCO_WHOLEBODY_133: tuple[str, ...] = (
    *COCO_17,
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
    *(f"face-{n}" for n in range(68)),
    *_wholebody_hand("left"),
    *_wholebody_hand("right"),
)  # fmt: skip

#: where the face and each hand start in ``coco-wholebody``
WHOLEBODY_FACE, WHOLEBODY_LEFT_HAND, WHOLEBODY_RIGHT_HAND = 23, 91, 112


def _mediapipe_holistic_edges() -> tuple[tuple[int, int], ...]:
    """The pose's bones, each hand's, and each pose wrist to its hand's wrist."""
    return (
        *MEDIAPIPE_POSE_EDGES,
        *_fingers(HOLISTIC_LEFT_HAND),
        *_fingers(HOLISTIC_RIGHT_HAND),
        (HOLISTIC_LEFT_HAND, 15),
        (HOLISTIC_RIGHT_HAND, 16),
    )


def _face_edges() -> tuple[tuple[int, int], ...]:
    """The 68 face landmarks joined in their natural chains, the chains joined where they
    meet, and the face to the body at the nose (indices of ``coco-wholebody``).

    MMPose's skeleton links none of them, which would leave 68 joints that no graph
    convolution reaches: the jaw line, each brow, the nose bridge and its base as chains,
    the eyes and both lip contours as rings; the inner brow ends and the inner eye corners
    to the top of the nose bridge, the bridge's tip to the base's middle, the base to the
    top of the upper lip, each outer lip corner to the inner one, the chin to the bottom
    of the lower lip, each end of the jaw line to its brow's outer end; and the face's
    nose tip (face-30) to the body's nose, the centre, so that every face joint is a few
    hops from it."""
    chains = [range(0, 17), range(17, 22), range(22, 27), range(27, 31), range(31, 36)]
    rings = [range(36, 42), range(42, 48), range(48, 60), range(60, 68)]
    pairs = [(b, a) for chain in chains for a, b in pairwise(chain)]
    for ring in rings:
        pairs.extend((b, a) for a, b in pairwise([*ring, ring[0]]))
    pairs += [
        (21, 27), (22, 27), (39, 27), (42, 27), (33, 30), (51, 33),
        (60, 48), (64, 54), (57, 8), (0, 17), (16, 26),
    ]  # fmt: skip
    face = [(WHOLEBODY_FACE + i, WHOLEBODY_FACE + j) for i, j in pairs]
    return (*face, (WHOLEBODY_FACE + 30, 0))


def _coco_wholebody_edges() -> tuple[tuple[int, int], ...]:
    """MMPose's ``coco_wholebody`` skeleton (its 65 links, in its order), each hand's
    root to its body wrist, and the face's chains (:func:`_face_edges`).

    MMPose links each finger's base to the body's wrist (9, 10) and leaves the hand's own
    root (91, 112) unlinked; here the root joins its wrist, so that it is in the graph
    and MMPose's links stay as they are."""
    body = (
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12),
        (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2),
        (1, 3), (2, 4), (3, 5), (4, 6),
    )  # fmt: skip
    feet = ((15, 17), (15, 18), (15, 19), (16, 20), (16, 21), (16, 22))
    hands = []
    for root, wrist in ((WHOLEBODY_LEFT_HAND, 9), (WHOLEBODY_RIGHT_HAND, 10)):
        for base in (1, 5, 9, 13, 17):
            hands.append((wrist, root + base))
            hands.extend((root + joint - 1, root + joint) for joint in range(base + 1, base + 4))
    roots = ((WHOLEBODY_LEFT_HAND, 9), (WHOLEBODY_RIGHT_HAND, 10))
    return (*body, *feet, *hands, *roots, *_face_edges())


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
    # MediaPipe's pose connections, joined (MEDIAPIPE_POSE_EDGES); centre: the nose, as
    # in the coco layout
    "mediapipe-pose": Layout(
        "mediapipe-pose",
        33,
        MEDIAPIPE_POSE_EDGES,
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
    # the pose and both hands, each hand's wrist joined to the pose's; centre: the nose,
    # as in mediapipe-pose
    "mediapipe-holistic": Layout(
        "mediapipe-holistic",
        75,
        _mediapipe_holistic_edges(),
        0,
        MEDIAPIPE_HOLISTIC_75,
        "MediaPipe Holistic: the 33 pose landmarks and both hands' 21",
    ),
    # MMPose's skeleton with the hand roots and the face joined (_coco_wholebody_edges);
    # centre: the nose, as in coco
    "coco-wholebody": Layout(
        "coco-wholebody",
        133,
        _coco_wholebody_edges(),
        0,
        COCO_WHOLEBODY_133,
        "COCO-WholeBody's 133 keypoints: body, feet, face and hands (MMPose)",
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
