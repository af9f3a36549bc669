"""The ``stgcn`` entry point: the ``mediapipe`` pose estimator.

Cheap to import (``stgcn plugins`` imports every plugin): mediapipe loads when a video
is opened, in :mod:`stgcn_pose_mediapipe.model`.
"""

from __future__ import annotations

from collections.abc import Callable

from stgcn.hookspecs import hookimpl
from stgcn.records import PoseEstimator, PoseModel, PoseOpenRequest
from stgcn_pose_mediapipe.landmarks import LANDMARKS

#: The stgcn plugin API versions this plugin is written for (see stgcn.plugins.loading).
STGCN_API = ">=2,<3"


def open_model(request: PoseOpenRequest) -> PoseModel:
    """MediaPipe's model for one video, with the request's ``--estimator-option`` pairs."""
    from stgcn_pose_mediapipe.model import open_pose

    return open_pose(request.options)


MEDIAPIPE = PoseEstimator(
    name="mediapipe",
    open=open_model,
    joints=LANDMARKS,
    description="MediaPipe Pose 0.10.14 (BlazePose full, CPU): 33 landmarks, one person "
    "tracked or several (max_people)",
    max_persons=None,
    people_option="max_people",
)


@hookimpl
def stgcn_register_pose_estimators(register: Callable[[PoseEstimator], None]) -> None:
    register(MEDIAPIPE)
