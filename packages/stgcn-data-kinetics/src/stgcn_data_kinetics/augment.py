"""The training augmentations of the reference Kinetics recipe, on one clip ``(C, T, V, M)``.

Each takes an explicit ``numpy.random.Generator`` so that a run seeded through torch
draws the same windows and moves again (the dataset derives one generator per item
from torch's generator). All of them are whole-array numpy operations: no loop over
frames, so that a later batched version changes the axes, not the arithmetic.
"""

from __future__ import annotations

import numpy as np

#: Candidates of the reference's ``random_move``: drawn once for each end of the clip.
ANGLES_DEGREES = (-10.0, -5.0, 0.0, 5.0, 10.0)
SCALES = (0.9, 1.0, 1.1)
SHIFTS = (-0.2, -0.1, 0.0, 0.1, 0.2)


def pad_to(data: np.ndarray, size: int, offset: int = 0) -> np.ndarray:
    """``data`` placed at frame ``offset`` of ``size`` zero frames (unchanged when not shorter)."""
    frames = data.shape[1]
    if frames >= size:
        return data
    padded = np.zeros((data.shape[0], size, *data.shape[2:]), dtype=data.dtype)
    padded[:, offset : offset + frames] = data
    return padded


def random_choose(data: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of ``window`` frames; a shorter clip is padded at a random offset.

    The window is drawn over all frames, trailing empty ones included, as the reference does.
    """
    frames = data.shape[1]
    if frames == window:
        return data
    if frames < window:
        return pad_to(data, window, int(rng.integers(0, window - frames, endpoint=True)))
    begin = int(rng.integers(0, frames - window, endpoint=True))
    return data[:, begin : begin + window]


def random_shift(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The span from the first to the last non-empty frame, moved to a random offset."""
    frames = data.shape[1]
    valid = np.flatnonzero((data != 0).any(axis=(0, 2, 3)))
    if valid.size == 0:
        return data
    begin, end = int(valid[0]), int(valid[-1]) + 1
    offset = int(rng.integers(0, frames - (end - begin), endpoint=True))
    shifted = np.zeros_like(data)
    shifted[:, offset : offset + end - begin] = data[:, begin:end]
    return shifted


def random_move(data: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random rotation, scale and shift at each end of the clip, linearly interpolated
    over the frames in between and applied to x and y of every joint.

    As in the reference, undetected joints (score 0, x = y = 0) move with the rest.
    """
    frames = data.shape[1]
    angle = np.deg2rad(rng.choice(ANGLES_DEGREES, 2))
    scale = rng.choice(SCALES, 2)
    shift = rng.choice(SHIFTS, (2, 2))  # (end, axis)
    angle = np.linspace(angle[0], angle[1], frames)
    scale = np.linspace(scale[0], scale[1], frames)
    shift_x, shift_y = (
        np.linspace(shift[0, 0], shift[1, 0], frames),
        np.linspace(shift[0, 1], shift[1, 1], frames),
    )
    cos = (np.cos(angle) * scale)[:, None, None]
    sin = (np.sin(angle) * scale)[:, None, None]
    x, y = data[0].astype(np.float64), data[1].astype(np.float64)
    moved = data.copy()
    moved[0] = cos * x - sin * y + shift_x[:, None, None]
    moved[1] = sin * x + cos * y + shift_y[:, None, None]
    return moved
