"""MediaPipe Holistic as an stgcn pose estimator (``--estimator mediapipe-holistic``):
one person a frame, the body and both hands in one 75-joint skeleton.

The wheel ships the holistic graph (``modules/holistic_landmark/holistic_landmark_cpu.binarypb``)
and every model it runs: the pose detector and ``pose_landmark_full`` (model complexity
1, the only one shipped), ``hand_recrop.tflite``, which places each hand's box from the
pose's wrist, the hand landmark model, and the face models (the face landmarks are not
used here). It finds the person, then the hands from that person's wrists, so a hand's
side is the person's own (it comes from the pose's left or right wrist; no mirroring
question arises, unlike MediaPipe Hands').

The skeleton's joints are the ``mediapipe-holistic`` layout's (:data:`HOLISTIC_JOINTS`):
the 33 pose landmarks, then the left hand's 21 (``left_hand_wrist``, ...), then the
right hand's. The pose joints score as the ``mediapipe`` estimator's (their visibility;
outside the frame not found); a hand's joints score 1 where the graph found the hand
(it reports no per-landmark score for hands), and a hand not seen in a frame is all
zeros (score 0), as the layout's convention for a joint not found.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stgcn.plugins.settings import Settings, option
from stgcn.pose.joints import MEDIAPIPE_HAND_21, MEDIAPIPE_HOLISTIC_75, MEDIAPIPE_POSE_33
from stgcn_pose_mediapipe.environment import require_mediapipe
from stgcn_pose_mediapipe.hands import hand_joints
from stgcn_pose_mediapipe.model import (
    _fraction,
    _shipped_complexity,
    check_image,
    in_frame,
    quiet_protobuf,
)

NAME = "mediapipe-holistic"
#: the estimator's joints, in the order its skeletons hold them: the layout's own
HOLISTIC_JOINTS: tuple[str, ...] = MEDIAPIPE_HOLISTIC_75


@dataclass(frozen=True)
class HolisticSettings(Settings):
    """The ``--estimator-option KEY=VALUE`` settings of the mediapipe-holistic estimator."""

    family: ClassVar[str] = NAME
    sort_known: ClassVar[bool] = True

    model_complexity: int = option(
        1, "the pose model (1: the one the wheel ships)", parse=_shipped_complexity
    )
    min_detection_confidence: float = option(0.5, "the score a detection needs", parse=_fraction)
    min_tracking_confidence: float = option(0.5, "the score tracking needs", parse=_fraction)
    smooth_landmarks: bool = option(True, "smooth landmarks across frames")


def _hand(landmarks: Any | None) -> np.ndarray:
    if landmarks is None:
        return np.zeros((len(MEDIAPIPE_HAND_21), 3), dtype=np.float32)
    return hand_joints(landmarks)


def holistic_skeleton(results: Any) -> np.ndarray | None:
    """The graph's results as one ``(75, 3)`` skeleton (None when no person is found):
    the pose, the left hand, the right hand, a hand not seen all zeros."""
    if results.pose_landmarks is None:
        return None
    pose = in_frame(
        np.array([[mark.x, mark.y, mark.visibility] for mark in results.pose_landmarks.landmark])
    )
    if len(pose) != len(MEDIAPIPE_POSE_33):
        raise ValueError(f"{NAME}: a pose of {len(pose)} landmarks, not 33")
    left, right = _hand(results.left_hand_landmarks), _hand(results.right_hand_landmarks)
    return np.concatenate([pose, left, right]).astype(np.float32)


class MediaPipeHolistic:
    """A :class:`stgcn.records.PoseModel`: at most one person a frame, body and hands."""

    def __init__(self, options: Mapping[str, str]) -> None:
        kwargs = dataclasses.asdict(HolisticSettings.parse(options))
        require_mediapipe(NAME)
        import mediapipe as mp

        self._holistic = mp.solutions.holistic.Holistic(
            static_image_mode=False, refine_face_landmarks=False, **kwargs
        )

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image, NAME)
        with quiet_protobuf():
            results = self._holistic.process(np.ascontiguousarray(image))
        skeleton = holistic_skeleton(results)
        return [] if skeleton is None else [skeleton]

    def close(self) -> None:
        self._holistic.close()
