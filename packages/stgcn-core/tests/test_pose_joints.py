"""Joint maps between the joint sets of REFERENCE §9 and the stgcn layouts, checked
against the orders written there (indices, not names, so a wrong name table fails)."""

from __future__ import annotations

import numpy as np
import pytest

from stgcn.errors import StgcnError
from stgcn.model.layouts import get_layout
from stgcn.pose import BODY_25, COCO_17, OPENPOSE_18, joint_map, layouts_of
from stgcn.pose.joints import layout_named_by
from stgcn.records import Layout


def test_joint_sets_have_their_reference_lengths_and_layouts() -> None:
    assert (len(OPENPOSE_18), len(BODY_25), len(COCO_17)) == (18, 25, 17)
    sets = {"openpose": OPENPOSE_18, "openpose-body25": BODY_25, "coco": COCO_17}
    for name, joints in sets.items():
        assert get_layout(name).num_node == len(joints)
        assert get_layout(name).joints == joints
        assert layout_named_by(joints) == name
    assert layout_named_by(tuple(reversed(COCO_17))) is None


def test_coco17_to_openpose_indices() -> None:
    mapping = joint_map(COCO_17, "openpose")
    # openpose index -> coco indices, from the orders of REFERENCE §9
    expected = {
        0: (0,),
        1: (5, 6),
        2: (6,),
        3: (8,),
        4: (10,),
        5: (5,),
        6: (7,),
        7: (9,),
        8: (12,),
        9: (14,),
        10: (16,),
        11: (11,),
        12: (13,),
        13: (15,),
        14: (2,),
        15: (1,),
        16: (4,),
        17: (3,),
    }
    assert dict(enumerate(mapping.sources)) == {k: tuple(sorted(v)) for k, v in expected.items()}
    assert mapping.derived == ("neck",)


def test_body25_to_openpose_skips_mid_hip_and_feet() -> None:
    mapping = joint_map(BODY_25, "openpose")
    assert [s[0] for s in mapping.sources] == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
    ]
    assert mapping.derived == ()
    assert set(layouts_of(BODY_25)) == {"openpose", "coco", "openpose-body25"}
    assert set(layouts_of(COCO_17)) == {"openpose", "coco"}


def test_openpose18_to_coco_indices() -> None:
    mapping = joint_map(OPENPOSE_18, "coco")
    assert [s[0] for s in mapping.sources] == [
        0,
        15,
        14,
        17,
        16,
        5,
        2,
        6,
        3,
        7,
        4,
        11,
        8,
        12,
        9,
        13,
        10,
    ]


def test_derived_neck_is_mid_shoulder_with_the_lower_score() -> None:
    person = np.zeros((17, 3), np.float32)
    person[5] = (0.6, 0.4, 0.9)  # left shoulder
    person[6] = (0.2, 0.5, 0.7)  # right shoulder
    out = joint_map(COCO_17, "openpose").apply(person)
    np.testing.assert_allclose(out[1], (0.4, 0.45, 0.7), rtol=1e-6)
    np.testing.assert_allclose(out[2], person[6])
    np.testing.assert_allclose(out[5], person[5])
    person[6, 2] = 0.0  # one shoulder unseen: so is the neck
    assert joint_map(COCO_17, "openpose").apply(person)[1, 2] == 0.0
    # batched: (frames, persons, joints, 3)
    assert joint_map(COCO_17, "openpose").apply(np.zeros((4, 2, 17, 3))).shape == (4, 2, 18, 3)


def test_refusals() -> None:
    with pytest.raises(StgcnError, match="the ntu-rgb\\+d layout needs a spine_base"):
        joint_map(COCO_17, "ntu-rgb+d")
    with pytest.raises(StgcnError, match="unknown layout 'hand'; known layouts: coco, "):
        joint_map(COCO_17, "hand")
    unnamed = Layout.custom(3, [(0, 1), (1, 2)], center=1, name="unnamed")
    with pytest.raises(StgcnError, match="the unnamed layout names no joints"):
        joint_map(COCO_17, unnamed)
    with pytest.raises(StgcnError, match="needs a left_ear"):
        joint_map(tuple(n for n in COCO_17 if n != "left_ear"), "coco")
    with pytest.raises(StgcnError, match="skeleton of 18 joints given to a map from 17"):
        joint_map(COCO_17, "coco").apply(np.zeros((18, 3)))


def test_mediapipe_pose_landmarks_map_onto_coco_and_openpose_by_name() -> None:
    landmarks = get_layout("mediapipe-pose").joints
    coco = joint_map(landmarks, "coco")
    # COCO's shoulders, hips and ankles are MediaPipe's 11, 12, 23, 24, 27, 28
    assert [coco.sources[i] for i in (5, 6, 11, 12, 15, 16)] == [
        (11,), (12,), (23,), (24,), (27,), (28,)
    ]  # fmt: skip
    openpose = joint_map(landmarks, "openpose")
    assert openpose.derived == ("neck",) and openpose.sources[1] == (11, 12)
    assert {"coco", "openpose", "mediapipe-pose"} <= set(layouts_of(landmarks))


def test_body25_reaches_openpose_and_openpose_reaches_body25_only_with_a_mid_hip() -> None:
    # the mid-hip is derived from the hips; the feet cannot be: BODY_18 has none
    with pytest.raises(StgcnError, match="the openpose-body25 layout needs a left_big_toe"):
        joint_map(OPENPOSE_18, "openpose-body25")
    to_body = joint_map(BODY_25, "openpose-body25")
    assert to_body.sources == tuple((i,) for i in range(25))


def test_a_layout_record_is_a_target_by_its_joint_names() -> None:
    # a plugin's hand layout named in its own order: the map follows the names
    hand = get_layout("mediapipe-hand")
    mirrored = Layout.custom(
        21, hand.edges, center=0, name="my-hand", joints=tuple(reversed(hand.joints))
    )
    mapping = joint_map(hand.joints, mirrored)
    assert mapping.target == "my-hand" and mapping.joints == mirrored.joints
    assert mapping.sources == tuple((20 - i,) for i in range(21))
    values = np.arange(21 * 3, dtype=np.float32).reshape(21, 3)
    np.testing.assert_array_equal(mapping.apply(values), values[::-1])


def test_missing_joints_are_named_in_the_layouts_order() -> None:
    from stgcn.model.joint_names import feeds, missing_joints, quoted_names

    hand = get_layout("mediapipe-hand")
    openpose = get_layout("openpose")
    assert missing_joints(hand.joints, hand) == () and feeds(hand.joints, hand)
    # the neck is missing too: the shoulders it is derived from are
    assert missing_joints(hand.joints, openpose) == OPENPOSE_18
    without_a_shoulder = tuple(name for name in COCO_17 if name != "right_shoulder")
    assert missing_joints(without_a_shoulder, openpose) == ("neck", "right_shoulder")
    assert not feeds(COCO_17, Layout.custom(2, [(0, 1)], center=0, name="unnamed"))
    assert quoted_names(("a", "b")) == "'a', 'b'"
    assert quoted_names(tuple("abcdefg")) == "'a', 'b', 'c', 'd', 'e' and 2 more"


def test_an_estimator_or_a_file_format_lacking_a_joint_is_one_line() -> None:
    from stgcn.pose.inputs import check_estimator, check_file_joints
    from stgcn.records import PoseEstimator

    def never(request):
        raise AssertionError("a refused estimator is not opened")

    hands = PoseEstimator("hands", never, get_layout("mediapipe-hand").joints)
    check_estimator(hands, "mediapipe-hand")
    with pytest.raises(StgcnError) as raised:
        check_estimator(hands, "openpose")
    assert str(raised.value) == (
        "pose estimator 'hands' gives no joint for 'nose', 'neck', 'right_shoulder', "
        "'right_elbow', 'right_wrist' and 13 more of layout 'openpose'"
    )
    body = PoseEstimator("body", never, COCO_17)
    with pytest.raises(StgcnError, match="'body' gives no joint for 'wrist', 'thumb_cmc'"):
        check_estimator(body, "mediapipe-hand")
    with pytest.raises(StgcnError, match="unknown layout 'hand'"):
        check_estimator(body, "hand")
    check_file_joints("openpose", "openpose-body25")
    check_file_joints("coco-results", "openpose")
    # the mid-hip comes from the hips; the feet cannot be had
    feet = "'left_big_toe', 'left_small_toe', 'left_heel', 'right_big_toe', 'right_small_toe'"
    with pytest.raises(StgcnError) as raised:
        check_file_joints("coco-results", "openpose-body25")
    assert str(raised.value) == (
        f"coco-results files give no joint for {feet} and 1 more of layout 'openpose-body25'"
    )


def test_an_estimator_record_refuses_joints_that_match_nothing() -> None:
    from stgcn.records import PoseEstimator

    with pytest.raises(ValueError, match="'hands': joints must be its joint names"):
        PoseEstimator("hands", print, "mediapipe-hand")
    with pytest.raises(ValueError, match="'twice': joint names repeated: nose"):
        PoseEstimator("twice", print, ("nose", "neck", "nose"))
