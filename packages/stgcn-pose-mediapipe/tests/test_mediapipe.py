"""The real MediaPipe Pose model on a real person: scikit-image's astronaut photograph,
as a still and as a video moving sideways by a known amount."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pose_helpers import FRAMES, SHIFT, WIDTH
from stgcn_pose_mediapipe.landmarks import LANDMARKS

from stgcn.errors import StgcnError
from stgcn.plugins.registry import get_registry
from stgcn.pose import OPENPOSE_18, PoseSequence, joint_map, layouts_of
from stgcn.records import POSE_ESTIMATORS, PoseOpenRequest
from stgcn.testing.helpers import run_stgcn

OPENPOSE = {name: index for index, name in enumerate(OPENPOSE_18)}


def test_the_plugin_registers_mediapipe() -> None:
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    assert estimator.max_persons is None and len(estimator.joints) == 33
    # its joints by name feed the core's layouts of those joints (and no others)
    assert sorted(layouts_of(estimator.joints)) == ["coco", "mediapipe-pose", "openpose"]
    # the maps against MediaPipe's order (REFERENCE §9), by index
    openpose = joint_map(estimator.joints, "openpose").sources
    assert openpose[OPENPOSE["nose"]] == (0,)
    assert openpose[OPENPOSE["neck"]] == (11, 12)
    assert openpose[OPENPOSE["right_shoulder"]] == (12,)
    assert openpose[OPENPOSE["left_wrist"]] == (15,)
    assert openpose[OPENPOSE["right_ankle"]] == (28,)
    assert openpose[OPENPOSE["left_ear"]] == (7,)
    coco = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    assert [s[0] for s in joint_map(estimator.joints, "coco").sources] == coco
    listed = json.loads(run_stgcn("plugins", "--json").stdout)
    row = next(r for r in listed if r["name"] == "stgcn-pose-mediapipe")
    assert row["pose_estimators"][0]["name"] == "mediapipe" and row["errors"] == []
    assert row["pose_estimators"][0]["layouts"] == ["coco", "mediapipe-pose", "openpose"]


def test_the_photograph() -> None:
    from skimage import data

    photo = data.astronaut()
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    model = estimator.open(PoseOpenRequest({}))
    try:
        (person,) = model.estimate(photo)
        flipped = model.estimate(np.ascontiguousarray(photo[:, ::-1]))
    finally:
        model.close()
    assert person.shape == (len(LANDMARKS), 3) and person.dtype == np.float32
    assert ((person[:, :2] >= 0) & (person[:, :2] <= 1)).all()
    # a half-length portrait: the head and shoulders are seen, the ankles (below the
    # frame) are not found
    assert (person[[0, 11, 12], 2] > 0.5).all()
    assert not person[[27, 28]].any()
    mapped = PoseSequence(tuple(LANDMARKS), [[person]]).to_layout("openpose")
    joints = mapped.frames[0][0]
    nose, neck = joints[OPENPOSE["nose"]], joints[OPENPOSE["neck"]]
    left, right = joints[OPENPOSE["left_shoulder"]], joints[OPENPOSE["right_shoulder"]]
    assert nose[2] > 0.5 and neck[2] > 0.5
    assert nose[1] < neck[1]  # y grows downwards: the nose is above the neck
    assert left[0] > right[0]  # facing the camera: the person's left is on the image's right
    assert neck[2] == pytest.approx(min(left[2], right[2]))
    np.testing.assert_allclose(neck[:2], (left[:2] + right[:2]) / 2, rtol=1e-6)
    # mirrored, the photograph still shows a person facing the camera: the left shoulder
    # is again on the image's right, where the right one was before the mirror
    (mirrored,) = flipped
    assert mirrored[11, 0] > mirrored[12, 0]
    assert mirrored[11, 0] == pytest.approx(1 - person[12, 0], abs=0.05)
    assert mirrored[12, 0] == pytest.approx(1 - person[11, 0], abs=0.05)


def test_a_pose_in_every_frame_following_the_shift(astronaut_video) -> None:
    from stgcn.pose.video import estimate_video

    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    seen: list[int] = []
    raw = estimate_video(astronaut_video, estimator, {}, on_frame=seen.append)
    assert seen == list(range(1, FRAMES + 1))
    assert (raw.width, raw.height, len(raw.frames)) == (WIDTH, 512, FRAMES)
    assert raw.frames_with_pose == FRAMES
    skeletons = raw.to_layout("openpose")
    frames = np.stack([persons[0] for persons in skeletons.frames])  # (T, 18, 3)
    for t in range(FRAMES):
        assert frames[t, OPENPOSE["nose"], 1] < frames[t, OPENPOSE["neck"], 1]
        assert frames[t, OPENPOSE["left_shoulder"], 0] > frames[t, OPENPOSE["right_shoulder"], 0]
    # nose, neck and shoulders move SHIFT pixels right a frame (116 in all) and keep their
    # height. Measured on this clip: the nose within about 5 pixels of that, the shoulders
    # (under a bulky suit, and smoothed by MediaPipe's tracking) within about 15
    steps = np.arange(FRAMES)
    for joint, spread in (
        ("nose", 8.0),
        ("neck", 25.0),
        ("left_shoulder", 25.0),
        ("right_shoulder", 40.0),
    ):
        x = frames[:, OPENPOSE[joint], 0] * WIDTH
        slope, offset = np.polyfit(steps, x, 1)
        assert slope == pytest.approx(SHIFT, abs=0.5), joint
        assert np.abs(x - (slope * steps + offset)).max() < spread, joint
        assert np.ptp(frames[:, OPENPOSE[joint], 1] * 512) < spread, joint


def test_estimator_options() -> None:
    estimator = get_registry().get(POSE_ESTIMATORS, "mediapipe")
    with pytest.raises(StgcnError, match="unknown option 'speed'"):
        estimator.open(PoseOpenRequest({"speed": "fast"}))
    with pytest.raises(StgcnError, match="model_complexity 1 is the model the wheel ships"):
        estimator.open(PoseOpenRequest({"model_complexity": "2"}))
    with pytest.raises(StgcnError, match=r"expects a number in \[0, 1\]"):
        estimator.open(PoseOpenRequest({"min_detection_confidence": "2"}))
    with pytest.raises(StgcnError, match="threads"):
        estimator.open(PoseOpenRequest({"threads": "-1"}))
    with pytest.raises(StgcnError, match="threads is for one person"):
        estimator.open(PoseOpenRequest({"threads": "2", "max_people": "2"}))
    model = estimator.open(
        PoseOpenRequest({"min_detection_confidence": "0.3", "smooth_landmarks": "false"})
    )
    model.close()
