"""Skeletons people already have: OpenPose ``*_keypoints.json`` folders (BODY_25 or
COCO-18) and COCO keypoint results files (MMPose, Detectron2, YOLO-pose).

Both hold pixel coordinates and neither records the frame size, so the caller gives it
(``--frame-size WIDTHxHEIGHT``); the readers divide by it to reach the [0, 1]
coordinates every other part of :mod:`stgcn.pose` works in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError, first_line
from stgcn.pose.joints import BODY_25, COCO_17, OPENPOSE_18
from stgcn.pose.skeletons import MAX_FRAMES, PoseSequence

#: OpenPose's file names: ``<video>_<frame, 12 digits>_keypoints.json``
OPENPOSE_NAME = re.compile(r"^(?P<video>.*?)_?(?P<frame>\d+)_keypoints\.json$")
#: joint sets by the length of ``pose_keypoints_2d`` (x, y, c per joint)
OPENPOSE_SETS = {3 * len(BODY_25): BODY_25, 3 * len(OPENPOSE_18): OPENPOSE_18}


def parse_frame_size(text: str | None, what: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels, required where files hold pixel coordinates."""
    if not text:
        raise StgcnError(
            f"{what} holds pixel coordinates: give the video's --frame-size WIDTHxHEIGHT"
        )
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or 0 in (int(match[1]), int(match[2])):
        raise StgcnError(f"--frame-size expects WIDTHxHEIGHT such as 1280x720, got {text!r}")
    return int(match[1]), int(match[2])


def _normalised(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(joints, 3)`` pixels and scores to fractions of the frame, undetected joints 0."""
    values = values.astype(np.float32).copy()
    values[:, 2] = np.clip(values[:, 2], 0.0, 1.0)
    values[:, 0] /= width
    values[:, 1] /= height
    values[values[:, 2] <= 0] = 0.0
    if not np.isfinite(values).all():
        raise ValueError("non-finite keypoints")
    return values


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:  # RecursionError: nesting too deep
        raise StgcnError(f"{path} is not valid JSON ({first_line(error)})") from None


def _check_span(where: Path, what: str, low: int, high: int) -> None:
    """Frames ``low`` to ``high`` are at most :data:`MAX_FRAMES`, or one line says why not."""
    if high - low >= MAX_FRAMES:
        raise StgcnError(
            f"{where}: the {what} span {high - low + 1} frames (from {low} to {high}); "
            f"a clip may have at most {MAX_FRAMES}"
        )


def read_openpose(folder: str | Path, frame_size: tuple[int, int]) -> PoseSequence:
    """One video's OpenPose output folder: frame ``f`` is the file numbered ``f``
    (numbers counted from the lowest present); every person of a frame is kept."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StgcnError(f"OpenPose folder not found: {folder}")
    files = []
    for path in folder.iterdir():
        match = OPENPOSE_NAME.match(path.name)
        if match and path.is_file():
            files.append((int(match["frame"]), path))
    if not files:
        raise StgcnError(f"{folder} holds no OpenPose *_keypoints.json files")
    files.sort()
    first = files[0][0]
    _check_span(folder, "frame numbers", first, files[-1][0])
    width, height = frame_size
    joints: tuple[str, ...] | None = None
    frames: list[list[np.ndarray]] = [[] for _ in range(files[-1][0] - first + 1)]
    for number, path in files:
        document = _load(path)
        people = document.get("people") if isinstance(document, dict) else None
        if not isinstance(people, list):
            raise StgcnError(f'{path}: no "people" list; not an OpenPose keypoints file')
        for person in people:
            flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
            if not isinstance(flat, list) or len(flat) not in OPENPOSE_SETS:
                size = len(flat) if isinstance(flat, list) else "no"
                raise StgcnError(
                    f"{path}: pose_keypoints_2d has {size} values; BODY_25 has 75, COCO-18 54"
                )
            found = OPENPOSE_SETS[len(flat)]
            if joints is not None and found != joints:
                raise StgcnError(f"{path}: BODY_25 and COCO-18 skeletons mixed in one folder")
            joints = found
            try:
                values = _normalised(
                    np.asarray(flat, dtype=np.float64).reshape(-1, 3), width, height
                )
            except (ValueError, TypeError, OverflowError) as error:
                raise StgcnError(f"{path}: bad keypoints ({first_line(error)})") from None
            if values[:, 2].any():
                frames[number - first].append(values)
    return PoseSequence(joints or BODY_25, frames, width, height)


def _frame_numbers(ids: list[Any]) -> dict[Any, int]:
    """Frame of each image id: whole numbers (or digit strings) count from the lowest,
    so that frames without a detection keep their place; other ids go in sorted order."""

    def number(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            digits = re.findall(r"\d+", Path(value).stem)
            # a run of more digits than any frame number is not one (nor convertible)
            return int(digits[-1]) if digits and len(digits[-1]) <= 18 else None
        return None

    numbers = {value: number(value) for value in ids}
    whole = {value: n for value, n in numbers.items() if n is not None}
    if len(whole) == len(numbers):
        low = min(whole.values())
        return {value: n - low for value, n in whole.items()}
    return {value: index for index, value in enumerate(sorted(ids, key=str))}


def read_coco_results(path: str | Path, frame_size: tuple[int, int]) -> PoseSequence:
    """A COCO keypoint results file, ``[{"image_id", "category_id": 1, "keypoints":
    [x, y, v] * 17, "score"}]``, one image a frame; a result's ``v`` is its keypoint score
    (clipped to [0, 1])."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"COCO results file not found: {path}")
    document = _load(path)
    if not isinstance(document, list):
        raise StgcnError(f"{path}: a COCO results file is a JSON list of detections")
    width, height = frame_size
    found: list[tuple[Any, np.ndarray]] = []
    for index, entry in enumerate(document):
        if not isinstance(entry, dict) or "image_id" not in entry or "keypoints" not in entry:
            raise StgcnError(f"{path}: entry {index} has no image_id and keypoints")
        if entry.get("category_id", 1) != 1:
            continue  # keypoints are for persons (category 1) only
        keypoints = entry["keypoints"]
        if not isinstance(keypoints, list) or len(keypoints) != 3 * len(COCO_17):
            size = len(keypoints) if isinstance(keypoints, list) else "no"
            raise StgcnError(f"{path}: entry {index} has {size} keypoint values; COCO-17 has 51")
        try:
            values = _normalised(
                np.asarray(keypoints, dtype=np.float64).reshape(-1, 3), width, height
            )
        except (ValueError, TypeError, OverflowError) as error:  # Overflow: a huge int
            raise StgcnError(
                f"{path}: entry {index}: bad keypoints ({first_line(error)})"
            ) from None
        image = entry["image_id"]
        if isinstance(image, list | dict):
            raise StgcnError(f"{path}: entry {index} has image_id {image!r}")
        found.append((image, values))
    if not found:
        raise StgcnError(f"{path} holds no person keypoints")
    numbers = _frame_numbers([image for image, _ in found])
    _check_span(path, "image ids", 0, max(numbers.values()))
    frames: list[list[np.ndarray]] = [[] for _ in range(max(numbers.values()) + 1)]
    for image, values in found:
        if values[:, 2].any():
            frames[numbers[image]].append(values)
    return PoseSequence(COCO_17, frames, width, height)
