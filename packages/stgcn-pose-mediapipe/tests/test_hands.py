"""The mediapipe-hands and mediapipe-holistic estimators.

No photograph an installed package ships shows a hand MediaPipe finds: every image of
scikit-image's data (astronaut, cameraman, coffee, chelsea, ...), matplotlib's
grace_hopper and the rest were run through MediaPipe Hands (threshold 0.3, also crops
of 128 to 256 pixels scaled up): none gave a hand but one false palm on the astronaut's
shoulder at threshold 0.2; the astronaut's gloved hand is cut off by the frame's edge.
mediapipe's wheel ships no test images and OpenCV's no samples. So on real pixels the
tests check what the estimators must do without hands (no skeleton, no crash; the
holistic body found with its hands at score 0), and the conversion, handedness,
tracking and joint naming on MediaPipe's own result objects (its landmark and
classification protos), built here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pose_helpers import photo
from stgcn_pose_mediapipe.environment import protobuf_problem
from stgcn_pose_mediapipe.hands import MediaPipeHands, hands_of
from stgcn_pose_mediapipe.holistic import MediaPipeHolistic, holistic_skeleton
from stgcn_pose_mediapipe.plugin import HANDS, HOLISTIC

from stgcn.model.joint_names import missing_joints
from stgcn.model.layouts import LAYOUTS
from stgcn.pose.tracking import Tracker


def hand_proto(x: float, y: float, size: float = 0.1):
    """A ``NormalizedLandmarkList`` of 21 landmarks: a hand at (x, y), the wrist below."""
    from mediapipe.framework.formats import landmark_pb2

    hand = landmark_pb2.NormalizedLandmarkList()
    for index in range(21):
        mark = hand.landmark.add()
        mark.x = x + size * ((index % 5) - 2) / 4
        mark.y = y - size * (index // 5) / 4
        mark.z = -0.01 * index
    return hand


def side_proto(label: str, score: float = 0.97):
    from mediapipe.framework.formats import classification_pb2

    side = classification_pb2.ClassificationList()
    entry = side.classification.add()
    entry.index, entry.score, entry.label = (0 if label == "Left" else 1), score, label
    return side


def hands_results(*hands: tuple[str, float, float]):
    """The legacy graph's output (``multi_hand_landmarks``, ``multi_handedness``) for
    hands given as (MediaPipe's label, x, y); None lists when there is none, as MediaPipe
    returns them."""
    if not hands:
        return SimpleNamespace(multi_hand_landmarks=None, multi_handedness=None)
    return SimpleNamespace(
        multi_hand_landmarks=[hand_proto(x, y) for _, x, y in hands],
        multi_handedness=[side_proto(label) for label, _, _ in hands],
    )


def test_joints_are_mediapipe_own_and_meet_the_layouts_by_name() -> None:
    import mediapipe as mp

    hand_names = tuple(mark.name.lower() for mark in mp.solutions.hands.HandLandmark)
    pose_names = tuple(mark.name.lower() for mark in mp.solutions.pose.PoseLandmark)
    assert tuple(HANDS.joints) == hand_names
    assert tuple(HOLISTIC.joints) == (
        *pose_names,
        *(f"left_hand_{name}" for name in hand_names),
        *(f"right_hand_{name}" for name in hand_names),
    )
    assert missing_joints(HANDS.joints, LAYOUTS["mediapipe-hand"]) == ()
    assert missing_joints(HOLISTIC.joints, LAYOUTS["mediapipe-holistic"]) == ()
    # a hand is no body: the body layouts are refused by name, the holistic's body is one
    assert missing_joints(HANDS.joints, LAYOUTS["openpose"])
    assert missing_joints(HOLISTIC.joints, LAYOUTS["openpose"]) == ()
    assert HANDS.subject == "hand" and HOLISTIC.subject == "person"


def test_conversion_and_the_persons_own_side() -> None:
    results = hands_results(("Left", 0.3, 0.5), ("Right", 0.7, 0.5))
    hands = hands_of(results)
    # MediaPipe's "Left" assumes a mirrored image: in a camera's own frame it is the
    # person's right hand
    assert [side for side, _ in hands] == ["right", "left"]
    joints = hands[0][1]
    assert joints.shape == (21, 3) and joints.dtype == np.float32
    expected = results.multi_hand_landmarks[0].landmark
    assert joints[:, 0] == pytest.approx([m.x for m in expected], abs=1e-6)
    assert joints[:, 1] == pytest.approx([m.y for m in expected], abs=1e-6)
    assert (joints[:, 2] == 1).all()
    # a landmark outside the frame is not found, as for bodies
    outside = hands_results(("Right", 0.02, 0.5))
    ((_, cut),) = hands_of(outside)
    beyond = np.array([m.x < 0 for m in outside.multi_hand_landmarks[0].landmark])
    assert beyond.sum() == 9
    assert not cut[beyond].any() and (cut[~beyond, 2] == 1).all()
    assert hands_of(hands_results()) == []


def test_a_hand_keeps_its_track_and_the_track_ends() -> None:
    tracker = Tracker()
    seen: list[dict[str, int]] = []
    for t in range(8):
        # the two hands move towards each other; MediaPipe lists them in no fixed order
        left_x, right_x = 0.2 + 0.03 * t, 0.8 - 0.03 * t
        order = [("Right", left_x, 0.5), ("Left", right_x, 0.5)]
        results = hands_results(*(order if t % 2 else order[::-1]))
        hands = hands_of(results)
        tracked = tracker.update([joints for _, joints in hands])
        seen.append({side: person.track for (side, _), person in zip(hands, tracked, strict=True)})
    assert all(frame == seen[0] for frame in seen), seen
    assert sorted(seen[0].values()) == [1, 2]
    # then no hand: after the tracker's grace frames the tracks are gone, and a hand
    # seen again starts a new one
    for _ in range(3):
        assert tracker.update([joints for _, joints in hands_of(hands_results())]) == []
    (again,) = tracker.update([hands_of(hands_results(("Left", 0.5, 0.5)))[0][1]])
    assert again.track == 3


def test_holistic_skeleton_from_its_results() -> None:
    from mediapipe.framework.formats import landmark_pb2

    pose = landmark_pb2.NormalizedLandmarkList()
    for index in range(33):
        mark = pose.landmark.add()
        mark.x, mark.y, mark.visibility = 0.5, 0.1 + index / 40, 0.9
    seen = SimpleNamespace(
        pose_landmarks=pose, left_hand_landmarks=hand_proto(0.6, 0.5), right_hand_landmarks=None
    )
    skeleton = holistic_skeleton(seen)
    assert skeleton is not None and skeleton.shape == (75, 3)
    assert skeleton[:33, 2] == pytest.approx(0.9)
    assert (skeleton[33:54, 2] == 1).all()  # the left hand, found
    assert not skeleton[54:].any()  # the right hand, not seen: all zeros, score 0
    nobody = SimpleNamespace(
        pose_landmarks=None, left_hand_landmarks=None, right_hand_landmarks=None
    )
    assert holistic_skeleton(nobody) is None


def test_real_frames_without_hands() -> None:
    frame = np.full((320, 480, 3), 255, np.uint8)
    frame[32:288, 112:368] = photo("astronaut")
    hands = MediaPipeHands({})
    try:
        for _ in range(3):
            assert list(hands.estimate(frame)) == []
            assert hands.handedness == ()
    finally:
        hands.close()
    holistic = MediaPipeHolistic({})
    try:
        for _ in range(3):
            (person,) = holistic.estimate(frame)
            assert person.shape == (75, 3)
            nose_x, nose_y = person[0, :2]
            assert 112 / 480 < nose_x < 368 / 480 and 32 / 320 < nose_y < 288 / 320
            assert not person[33:].any()  # her hands are not in the picture
        white = np.full((320, 480, 3), 255, np.uint8)
        assert list(holistic.estimate(white)) == []
    finally:
        holistic.close()


def test_options_are_checked() -> None:
    from stgcn.errors import StgcnError

    with pytest.raises(StgcnError, match="0 \\(lite\\) or 1 \\(full\\)"):
        MediaPipeHands({"model_complexity": "2"})
    with pytest.raises(StgcnError, match="unknown"):
        MediaPipeHolistic({"max_num_hands": "2"})


def test_protobuf_versions() -> None:
    assert protobuf_problem("4.25.3") is None
    problem = protobuf_problem("7.34.1")
    assert problem is not None
    assert "protobuf 7.34.1" in problem and 'pip install "protobuf<5"' in problem
    assert protobuf_problem() is None  # this environment's own


def test_stgcn_plugins_lists_the_estimators_and_the_layouts_they_feed() -> None:
    from stgcn.plugins.listing import describe
    from stgcn.plugins.registry import get_registry

    (row,) = [r for r in describe(get_registry()) if r["name"] == "stgcn-pose-mediapipe"]
    rows = {estimator["name"]: estimator for estimator in row["pose_estimators"]}
    assert rows["mediapipe-hands"]["layouts"] == ["mediapipe-hand"]
    assert "mediapipe-holistic" in rows["mediapipe-holistic"]["layouts"]
    assert "openpose" in rows["mediapipe-holistic"]["layouts"]
    assert all(estimator["unavailable"] is None for estimator in rows.values())
    assert HANDS.default_layout == "mediapipe-hand"
    assert HOLISTIC.default_layout == "mediapipe-holistic"
