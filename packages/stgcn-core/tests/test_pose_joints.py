"""Joint maps between the joint sets of REFERENCE §9 and the stgcn layouts, checked
against the orders written there (indices, not names, so a wrong name table fails)."""

from __future__ import annotations

import numpy as np
import pytest

from stgcn.errors import StgcnError
from stgcn.model.graph import get_layout
from stgcn.pose import BODY_25, COCO_17, LAYOUT_JOINTS, OPENPOSE_18, joint_map, layouts_of


def test_joint_sets_have_their_reference_lengths_and_layouts() -> None:
    assert (len(OPENPOSE_18), len(BODY_25), len(COCO_17)) == (18, 25, 17)
    for name, joints in LAYOUT_JOINTS.items():
        assert get_layout(name).num_node == len(joints)


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
    assert set(layouts_of(BODY_25)) == {"openpose", "coco"}


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
    with pytest.raises(StgcnError, match="layouts coco, openpose, not 'ntu-rgb\\+d'"):
        joint_map(COCO_17, "ntu-rgb+d")
    with pytest.raises(StgcnError, match="needs a left_ear"):
        joint_map(tuple(n for n in COCO_17 if n != "left_ear"), "coco")
    with pytest.raises(StgcnError, match="skeleton of 18 joints given to a map from 17"):
        joint_map(COCO_17, "coco").apply(np.zeros((18, 3)))
