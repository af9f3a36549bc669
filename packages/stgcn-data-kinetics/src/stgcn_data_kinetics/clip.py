"""One raw Kinetics-skeleton clip (a JSON file of OpenPose detections) as an array.

This is the single reader of the release's clip files: the converter, the dataset
over a release tree and ``read_sample`` all go through :func:`read_clip`, so that
they cannot disagree about a value. It imports neither torch nor any of stgcn but its
numpy-only coordinate conventions, because the converter runs it in freshly started
worker processes.

The values follow the reference conversion: ``frame_index`` is the row; the m-th
skeleton of a frame (the first ``num_person_in`` only) fills x = pose[0::2],
y = pose[1::2] and the score; x and y, fractions of the frame, go through the core's
``reference`` coordinate convention (:mod:`stgcn.data.coordinates`: shifted by -0.5
and set to 0 where the score is 0, as ``stgcn predict --video`` does to a video's
skeletons); each frame's persons are sorted by their summed score, highest first,
and the first ``num_person_out`` kept. Sums and shifts run in float64 and only the
result is rounded to float32, as the reference does. Ties in the summed score keep
the detection order (a stable sort), so the result never depends on the platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from stgcn.data.coordinates import FRACTIONS, REFERENCE, normalise_keypoints

CHANNELS = 3
NUM_JOINT = 18
MAX_FRAME = 300
NUM_PERSON_IN = 5
NUM_PERSON_OUT = 2


class ClipError(ValueError):
    """A clip file that cannot be read or does not hold what a clip must hold."""


@dataclass(frozen=True)
class ClipShape:
    """How many frames and persons a converted clip keeps."""

    max_frame: int = MAX_FRAME
    num_person_in: int = NUM_PERSON_IN
    num_person_out: int = NUM_PERSON_OUT

    def problem(self) -> str | None:
        """What is wrong with these numbers, or None."""
        if self.max_frame < 1:
            return f"max_frame must be at least 1, got {self.max_frame}"
        if self.num_person_out < 1:
            return f"num_person_out must be at least 1, got {self.num_person_out}"
        if self.num_person_in < self.num_person_out:
            return (
                f"num_person_in ({self.num_person_in}) must be at least "
                f"num_person_out ({self.num_person_out})"
            )
        return None

    @property
    def array_shape(self) -> tuple[int, int, int, int]:
        return (CHANNELS, self.max_frame, NUM_JOINT, self.num_person_out)


REFERENCE_SHAPE = ClipShape()


@dataclass(frozen=True)
class Clip:
    """A converted clip, float32 ``(3, max_frame, 18, num_person_out)``, and the label index
    the clip file states (None when it states none)."""

    data: np.ndarray
    label_index: int | None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def clip_array(
    document: Any, shape: ClipShape = REFERENCE_SHAPE, source: str = "clip"
) -> np.ndarray:
    """The converted array of one parsed clip document; ``source`` names it in errors."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ClipError(f"{source}: not a Kinetics-skeleton clip (no 'data' list)")
    # (row, person) -> (pose, score); a frame index given twice keeps its last detections
    filled: dict[tuple[int, int], tuple[Any, Any]] = {}
    for position, frame in enumerate(document["data"]):
        if not isinstance(frame, dict):
            raise ClipError(f"{source}: frame entry {position} is not an object")
        row = frame.get("frame_index")
        skeletons = frame.get("skeleton", [])
        if not _is_int(row) or row < 0:
            raise ClipError(f"{source}: frame entry {position} has frame_index {row!r}")
        if not isinstance(skeletons, list):
            raise ClipError(f"{source}: frame {row} has no 'skeleton' list")
        if row >= shape.max_frame:
            continue
        for person, skeleton in enumerate(skeletons[: shape.num_person_in]):
            if not isinstance(skeleton, dict):
                raise ClipError(f"{source}: frame {row} skeleton {person} is not an object")
            filled[(row, person)] = (skeleton.get("pose"), skeleton.get("score"))

    frames = shape.max_frame
    data = np.zeros((CHANNELS, frames, NUM_JOINT, shape.num_person_in), np.float64)
    if filled:
        rows, persons = (np.array(axis, dtype=np.intp) for axis in zip(*filled, strict=True))
        poses = _numbers([pose for pose, _ in filled.values()], 2 * NUM_JOINT, "pose", source)
        scores = _numbers([score for _, score in filled.values()], NUM_JOINT, "score", source)
        data[0, rows, :, persons] = poses[:, 0::2]
        data[1, rows, :, persons] = poses[:, 1::2]
        data[2, rows, :, persons] = scores
    # the clip's [0, 1] coordinates to the model's values (channels last for the helper)
    data = np.moveaxis(normalise_keypoints(np.moveaxis(data, 0, -1), FRACTIONS, REFERENCE), -1, 0)
    # per frame, the persons to keep, best summed score first: (T, num_person_out)
    kept = np.argsort(-data[2].sum(axis=1), axis=1, kind="stable")[:, : shape.num_person_out]
    sorted_persons = data[:, np.arange(frames)[:, None], :, kept]  # (T, out, C, V)
    return sorted_persons.transpose(2, 0, 3, 1).astype(np.float32)


def _numbers(values: list[Any], length: int, field: str, source: str) -> np.ndarray:
    """``values`` as a float64 ``(K, length)`` array, refused unless each is ``length``
    finite numbers."""
    for value in values:
        if not isinstance(value, list) or len(value) != length:
            count = len(value) if isinstance(value, list) else "no"
            raise ClipError(
                f"{source}: a skeleton has {count} {field} values where {length} belong"
            )
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a float
        raise ClipError(
            f"{source}: a skeleton's {field} holds something other than numbers"
        ) from None
    if not np.isfinite(array).all():
        raise ClipError(f"{source}: a skeleton's {field} holds non-finite values")
    return array


def read_clip(path: str | Path, shape: ClipShape = REFERENCE_SHAPE) -> Clip:
    """Read and convert one clip file of the release."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            document = json.load(stream)
    except FileNotFoundError:
        raise ClipError(f"{path}: clip file not found") from None
    except OSError as error:
        raise ClipError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError and bad encodings
        raise ClipError(f"{path}: not valid JSON ({_first_line(error)})") from None
    data = clip_array(document, shape, str(path))
    label = document.get("label_index")
    if label is not None and not _is_int(label):
        raise ClipError(f"{path}: label_index {label!r} is not a whole number")
    return Clip(data, label)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
