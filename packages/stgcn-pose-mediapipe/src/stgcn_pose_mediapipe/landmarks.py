"""MediaPipe Pose's 33 landmarks by name, and their maps to the stgcn layouts.

The names follow :mod:`stgcn.pose.joints`, so the maps are made by matching names: the
openpose layout takes the nose, eyes, ears, shoulders, elbows, wrists, hips, knees and
ankles as they are and derives the neck it lacks as the mid-point of the shoulders
(score: the lower of the two shoulders' visibilities); the coco layout takes its 17 joints
as they are. The inner and outer eye corners, mouth, hands and feet are not used.
"""

from __future__ import annotations

from stgcn.pose.joints import JointMap, joint_map

#: MediaPipe's landmark order (REFERENCE §9)
# one line per body part, left beside right as MediaPipe numbers them (fmt: skip)
LANDMARKS: tuple[str, ...] = (
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

LAYOUTS: dict[str, JointMap] = {
    layout: joint_map(LANDMARKS, layout) for layout in ("openpose", "coco")
}
