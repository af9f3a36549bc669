"""MediaPipe Pose's 33 landmarks by name: the core's ``mediapipe-pose`` layout's own
names (:data:`stgcn.pose.joints.MEDIAPIPE_POSE_33`), in MediaPipe's order.

Declaring them is all the estimator does about layouts: the core matches them by name
to whatever layout a model was trained on. The ``mediapipe-pose`` layout takes them as
they are; ``coco`` takes its 17 joints as they are; ``openpose`` takes the nose, eyes,
ears, shoulders, elbows, wrists, hips, knees and ankles and derives the neck it lacks
as the mid-point of the shoulders (score: the lower of the two shoulders' visibilities).
"""

from __future__ import annotations

from stgcn.pose.joints import MEDIAPIPE_POSE_33

#: MediaPipe's landmark order (REFERENCE §9)
LANDMARKS: tuple[str, ...] = MEDIAPIPE_POSE_33
