"""MediaPipe Hands as an stgcn pose estimator (``--estimator mediapipe-hands``): up to
``max_num_hands`` hands a frame, 21 landmarks each, with the hand's side.

Which API, and why: the 0.10.14 wheel ships the palm detector and the hand landmark
model (``modules/palm_detection/palm_detection_{lite,full}.tflite``,
``modules/hand_landmark/hand_landmark_{lite,full}.tflite``) and the legacy graph that
runs them (``hand_landmark_tracking_cpu.binarypb``, ``mp.solutions.hands``). The Tasks
``HandLandmarker`` takes a ``.task`` bundle the wheel does not ship; the legacy graph
runs with nothing downloaded, and in its video mode it detects palms only until it has
its hands, then tracks their landmarks from frame to frame (faster and steadier).

Each hand comes as a skeleton of the ``mediapipe-hand`` layout's joints (by name:
:data:`stgcn.pose.MEDIAPIPE_HAND_21`, MediaPipe's landmark order), so the core tracks
hands as it tracks people: a hand keeps its track id from frame to frame.

- **Scores.** The graph keeps a hand only while its landmark model's hand-presence
  score passes ``min_tracking_confidence``, but does not report the score, nor one per
  landmark: every landmark of a hand it reports scores 1, except one outside the frame,
  which is not found (x = y = score = 0), as for bodies.
- **Handedness.** MediaPipe names the side assuming a mirrored (selfie) image; stgcn's
  frames are as the camera or the file gives them, not mirrored, so the side is swapped
  to the person's own: ``left`` is the person's left hand. It is kept per frame in
  :attr:`MediaPipeHands.handedness`, in the order of the skeletons returned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option
from stgcn.pose.joints import MEDIAPIPE_HAND_21
from stgcn_pose_mediapipe.environment import require_mediapipe
from stgcn_pose_mediapipe.model import _fraction, check_image, in_frame, quiet_protobuf

NAME = "mediapipe-hands"
#: MediaPipe's label (mirrored image) to the person's own side
PERSONS_SIDE = {"Left": "right", "Right": "left"}


def _shipped_model(value: object, what: str) -> int:
    # both hand landmark models are in the wheel: 0 (lite) and 1 (full)
    if str(value) not in ("0", "1"):
        raise StgcnError(f"{what} expects 0 (lite) or 1 (full), the models the wheel ships")
    return int(str(value))


@dataclass(frozen=True)
class HandsSettings(Settings):
    """The ``--estimator-option KEY=VALUE`` settings of the mediapipe-hands estimator."""

    family: ClassVar[str] = NAME
    sort_known: ClassVar[bool] = True

    max_num_hands: int = option(2, "hands a frame", least=1)
    model_complexity: int = option(1, "the hand model: 0 lite, 1 full", parse=_shipped_model)
    min_detection_confidence: float = option(0.5, "the score a palm needs", parse=_fraction)
    min_tracking_confidence: float = option(0.5, "the score tracking needs", parse=_fraction)


def hand_joints(landmarks: Any) -> np.ndarray:
    """One hand's ``NormalizedLandmarkList`` as a float32 ``(21, 3)`` skeleton: x, y and
    score 1, a landmark outside the frame not found."""
    points = [[mark.x, mark.y, 1.0] for mark in landmarks.landmark]
    if len(points) != len(MEDIAPIPE_HAND_21):
        raise StgcnError(f"{NAME}: a hand of {len(points)} landmarks, not 21")
    return in_frame(np.array(points))


def persons_side(handedness: Any) -> str:
    """The person's own side (``left``/``right``) of a hand's ``ClassificationList``."""
    label = handedness.classification[0].label
    if label not in PERSONS_SIDE:
        raise StgcnError(f"{NAME}: unknown handedness {label!r}")
    return PERSONS_SIDE[label]


def hands_of(results: Any) -> list[tuple[str, np.ndarray]]:
    """The hands in the legacy graph's results: ``(side, joints)`` each, in its order."""
    if not results.multi_hand_landmarks:
        return []
    sides = results.multi_handedness or []
    if len(sides) != len(results.multi_hand_landmarks):
        raise StgcnError(
            f"{NAME}: {len(sides)} handedness labels for {len(results.multi_hand_landmarks)} hands"
        )
    return [
        (persons_side(side), hand_joints(landmarks))
        for side, landmarks in zip(sides, results.multi_hand_landmarks, strict=True)
    ]


class MediaPipeHands:
    """A :class:`stgcn.records.PoseModel`: up to ``max_num_hands`` hands a frame."""

    def __init__(self, options: Mapping[str, str]) -> None:
        kwargs = dataclasses.asdict(HandsSettings.parse(options))
        require_mediapipe(NAME)
        import mediapipe as mp

        self._hands = mp.solutions.hands.Hands(static_image_mode=False, **kwargs)
        #: the person's side of each hand of the last frame, in the order returned
        self.handedness: tuple[str, ...] = ()

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image, NAME)
        with quiet_protobuf():
            results = self._hands.process(np.ascontiguousarray(image))
        hands = hands_of(results)
        self.handedness = tuple(side for side, _ in hands)
        return [joints for _, joints in hands]

    def close(self) -> None:
        self._hands.close()
