"""How joint coordinates become the numbers a model sees: one named convention per
dataset, applied the same way by every input path.

A model learns the values its training data gave it. A PYSKL pickle normalised to
[-1, 1] and a video normalised to [-0.5, 0.5] are the same skeleton at two scales, and
a model trained on one sees half- or double-sized people in the other. So the dataset
declares its convention (``Dataset.coordinates``), the checkpoint records it with the
data facts, and every path that turns keypoints into model input (the datasets'
readers, ``predict --video`` and pose files, ``--stream``) calls
:func:`normalise_keypoints` with it.

The conventions:

``reference``
    The reference implementation's Kinetics conversion: x / width - 0.5 and
    y / height - 0.5, both 0 where the score is 0 (an undetected joint), the score as
    the third channel. A checkpoint that records no convention was trained this way.
``pyskl``
    PYSKL's ``PreNormalize2D``: (x - width / 2) / (width / 2), the same for y, so the
    frame spans [-1, 1]; the score as the third channel; nothing is zeroed (PYSKL's
    pose estimates give every joint a position).

This module needs numpy only (no torch, nothing else of stgcn but its errors), so that
a dataset's converter workers can import it; numpy itself loads on the first
conversion, so that the names and the table cost nothing to import (the data facts
check a dataset's convention by name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stgcn.errors import StgcnError

if TYPE_CHECKING:
    import numpy as np

#: the reference's convention, a dataset's default
REFERENCE = "reference"
#: PYSKL's convention, that of its annotation pickles
PYSKL = "pyskl"
#: the frame size to give :func:`normalise_keypoints` for keypoints that are already
#: fractions of the frame (0 at the left and top edge, 1 at the right and bottom)
FRACTIONS = (1.0, 1.0)

#: ``convert(x, y, score, (width, height))``: the model's x and y, in x's dtype
Convert = Callable[
    ["np.ndarray", "np.ndarray", "np.ndarray", tuple[float, float]],
    tuple["np.ndarray", "np.ndarray"],
]


@dataclass(frozen=True)
class CoordinateConvention:
    """One way of turning pixel keypoints into model input: its name (what datasets
    and checkpoints record), a line for people, and the arithmetic."""

    name: str
    description: str
    convert: Convert


def _reference(
    x: np.ndarray, y: np.ndarray, score: np.ndarray, frame: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    width, height = frame
    # the reference subtracts first and zeroes undetected joints after (score exactly 0,
    # as its Kinetics feeder does)
    undetected = score == 0
    return (
        np.where(undetected, 0, x / width - 0.5).astype(x.dtype, copy=False),
        np.where(undetected, 0, y / height - 0.5).astype(y.dtype, copy=False),
    )


def _pyskl(
    x: np.ndarray, y: np.ndarray, score: np.ndarray, frame: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    half_width, half_height = frame[0] / 2, frame[1] / 2
    # written as PYSKL writes it, so that the values are PYSKL's to the last bit
    return (x - half_width) / half_width, (y - half_height) / half_height


#: every convention by name
CONVENTIONS: dict[str, CoordinateConvention] = {
    convention.name: convention
    for convention in (
        CoordinateConvention(
            REFERENCE,
            "x / width - 0.5, y / height - 0.5, both 0 where the score is 0 (the reference's)",
            _reference,
        ),
        CoordinateConvention(
            PYSKL,
            "(x - width / 2) / (width / 2), the same for y: the frame spans [-1, 1] (PYSKL's)",
            _pyskl,
        ),
    )
}


def coordinate_convention(name: str) -> CoordinateConvention:
    """The convention called ``name``, or one line naming the known ones."""
    try:
        return CONVENTIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CONVENTIONS))
        raise StgcnError(f"unknown coordinate convention {name!r}; known: {known}") from None


def normalise_keypoints(
    keypoints: np.ndarray, frame: tuple[float, float], convention: str = REFERENCE
) -> np.ndarray:
    """Keypoints ``(..., 3)`` (x and y in pixels of a ``frame`` of (width, height), and
    the score) as the model's values under ``convention``: a new array of the same shape
    and dtype, the score unchanged. Keypoints already in fractions of the frame take
    ``frame=FRACTIONS``."""
    import numpy as np

    chosen = coordinate_convention(convention)
    keypoints = np.asarray(keypoints)
    if keypoints.shape[-1:] != (3,):
        raise ValueError(f"keypoints of shape {keypoints.shape}, not (..., 3)")
    x, y = chosen.convert(keypoints[..., 0], keypoints[..., 1], keypoints[..., 2], frame)
    out = np.empty_like(keypoints)
    out[..., 0] = x
    out[..., 1] = y
    out[..., 2] = keypoints[..., 2]
    return out
