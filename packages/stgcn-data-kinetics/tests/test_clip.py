"""One JSON clip to an array, checked value by value against numbers worked out by hand."""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest
from kinetics_helpers import reference_conversion
from stgcn_data_kinetics.clip import ClipError, ClipShape, clip_array, read_clip
from stgcn_data_kinetics.sample_trees import clip_document, random_clip, skeleton

SMALL = ClipShape(max_frame=4, num_person_in=5, num_person_out=2)


def flat(value: float, score: float) -> dict:
    """A person whose every joint sits at (value, value + 0.25) with the same score."""
    return skeleton([value, value + 0.25] * 18, [score] * 18)


def test_more_than_five_people_keeps_the_best_two_of_the_first_five() -> None:
    # scores of the 7 detections; the 6th and 7th are best but beyond num_person_in
    people = [
        flat(0.1, 0.2),
        flat(0.2, 0.9),
        flat(0.3, 0.5),
        flat(0.4, 0.1),
        flat(0.5, 0.6),
        flat(0.6, 1.0),
        flat(0.7, 0.95),
    ]
    data = clip_array(clip_document({0: people}, 3), SMALL)
    assert data.shape == (3, 4, 18, 2) and data.dtype == np.float32
    # slot 0: the detection scored 0.9 at x 0.2, y 0.45; slot 1: scored 0.6 at x 0.5, y 0.75
    np.testing.assert_array_equal(data[0, 0, :, 0], np.float32(0.2 - 0.5))
    np.testing.assert_array_equal(data[1, 0, :, 0], np.float32(0.45 - 0.5))
    np.testing.assert_array_equal(data[2, 0, :, 0], np.float32(0.9))
    np.testing.assert_array_equal(data[0, 0, :, 1], np.float32(0.5 - 0.5))
    np.testing.assert_array_equal(data[1, 0, :, 1], np.float32(0.75 - 0.5))
    np.testing.assert_array_equal(data[2, 0, :, 1], np.float32(0.6))
    assert not data[:, 1:].any(), "only frame 0 has detections"


def test_zero_scores_gaps_short_clips_and_frames_past_the_end() -> None:
    pose = [v for j in range(18) for v in (0.1 + 0.01 * j, 0.6 + 0.02 * j)]
    score = [0.5] * 18
    score[3] = 0.0  # joint 3 missed: its detected position is discarded
    frames = {
        2: [skeleton(pose, score)],  # frames 0 and 1 missing: a gap before it
        6: [flat(0.3, 0.8)],  # past max_frame 4: dropped
    }
    data = clip_array(clip_document(frames, 0), SMALL)
    assert not data[:, :2].any() and not data[:, 3].any(), "gap and short-clip frames stay zero"
    x, y, s = data[0, 2, :, 0], data[1, 2, :, 0], data[2, 2, :, 0]
    for joint in range(18):
        if joint == 3:
            assert (x[joint], y[joint], s[joint]) == (0.0, 0.0, 0.0)
        else:
            assert x[joint] == np.float32(0.1 + 0.01 * joint - 0.5)
            assert y[joint] == np.float32(0.6 + 0.02 * joint - 0.5)
            assert s[joint] == np.float32(0.5)
    assert not data[:, 2, :, 1].any(), "the second slot of a one-person frame is empty"


def test_persons_sorted_per_frame_and_ties_keep_detection_order() -> None:
    frames = {
        0: [flat(0.1, 0.3), flat(0.2, 0.7)],  # swapped: the second is surer
        1: [flat(0.3, 0.4), flat(0.4, 0.4)],  # a tie: detection order kept
        2: [skeleton([0.9] * 36, [0.0] * 18), flat(0.5, 0.2)],  # all joints missed
    }
    data = clip_array(clip_document(frames, 0), SMALL)
    assert data[0, 0, 0, 0] == np.float32(0.2 - 0.5) and data[0, 0, 0, 1] == np.float32(-0.4)
    assert data[0, 1, 0, 0] == np.float32(0.3 - 0.5) and data[0, 1, 0, 1] == np.float32(-0.1)
    assert data[0, 2, 0, 0] == np.float32(0.5 - 0.5) and data[2, 2, 0, 0] == np.float32(0.2)
    assert not data[:, 2, :, 1].any(), "a person with every joint missed is all zeros"


def test_empty_clip_is_all_zeros() -> None:
    data = clip_array(clip_document({}, 0))
    assert data.shape == (3, 300, 18, 2) and not data.any()


def test_random_clips_match_the_reference_steps() -> None:
    rng = np.random.default_rng(5)
    for _ in range(10):
        document = random_clip(rng, frames=30, label_index=1, max_persons=8)
        for shape in (ClipShape(30, 5, 2), ClipShape(20, 3, 1), ClipShape(40, 6, 3)):
            expected = reference_conversion(document, *astuple(shape))
            np.testing.assert_array_equal(clip_array(document, shape), expected)


def test_read_clip_returns_data_and_label(tmp_path: Path) -> None:
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(clip_document({1: [flat(0.25, 1.0)]}, 17)))
    clip = read_clip(path)
    assert clip.label_index == 17
    assert clip.data.shape == (3, 300, 18, 2) and clip.data[0, 1, 0, 0] == np.float32(-0.25)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"label": "x"}, "no 'data' list"),
        ({"data": [{"frame_index": -1, "skeleton": []}]}, "frame_index -1"),
        ({"data": [{"frame_index": 1.5, "skeleton": []}]}, "frame_index 1.5"),
        ({"data": [{"frame_index": 0, "skeleton": {}}]}, "no 'skeleton' list"),
        ({"data": [{"frame_index": 0, "skeleton": [{"pose": [0.1] * 34}]}]}, "34 pose values"),
        (
            {"data": [{"frame_index": 0, "skeleton": [{"pose": [0.1] * 36, "score": [1] * 17}]}]},
            "17 score values",
        ),
        (
            {"data": [{"frame_index": 0, "skeleton": [{"pose": ["a"] * 36, "score": [1] * 18}]}]},
            "other than numbers",
        ),
    ],
)
def test_malformed_clips_are_refused_with_the_file_named(document: dict, problem: str) -> None:
    with pytest.raises(ClipError, match=r"^some/clip\.json: ") as caught:
        clip_array(document, source="some/clip.json")
    assert problem in str(caught.value)


def test_unreadable_files_are_clip_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [')
    with pytest.raises(ClipError, match="not valid JSON"):
        read_clip(broken)
    with pytest.raises(ClipError, match="not found"):
        read_clip(tmp_path / "missing.json")
    nan = tmp_path / "nan.json"
    nan.write_text(
        '{"data": [{"frame_index": 0, "skeleton": [{"pose": [NaN'
        + ", 0.1" * 35
        + '], "score": ['
        + ", ".join(["1"] * 18)
        + "]}]}]}"
    )
    with pytest.raises(ClipError, match="non-finite"):
        read_clip(nan)
