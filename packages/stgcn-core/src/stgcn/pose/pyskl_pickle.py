"""What ``stgcn data extract`` writes for any layout: a PYSKL annotation pickle.

The Kinetics-skeleton JSON tree that ``extract`` writes is the reference's format, and
the ``kinetics-json`` dataset reads OpenPose's 18 joints from it only; a hand (21
joints) or a body with its hands (75) needs a format that holds any skeleton. PYSKL's
annotation pickle (also mmaction2's) is that format, and the ``pyskl`` dataset of
stgcn-data-pyskl trains on it: ``{"split": {"train": [...], "val": [...]},
"annotations": [{"frame_dir", "label", "total_frames", "img_shape", "original_shape",
"keypoint" (M, T, V, 2) pixels, "keypoint_score" (M, T, V)}]}``, with the class names
beside it (:data:`CLASS_NAMES`).

Each clip is kept beside its JSON clip as a small ``.npz`` (written first, so that a
clip whose JSON exists has one), which makes the extraction resumable as before; the
pickle is assembled from them at the end of every run. A clip's persons are *tracks*
(:mod:`stgcn.pose.tracking`): slot ``m`` holds one person, or one hand, through the
whole clip, the most salient track (highest summed score) first, as a model's person
slots expect; the JSON clip lists each frame's people in salience order instead.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.pose.skeletons import PoseSequence
from stgcn.pose.tracking import track_frames

#: the pickle's name in an extracted folder
PICKLE = "pyskl_annotations.pkl"
#: the folder of the per-clip arrays it is assembled from
CLIPS = "pyskl_clips"
#: the class names, one a line, by label (the pickle holds labels only): the ``pyskl``
#: dataset's ``classes=`` option reads it
CLASS_NAMES = "classes.txt"


def tracked_keypoints(skeletons: PoseSequence, persons: int) -> tuple[np.ndarray, np.ndarray]:
    """``(keypoint (M, T, V, 2) in [0, 1], keypoint_score (M, T, V))`` of the ``persons``
    most salient tracks, each in its slot through the clip (zeros where it is absent)."""
    frames = skeletons.frames
    joints = len(skeletons.joints)
    tracked = track_frames(frames, persons)
    salience: dict[int, float] = {}
    for people in tracked:
        for person in people:
            salience[person.track] = salience.get(person.track, 0.0) + person.salience
    ranked = sorted(salience, key=lambda track: (-salience[track], track))[:persons]
    slots = {track: slot for slot, track in enumerate(ranked)}
    values = np.zeros((len(ranked), len(frames), joints, 3), dtype=np.float32)
    for row, people in enumerate(tracked):
        for person in people:
            if person.track in slots:
                values[slots[person.track], row] = person.joints
    return values[..., :2], values[..., 2]


def save_clip(path: Path, skeletons: PoseSequence, persons: int) -> None:
    """One clip's tracked keypoints, in pixels where the frame size is known, written
    under a temporary name and renamed."""
    keypoint, score = tracked_keypoints(skeletons, persons)
    width, height = skeletons.width or 1, skeletons.height or 1
    keypoint = keypoint * np.array([width, height], dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.incomplete.npz")
    np.savez(
        temporary,
        keypoint=keypoint,
        keypoint_score=score,
        img_shape=np.array([height, width]),
        total_frames=np.array(len(skeletons.frames)),
    )
    os.replace(temporary, path)


def annotation(path: Path, frame_dir: str, label: int) -> dict[str, Any]:
    """The annotation of the clip saved at ``path``, as PYSKL writes one."""
    with np.load(path) as arrays:
        height, width = (int(v) for v in arrays["img_shape"])
        return {
            "frame_dir": frame_dir,
            "label": int(label),
            "total_frames": int(arrays["total_frames"]),
            "img_shape": (height, width),
            "original_shape": (height, width),
            "keypoint": arrays["keypoint"].astype(np.float32),
            "keypoint_score": arrays["keypoint_score"].astype(np.float32),
        }


def write_pickle(
    path: Path, annotations: Iterable[Mapping[str, Any]], splits: Mapping[str, Sequence[str]]
) -> Path:
    """The annotation pickle: ``{"split": splits, "annotations": [...]}``, written under
    a temporary name and renamed."""
    document = {
        "split": {name: list(clips) for name, clips in splits.items()},
        "annotations": [dict(item) for item in annotations],
    }
    temporary = path.with_name(f".{path.name}.incomplete")
    with temporary.open("wb") as stream:
        pickle.dump(document, stream, protocol=4)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    return path
