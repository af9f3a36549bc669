"""From video (or skeletons people already have) to model input: estimator-independent
parts of the pose pipeline.

- :mod:`stgcn.pose.joints`: joint sets by name (OpenPose COCO-18 and BODY_25, COCO-17,
  MediaPipe's pose and hand landmarks: the joints of the layouts of those names) and
  :class:`JointMap`, which brings one to any layout by joint names.
- :mod:`stgcn.pose.skeletons`: :class:`PoseSequence` (per-frame skeletons in [0, 1]
  coordinates), model input in the model's coordinate convention
  (:mod:`stgcn.data.coordinates`), sliding windows, Kinetics JSON clips.
- :mod:`stgcn.pose.readers`: OpenPose ``*_keypoints.json`` folders, COCO results files.
- :mod:`stgcn.pose.video`: reading and rendering videos with OpenCV (imported lazily;
  ``stgcn-core[video]``).
- :mod:`stgcn.pose.extract`: ``stgcn data extract``, class folders to a training set.

Pose estimators themselves are plugins (``stgcn_register_pose_estimators``);
``stgcn-pose-mediapipe`` provides ``mediapipe``. Nothing here imports cv2 or an
estimator when ``stgcn.pose`` is imported.
"""

from stgcn.pose.joints import (
    BODY_25,
    COCO_17,
    MEDIAPIPE_HAND_21,
    MEDIAPIPE_HOLISTIC_75,
    MEDIAPIPE_POSE_33,
    OPENPOSE_18,
    JointMap,
    joint_map,
    layouts_of,
)
from stgcn.pose.skeletons import PoseSequence, windows

__all__ = [
    "BODY_25",
    "COCO_17",
    "MEDIAPIPE_HAND_21",
    "MEDIAPIPE_HOLISTIC_75",
    "MEDIAPIPE_POSE_33",
    "OPENPOSE_18",
    "JointMap",
    "PoseSequence",
    "joint_map",
    "layouts_of",
    "windows",
]
