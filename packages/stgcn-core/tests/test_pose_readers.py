"""OpenPose ``*_keypoints.json`` folders (BODY_25 and COCO-18) and COCO keypoint results
files, written here in their real formats, read into [0, 1] skeletons and mapped."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pose_files import HEIGHT, WIDTH, body, write_coco_results, write_openpose

from stgcn.errors import StgcnError
from stgcn.pose import BODY_25, COCO_17, OPENPOSE_18
from stgcn.pose.readers import parse_frame_size, read_coco_results, read_openpose

SIZE = (WIDTH, HEIGHT)


@pytest.mark.parametrize(("joints", "names"), [(25, BODY_25), (18, OPENPOSE_18)])
def test_openpose_folder(tmp_path, joints: int, names: tuple) -> None:
    sequence = read_openpose(write_openpose(tmp_path / "clip", 6, joints), SIZE)
    assert sequence.joints == names and len(sequence.frames) == 6
    assert [len(p) for p in sequence.frames] == [1, 0, 2, 1, 1, 1]
    expected = body(3, joints) / np.array([WIDTH, HEIGHT, 1])
    expected[2] = 0.0
    np.testing.assert_allclose(sequence.frames[3][0], expected, rtol=1e-6)
    mapped = sequence.to_layout("openpose")
    assert mapped.layout == "openpose"
    # right hip: BODY_25 joint 9, COCO-18 joint 8; openpose joint 8 either way
    hip = 9 if joints == 25 else 8
    np.testing.assert_allclose(mapped.frames[0][0][8], sequence.frames[0][0][hip])
    # the x of every joint follows the known shift of 3 pixels a frame
    xs = [mapped.frames[t][0][0, 0] * WIDTH for t in (0, 2, 3, 4, 5)]
    np.testing.assert_allclose(np.diff(xs), [6, 3, 3, 3], atol=1e-3)
    assert mapped.to_layout("coco").frames[0][0].shape == (17, 3)


def test_coco_results_file(tmp_path) -> None:
    sequence = read_coco_results(write_coco_results(tmp_path / "r.json", 5, first_id=7), SIZE)
    assert sequence.joints == COCO_17 and sequence.layout == "coco"
    assert [len(p) for p in sequence.frames] == [1, 0, 1, 1, 1]  # image 8 kept its place
    np.testing.assert_allclose(sequence.frames[4][0][0, :2], (112 / WIDTH, 50 / HEIGHT))
    neck = sequence.to_layout("openpose").frames[0][0][1]
    shoulders = sequence.frames[0][0][[5, 6]]
    np.testing.assert_allclose(neck[:2], shoulders[:, :2].mean(axis=0), rtol=1e-6)
    assert neck[2] == pytest.approx(shoulders[:, 2].min())


def test_coco_image_ids_as_file_names(tmp_path) -> None:
    path = tmp_path / "r.json"
    entry = {"category_id": 1, "keypoints": body(0, 17).reshape(-1).tolist(), "score": 1}
    path.write_text(
        json.dumps(
            [{**entry, "image_id": "frame_000012.jpg"}, {**entry, "image_id": "frame_000010.jpg"}]
        )
    )
    assert [len(p) for p in read_coco_results(path, SIZE).frames] == [1, 0, 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"images": []}', "a JSON list of detections"),
        ('[{"image_id": 1}]', "entry 0 has no image_id and keypoints"),
        ('[{"image_id": 1, "keypoints": [1, 2, 3]}]', "3 keypoint values; COCO-17 has 51"),
        ("[]", "holds no person keypoints"),
    ],
)
def test_bad_coco_results(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(StgcnError, match=message):
        read_coco_results(path, SIZE)


def test_bad_openpose_folders(tmp_path) -> None:
    with pytest.raises(StgcnError, match="OpenPose folder not found"):
        read_openpose(tmp_path / "absent", SIZE)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StgcnError, match="no OpenPose"):
        read_openpose(tmp_path / "empty", SIZE)
    folder = write_openpose(tmp_path / "short", 2)
    (folder / "clip_000000000000_keypoints.json").write_text(
        json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 30}]})
    )
    with pytest.raises(StgcnError, match="has 30 values; BODY_25 has 75, COCO-18 54"):
        read_openpose(folder, SIZE)


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "give the video's --frame-size"), ("640", "WIDTHxHEIGHT"), ("0x5", "WIDTHxHEIGHT")],
)
def test_frame_size(text, message: str) -> None:
    with pytest.raises(StgcnError, match=message):
        parse_frame_size(text, "--openpose")
    assert parse_frame_size("1280x720", "x") == (1280, 720)
