"""One video's MediaPipe Pose model (the legacy ``solutions.pose`` API of 0.10.x).

``static_image_mode=False``: MediaPipe detects the person once and then tracks the
landmarks from frame to frame, which is both faster and steadier on a video than
detecting in every frame. A model therefore belongs to one video, in frame order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option
from stgcn.records import PoseModel
from stgcn_pose_mediapipe.environment import require_mediapipe


@contextlib.contextmanager
def quiet_protobuf() -> Iterator[None]:
    """Calls into mediapipe without protobuf 4's deprecation warning, which mediapipe
    0.10.14 sets off on every frame. Around a whole frame's calls, in the thread that
    makes them: ``warnings.catch_warnings`` swaps the process's filters, so that entered
    in several threads at once, one thread's exit restores the filters another saved
    (:mod:`stgcn_pose_mediapipe.people` runs landmarkers in threads)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "SymbolDatabase.GetPrototype", UserWarning)
        yield


def _fraction(value: object, what: str) -> float:
    try:
        number = float(str(value))
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise StgcnError(f"{what} expects a number in [0, 1], got {value!r}")
    return number


def _shipped_complexity(value: object, what: str) -> int:
    # the 0.10.14 wheel ships pose_landmark_full (1) only; 0 (lite) and 2 (heavy) are
    # downloaded on first use, which a machine without a network cannot do
    if str(value) != "1":
        raise StgcnError(
            f"mediapipe: model_complexity 1 is the model the wheel ships; {str(value)!r} "
            "would be downloaded"
        )
    return 1


@dataclass(frozen=True)
class MediaPipeSettings(Settings):
    """The ``--estimator-option KEY=VALUE`` settings of the mediapipe estimator."""

    family: ClassVar[str] = "mediapipe"
    sort_known: ClassVar[bool] = True

    model_complexity: int = option(
        1, "the pose model (1: the one the wheel ships)", parse=_shipped_complexity
    )
    min_detection_confidence: float = option(0.5, "the score a detection needs", parse=_fraction)
    min_tracking_confidence: float = option(0.5, "the score tracking needs", parse=_fraction)
    smooth_landmarks: bool = option(True, "smooth landmarks across frames")
    max_people: int = option(
        1, "people a frame (1: track one person; more: find each afresh)", least=1
    )


#: ``--estimator-option`` keys and their defaults
DEFAULTS = {key: str(default).lower() for key, default, _ in MediaPipeSettings.help()}


def settings(options: Mapping[str, str]) -> dict[str, object]:
    """The keyword arguments of ``mp.solutions.pose.Pose``, checked."""
    parsed = dataclasses.asdict(MediaPipeSettings.parse(options))
    parsed.pop("max_people")
    return {"static_image_mode": False, **parsed}


def in_frame(landmarks: np.ndarray) -> np.ndarray:
    """MediaPipe's ``(33, 3)`` landmarks as a skeleton: float32, the visibility clipped
    to [0, 1] as the score, and a landmark outside the frame not found.

    MediaPipe places every landmark, also those outside the frame (legs below a
    portrait's edge, at y = 1.9 with a low visibility); OpenPose, and so the Kinetics
    data, reports such joints as not found. Do the same: x = y = score = 0.
    """
    person = np.asarray(landmarks, dtype=np.float32).copy()
    person[:, 2] = np.clip(person[:, 2], 0.0, 1.0)
    outside = ((person[:, :2] < 0.0) | (person[:, :2] > 1.0)).any(axis=1)
    person[outside] = 0.0
    return person


def check_image(image: np.ndarray, estimator: str) -> None:
    """Refuse anything but the RGB uint8 frame the core hands an estimator."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise StgcnError(f"{estimator} takes RGB uint8 images, got {image.dtype} {image.shape}")


def open_pose(options: Mapping[str, str]) -> PoseModel:
    """One person tracked (``max_people=1``, the default) or several found in each frame
    (:mod:`stgcn_pose_mediapipe.people`)."""
    parsed = MediaPipeSettings.parse(options)
    if parsed.max_people == 1:
        return MediaPipePose(options)
    require_mediapipe("mediapipe")
    from stgcn_pose_mediapipe.people import MediaPipePeople

    return MediaPipePeople(
        parsed.max_people, parsed.min_detection_confidence, parsed.min_tracking_confidence
    )


class MediaPipePose:
    """A :class:`stgcn.records.PoseModel`: at most one person per frame, 33 landmarks,
    x and y as fractions of the frame, the landmark's visibility as its score, and a
    landmark outside the frame not found (all zero), as OpenPose reports it."""

    def __init__(self, options: Mapping[str, str]) -> None:
        kwargs = settings(options)
        require_mediapipe("mediapipe")
        import mediapipe as mp

        # MediaPipe's C++ graph logs a few lines to the process's stderr as its models
        # start; stgcn.pose.video runs estimators with those native writes set aside
        self._pose = mp.solutions.pose.Pose(**kwargs)

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image, "mediapipe")
        with quiet_protobuf():
            results = self._pose.process(np.ascontiguousarray(image))
        if results.pose_landmarks is None:
            return []
        landmarks = results.pose_landmarks.landmark
        return [in_frame(np.array([[mark.x, mark.y, mark.visibility] for mark in landmarks]))]

    def close(self) -> None:
        self._pose.close()
