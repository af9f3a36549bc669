"""Property tests of the skeleton files people bring: OpenPose ``*_keypoints.json``
folders, COCO keypoint results files and Kinetics-skeleton clips. Whatever a file holds
(odd numbers, wrong types, missing keys, far-apart or negative frame numbers, bytes cut
off or flipped), reading it gives skeletons of finite values or one StgcnError line.

Their settings and strategies are :mod:`stgcn.testing.properties`.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pose_files import HEIGHT, WIDTH, write_coco_results, write_openpose

from stgcn.errors import StgcnError
from stgcn.pose.readers import parse_frame_size, read_coco_results, read_openpose
from stgcn.pose.skeletons import PoseSequence, read_kinetics
from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import (
    PROPERTY,
    json_documents,
    lists_of,
    mutated,
    mutations,
    numbers,
    refused_in_one_line,
    values,
)


def keypoints(count: int) -> st.SearchStrategy[list[Any]]:
    """``count`` values, mostly plausible pixels and scores, sometimes anything."""
    return lists_of(count, st.floats(min_value=0, max_value=1000))


def _check(sequence: PoseSequence, scores_clipped: bool = True) -> None:
    """A sequence of finite skeletons of its joint count; the readers of pixel files
    clip scores to [0, 1], a Kinetics clip's are kept as the file has them."""
    assert isinstance(sequence, PoseSequence)
    for persons in sequence.frames:
        for person in persons:
            assert person.shape == (len(sequence.joints), 3)
            assert np.isfinite(person).all()
            if scores_clipped:
                assert (person[:, 2] >= 0).all() and (person[:, 2] <= 1).all()


openpose_people = st.lists(
    st.fixed_dictionaries(
        {"pose_keypoints_2d": st.sampled_from([75, 54, 51, 0]).flatmap(keypoints)},
        optional={"person_id": st.just([-1])},
    )
    | json_documents,
    max_size=3,
)
openpose_documents = st.fixed_dictionaries({"people": openpose_people}) | json_documents


@settings(PROPERTY, max_examples=40)
@given(
    frames=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40) | st.sampled_from([10**6, 10**13]),
            openpose_documents,
        ),
        min_size=1,
        max_size=4,
    )
)
@example(frames=[(0, {"people": []}), (10**13, {"people": []})]).via("far-apart frame numbers")
@example(frames=[(0, {"people": [{"pose_keypoints_2d": [10**400] * 75}]})]).via("huge int")
def test_an_openpose_folder_reads_or_is_refused_in_one_line(
    frames: list[tuple[int, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for index, (number, document) in enumerate(frames):
            name = f"clip{index}_{number:012d}_keypoints.json"
            (Path(folder) / name).write_text(json.dumps(document), encoding="utf-8")
        try:
            sequence = read_openpose(folder, (WIDTH, HEIGHT))
        except StgcnError as error:
            refused_in_one_line(error)
            return
    _check(sequence)
    assert len(sequence.frames) >= 1


coco_entries = st.lists(
    st.fixed_dictionaries(
        {
            "image_id": st.integers(min_value=-5, max_value=30)
            | st.sampled_from([10**6, 10**15])
            | st.text(max_size=6)
            | st.sampled_from(["frame_000012.jpg", "img7.png", "x"])
            | json_documents,
            "keypoints": st.sampled_from([51, 51, 54, 0]).flatmap(keypoints),
        },
        optional={"category_id": st.sampled_from([1, 1, 2, "1"]), "score": numbers},
    )
    | json_documents,
    max_size=5,
)


@PROPERTY
@given(document=coco_entries | json_documents)
@example(
    document=[{"image_id": 0, "keypoints": [0] * 51}, {"image_id": 10**14, "keypoints": [0] * 51}]
).via("far-apart image ids")
@example(document=[{"image_id": 1, "keypoints": [10**400] * 51}]).via("an int too large")
@example(document=[{"image_id": "1" * 5000, "keypoints": [0] * 51}]).via("5000 digits")
def test_a_coco_results_file_reads_or_is_refused_in_one_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        try:
            sequence = read_coco_results(path, (WIDTH, HEIGHT))
        except StgcnError as error:
            refused_in_one_line(error)
            return
    _check(sequence)


kinetics_clips = st.fixed_dictionaries(
    {
        "data": st.lists(
            st.fixed_dictionaries(
                {
                    "frame_index": st.integers(min_value=-3, max_value=40)
                    | st.sampled_from([10**6, 10**13])
                    | values,
                    "skeleton": st.lists(
                        st.fixed_dictionaries(
                            {
                                "pose": st.sampled_from([36, 36, 34]).flatmap(keypoints),
                                "score": st.sampled_from([18, 18, 17]).flatmap(keypoints),
                            }
                        )
                        | json_documents,
                        max_size=2,
                    ),
                }
            )
            | json_documents,
            max_size=4,
        )
    },
    optional={"label": st.text(max_size=5), "label_index": values},
)


@PROPERTY
@given(document=kinetics_clips | json_documents)
@example(document={"data": [{"frame_index": 10**13, "skeleton": []}]}).via("a far frame")
@example(
    document={"data": [{"frame_index": -1, "skeleton": [{"pose": [0] * 36, "score": [1] * 18}]}]}
).via("a negative frame index")
@example(
    document={
        "data": [{"frame_index": 0, "skeleton": [{"pose": [10**400] * 36, "score": [1] * 18}]}]
    }
).via("an int too large for a float")
@example(document="[" * 50_000 + "]" * 50_000).via("nesting deeper than the parser recurses")
def test_a_kinetics_clip_reads_or_is_refused_in_one_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.json"
        text = document if isinstance(document, str) and document[:1] == "[" else None
        path.write_text(text or json.dumps(document), encoding="utf-8")
        try:
            sequence = read_kinetics(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    _check(sequence, scores_clipped=False)


@PROPERTY
@given(kind=st.sampled_from(["openpose", "coco", "kinetics"]), mutation=mutations)
@example(kind="coco", mutation=(0, [])).via("an empty file")
def test_a_cut_or_corrupted_file_reads_or_is_refused_in_one_line(
    kind: str, mutation: tuple[int, list[tuple[int, int]]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if kind == "openpose":
            clip = write_openpose(root / "clip", 3, joints=25)
            target = sorted(clip.iterdir())[2]
        elif kind == "coco":
            target = write_coco_results(root / "results.json", 3)
        else:
            target = root / "clip.json"
            sequence = read_coco_results(write_coco_results(root / "r.json", 3), (WIDTH, HEIGHT))
            target.write_text(json.dumps(sequence.to_layout("openpose").to_kinetics("a", 0)))
        target.write_bytes(mutated(target.read_bytes(), *mutation))
        try:
            if kind == "openpose":
                result = read_openpose(target.parent, (WIDTH, HEIGHT))
            elif kind == "coco":
                result = read_coco_results(target, (WIDTH, HEIGHT))
            else:
                result = read_kinetics(target)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    _check(result)


@PROPERTY
@given(
    text=st.text(max_size=14) | st.from_regex(r"\s*\d{1,30}\s*[xX]\s*\d{1,30}\s*", fullmatch=True)
)
def test_a_frame_size_is_two_positive_whole_numbers_or_refused(text: str) -> None:
    try:
        width, height = parse_frame_size(text, "--openpose")
    except StgcnError as error:
        refused_in_one_line(error)
        return
    assert width > 0 and height > 0


@settings(PROPERTY, max_examples=8)
@given(document=coco_entries)
@example(document=[{"image_id": 1, "keypoints": [10**400] * 51}]).via("an int too large")
def test_extract_skips_a_bad_results_file_with_its_reason_and_keeps_no_half_clip(
    document: Any,
) -> None:
    """Through the real ``stgcn data extract``: a clip that cannot be read is skipped
    with the reader's one-line reason (never an exception's name), and a clip that is
    written is a whole Kinetics-skeleton file."""
    with tempfile.TemporaryDirectory() as folder:
        root, output = Path(folder) / "in", Path(folder) / "out"
        (root / "wave").mkdir(parents=True)
        (root / "wave" / "one.json").write_text(json.dumps(document), encoding="utf-8")
        ran = stgcn_in_process(
            "data",
            "extract",
            "--coco-results",
            str(root),
            "--output",
            str(output),
            "--frame-size",
            f"{WIDTH}x{HEIGHT}",
            "--workers",
            "1",
            "--val-ratio",
            "0",
        )
        lines = ran.stderr.strip().splitlines()
        assert all(line.startswith("stgcn: ") or "extract" in line for line in lines), lines
        assert not any(re.search(r"skipped \S+: [A-Za-z]+(Error|Exception):", x) for x in lines)
        clips = sorted((output / "kinetics_train").glob("*.json"))
        if ran.returncode != 0:
            assert lines[-1].startswith("stgcn: error: "), lines
            assert clips == []
        for clip in clips:
            _check(read_kinetics(clip))
        assert not list(output.rglob("*.incomplete"))
