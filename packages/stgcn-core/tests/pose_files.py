"""Skeleton files in the real formats of OpenPose and of COCO keypoint results, written
by the tests (REFERENCE §9), with a person whose joints move by a known amount."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 640, 480


def body(frame: int, joints: int, shift: float = 3.0) -> np.ndarray:
    """``(joints, 3)`` pixels and scores: joint j at x = 100 + 10 j + shift * frame,
    y = 50 + 20 j, score 0.5 + j / 100; joint 2 undetected (all zero) on odd frames."""
    values = np.zeros((joints, 3))
    for j in range(joints):
        values[j] = (100 + 10 * j + shift * frame, 50 + 20 * j, 0.5 + j / 100)
    if frame % 2:
        values[2] = 0.0
    return values


def write_openpose(folder: Path, frames: int, joints: int = 25, name: str = "clip") -> Path:
    """OpenPose's ``--write_json`` output: one file per frame; frame 1 has nobody, frame 2
    has a second, fainter person."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame in range(frames):
        people = [] if frame == 1 else [body(frame, joints)]
        if frame == 2:
            people.append(body(frame, joints) * np.array([1, 1, 0.5]))
        document = {
            "version": 1.3,
            "people": [
                {
                    "person_id": [-1],
                    "pose_keypoints_2d": p.reshape(-1).tolist(),
                    "face_keypoints_2d": [],
                    "hand_left_keypoints_2d": [],
                }
                for p in people
            ],
        }
        (folder / f"{name}_{frame:012d}_keypoints.json").write_text(json.dumps(document))
    return folder


def write_coco_results(path: Path, frames: int, first_id: int = 1) -> Path:
    """A results file as MMPose or Detectron2 write it: image ids counting from
    ``first_id``, no detection for the second image."""
    results = [
        {
            "image_id": first_id + frame,
            "category_id": 1,
            "keypoints": body(frame, 17).reshape(-1).tolist(),
            "score": 0.9,
        }
        for frame in range(frames)
        if frame != 1
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results))
    return path
