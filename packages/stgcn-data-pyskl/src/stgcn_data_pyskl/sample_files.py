"""Annotation files generated like the real ones, for tests, benchmarks and trying it out.

Each class moves its skeleton in its own way (a class-dependent drift and a wave of one
joint), so that a small model learns the classes within a few epochs. 2D files hold
pixel coordinates with keypoint_score and img_shape, as HRNet's do; 3D files metres.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def make_annotations(
    clips: int,
    *,
    dims: int = 2,
    joints: int = 17,
    num_class: int = 4,
    frames: tuple[int, int] = (20, 60),
    max_persons: int = 3,
    splits: Sequence[str] = ("xsub",),
    val_share: float = 0.3,
    seed: int = 0,
) -> dict[str, Any]:
    """The dict a PYSKL annotation pickle holds, with ``clips`` annotations."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(joints, dims)).astype(np.float32)
    annotations = []
    for index in range(clips):
        label = index % num_class
        length = int(rng.integers(frames[0], frames[1] + 1))
        persons = int(rng.integers(1, max_persons + 1))
        t = np.linspace(0, 1, length, dtype=np.float32)[None, :, None, None]
        drift = np.zeros(dims, np.float32)
        drift[label % dims] = 0.5 + label * 0.3
        kp = (
            base[None, None]
            + t * drift
            + rng.normal(scale=0.05, size=(persons, length, joints, dims))
        )
        kp[:, :, label % joints, 0] += np.sin(t[0, :, 0, 0] * (3 + label) * np.pi)
        kp = kp.astype(np.float32)
        ann = {"frame_dir": f"clip{index:06d}", "label": label, "total_frames": length}
        if dims == 2:
            height, width = 1080, 1920
            kp = (kp * 200 + np.array([width / 2, height / 2], np.float32)).astype(np.float32)
            ann["keypoint"] = kp
            ann["keypoint_score"] = rng.uniform(0.3, 1.0, size=kp.shape[:3]).astype(np.float16)
            ann["img_shape"] = (height, width)
            ann["original_shape"] = (height, width)
        else:
            ann["keypoint"] = kp
        annotations.append(ann)
    names = [ann["frame_dir"] for ann in annotations]
    split = {}
    for scheme in splits:
        order = rng.permutation(len(names))
        cut = max(1, round(len(names) * val_share))
        split[f"{scheme}_val"] = [names[i] for i in sorted(order[:cut])]
        split[f"{scheme}_train"] = [names[i] for i in sorted(order[cut:])]
    return {"split": split, "annotations": annotations}


def write_annotation_file(path: str | Path, clips: int = 40, **kwargs: Any) -> Path:
    """:func:`make_annotations` pickled at ``path`` (protocol 4, as mmcv writes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        pickle.dump(make_annotations(clips, **kwargs), stream, protocol=4)
    return path
