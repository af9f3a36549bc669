"""Small synthetic ``.skeleton`` files in the release's format, for tests and trials.

The real set cannot be downloaded everywhere; these files have the same structure
(counts, body lines, 12 values per joint) with a moving skeleton whose motion depends
on the action, so a model can learn from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from stgcn_data_ntu.skeleton_file import BODY_VALUES, JOINT_VALUES, NUM_JOINT


def sample_name(setup: int, camera: int, performer: int, replication: int, action: int) -> str:
    return f"S{setup:03d}C{camera:03d}P{performer:03d}R{replication:03d}A{action:03d}"


def skeleton_text(frames: list[list[np.ndarray]]) -> str:
    """The file text for ``frames``: per frame a list of bodies, each (25, 3) x, y, z."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for number, joints in enumerate(bodies):
            body = [72057594037930000 + number] + [0] * (BODY_VALUES - 3) + [0.1, 0.2]
            lines.append(" ".join(str(value) for value in body[:BODY_VALUES]))
            lines.append(str(NUM_JOINT))
            for x, y, z in joints:
                rest = [0.0] * (JOINT_VALUES - 4) + [2]
                lines.append(" ".join(f"{value:.6g}" for value in (x, y, z, *rest)))
    return "\n".join(lines) + "\n"


def moving_skeleton(
    action: int, frames: int, bodies: int, rng: np.random.Generator
) -> list[list[np.ndarray]]:
    base = rng.normal(0.0, 0.3, (NUM_JOINT, 3))
    speed = 0.05 * action
    clip = []
    for frame in range(frames):
        phase = np.sin(speed * frame + np.arange(NUM_JOINT)[:, None] * 0.1)
        clip.append([base + phase * (0.1 + 0.02 * body) for body in range(bodies)])
    return clip


def write_sample(
    folder: Path, name: str, frames: int, bodies: int, seed: int, action: int | None = None
) -> Path:
    rng = np.random.default_rng(seed)
    action = action if action is not None else int(name[-3:])
    path = folder / f"{name}.skeleton"
    path.write_text(skeleton_text(moving_skeleton(action, frames, bodies, rng)))
    return path


def make_raw_folder(
    folder: str | Path,
    performers: Iterable[int] = (1, 3),
    cameras: Iterable[int] = (1, 2),
    actions: Iterable[int] = (1, 2, 3),
    frames: int = 12,
    seed: int = 0,
) -> Path:
    """One file per (performer, camera, action), with 1 to 3 bodies, in ``folder``."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    index = 0
    for performer in performers:
        for camera in cameras:
            for action in actions:
                name = sample_name(1, camera, performer, 1, action)
                write_sample(root, name, frames + index % 3, 1 + index % 3, seed + index)
                index += 1
    return root
