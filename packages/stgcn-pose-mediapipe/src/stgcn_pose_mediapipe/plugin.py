"""The ``stgcn`` entry point: the pose estimators ``mediapipe`` (bodies),
``mediapipe-hands`` (hands) and ``mediapipe-holistic`` (a body and its hands).

Cheap to import (``stgcn plugins`` imports every plugin): mediapipe loads when a video
is opened, in the estimators' modules. Each record's ``unavailable`` checks mediapipe's
environment (:mod:`stgcn_pose_mediapipe.environment`, from the packages' metadata): an
installed protobuf that mediapipe 0.10.14 cannot run beside is named, with the fix, in
each estimator's line of ``stgcn plugins`` and by every command before it opens a video.
"""

from __future__ import annotations

from collections.abc import Callable

from stgcn.hookspecs import hookimpl
from stgcn.pose.joints import MEDIAPIPE_HAND_21, MEDIAPIPE_HOLISTIC_75
from stgcn.records import PoseEstimator, PoseModel, PoseOpenRequest
from stgcn_pose_mediapipe.environment import protobuf_problem
from stgcn_pose_mediapipe.landmarks import LANDMARKS

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2.3,<3"


def open_model(request: PoseOpenRequest) -> PoseModel:
    """MediaPipe's model for one video, with the request's ``--estimator-option`` pairs."""
    from stgcn_pose_mediapipe.model import open_pose

    return open_pose(request.options)


def open_hands(request: PoseOpenRequest) -> PoseModel:
    """MediaPipe Hands for one video."""
    from stgcn_pose_mediapipe.hands import MediaPipeHands

    return MediaPipeHands(request.options)


def open_holistic(request: PoseOpenRequest) -> PoseModel:
    """MediaPipe Holistic for one video."""
    from stgcn_pose_mediapipe.holistic import MediaPipeHolistic

    return MediaPipeHolistic(request.options)


MEDIAPIPE = PoseEstimator(
    name="mediapipe",
    open=open_model,
    joints=LANDMARKS,
    description="MediaPipe Pose 0.10.14 (BlazePose full, CPU): 33 landmarks, one person "
    "tracked or several (max_people)",
    max_persons=None,
    people_option="max_people",
    unavailable=protobuf_problem,
)

HANDS = PoseEstimator(
    name="mediapipe-hands",
    open=open_hands,
    joints=MEDIAPIPE_HAND_21,
    description="MediaPipe Hands 0.10.14 (palm detector and hand landmarks, CPU): 21 "
    "landmarks a hand, up to max_num_hands (2) hands a frame, each tracked",
    max_persons=None,
    people_option="max_num_hands",
    subject="hand",
    unavailable=protobuf_problem,
    default_layout="mediapipe-hand",
)

HOLISTIC = PoseEstimator(
    name="mediapipe-holistic",
    open=open_holistic,
    joints=MEDIAPIPE_HOLISTIC_75,
    description="MediaPipe Holistic 0.10.14 (CPU): one person's 33 pose landmarks and "
    "both hands' 21, 75 joints (a hand not seen scores 0)",
    max_persons=1,
    unavailable=protobuf_problem,
    default_layout="mediapipe-holistic",
)


@hookimpl
def stgcn_register_pose_estimators(register: Callable[[PoseEstimator], None]) -> None:
    register(MEDIAPIPE)
    register(HANDS)
    register(HOLISTIC)
