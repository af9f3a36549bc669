"""Skeletons to model input (the reference's coordinate convention), sliding windows, and
Kinetics JSON clips written and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stgcn.errors import StgcnError
from stgcn.pose import COCO_17, OPENPOSE_18, PoseSequence, windows
from stgcn.pose.skeletons import read_kinetics, write_json


def person(x: float, y: float, score: float, joints: int = 18) -> np.ndarray:
    values = np.zeros((joints, 3), np.float32)
    values[:] = (x, y, score)
    return values


def test_model_input_follows_the_kinetics_convention() -> None:
    weak, strong = person(0.2, 0.3, 0.4), person(0.7, 0.9, 0.8)
    strong[3] = (0.55, 0.65, 0.0)  # undetected joint: x = y = 0, whatever it said
    sequence = PoseSequence(OPENPOSE_18, [[weak, strong], [], [weak]])
    data = sequence.model_input(0, 3, 2)
    assert data.shape == (3, 3, 18, 2) and data.dtype == np.float32
    # persons sorted by summed score: the strong one first
    np.testing.assert_allclose(data[:, 0, 0, 0], (0.2, 0.4, 0.8), atol=1e-6)
    np.testing.assert_allclose(data[:, 0, 0, 1], (-0.3, -0.2, 0.4), atol=1e-6)
    assert tuple(data[:, 0, 3, 0]) == (0.0, 0.0, 0.0)
    assert not data[:, 1].any()  # a frame without a person stays zero
    np.testing.assert_allclose(data[:, 2, 5, 0], (-0.3, -0.2, 0.4), atol=1e-6)
    assert not data[:, 2, :, 1].any()
    # one person slot keeps only the strongest; a window is a slice of frames
    assert sequence.model_input(0, 1, 1)[0, 0, 0, 0] == pytest.approx(0.2)
    assert sequence.model_input(2, 3, 2).shape == (3, 1, 18, 2)


def test_most_salient_keeps_the_highest_summed_scores() -> None:
    weak, middle, strong = person(0.1, 0.1, 0.2), person(0.5, 0.5, 0.5), person(0.9, 0.9, 0.9)
    sequence = PoseSequence(OPENPOSE_18, [[weak, strong, middle], [], [weak]], 640, 480, 30.0)
    kept = sequence.most_salient(2)
    assert [[float(p[0, 2]) for p in persons] for persons in kept.frames] == [
        [pytest.approx(0.9), pytest.approx(0.5)],
        [],
        [pytest.approx(0.2)],
    ]
    assert (kept.width, kept.height, kept.fps, kept.joints) == (640, 480, 30.0, OPENPOSE_18)
    assert len(sequence.frames[0]) == 3  # the original is left as it was
    # written to a clip, most salient first: what a model's person slots take
    clip = kept.to_kinetics("walking", 0)
    assert [s["score"][0] for s in clip["data"][0]["skeleton"]] == [0.9, 0.5]


def test_an_estimators_own_joints_are_refused_until_mapped() -> None:
    sequence = PoseSequence(("a", "b"), [[np.zeros((2, 3), np.float32)]])
    with pytest.raises(StgcnError, match="brought to a layout"):
        sequence.model_input(0, 1, 2)
    coco = PoseSequence(COCO_17, [[person(0.5, 0.5, 1.0, 17)]])
    assert coco.layout == "coco"
    assert coco.to_layout("openpose").model_input(0, 1, 1).shape == (3, 1, 18, 1)


@pytest.mark.parametrize(
    ("total", "window", "stride", "expected"),
    [
        (0, 10, 5, []),
        (7, 10, 5, [(0, 7)]),
        (10, 10, 5, [(0, 10)]),
        (20, 10, 5, [(0, 10), (5, 15), (10, 20)]),
        (23, 10, 5, [(0, 10), (5, 15), (10, 20), (13, 23)]),
        (25, 10, 20, [(0, 10), (15, 25)]),
    ],
)
def test_windows(total: int, window: int, stride: int, expected: list) -> None:
    assert windows(total, window, stride) == expected


def test_windows_refuse_zero() -> None:
    with pytest.raises(StgcnError, match="at least 1"):
        windows(10, 0, 1)


def test_kinetics_clip_round_trip(tmp_path) -> None:
    first = person(0.123456, 0.5, 0.9)
    sequence = PoseSequence(OPENPOSE_18, [[first], [], [first, person(0.1, 0.2, 0.3)]])
    clip = sequence.to_kinetics("waving", 2)
    assert clip["label"] == "waving" and clip["label_index"] == 2
    assert [entry["frame_index"] for entry in clip["data"]] == [0, 2]
    skeleton = clip["data"][0]["skeleton"][0]
    assert len(skeleton["pose"]) == 36 and len(skeleton["score"]) == 18
    assert skeleton["pose"][:2] == [0.1235, 0.5]  # [0, 1] coordinates, 4 digits
    path = write_json(tmp_path / "clips" / "a.json", clip)
    assert json.loads(path.read_text()) == clip
    assert not list(path.parent.glob(".*incomplete"))
    back = read_kinetics(path)
    assert len(back.frames) == 3 and len(back.frames[2]) == 2 and back.frames[1] == []
    np.testing.assert_allclose(back.frames[0][0], np.round(first, 4), atol=1e-6)


def test_write_json_refuses_a_folder(tmp_path) -> None:
    with pytest.raises(StgcnError, match="is a folder"):
        write_json(tmp_path, {})


def test_read_kinetics_refuses_a_wrong_clip(tmp_path) -> None:
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps({"data": [{"frame_index": 0, "skeleton": [{"pose": [1, 2]}]}]}))
    with pytest.raises(StgcnError, match="not a Kinetics-skeleton clip"):
        read_kinetics(path)
