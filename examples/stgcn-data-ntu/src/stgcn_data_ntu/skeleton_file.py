"""Reading one ``.skeleton`` text file into a float32 array (3, frames, 25, bodies).

The file holds the frame count; then per frame the body count and, per body, a line of
10 body values, the joint count and one line of 12 values per joint, x, y, z first.
Bodies past ``num_person`` in a frame are left out and frames past ``max_frames`` too;
the rest of the array is zero, as the reference conversion did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError

CHANNELS = 3
NUM_JOINT = 25
MAX_FRAMES = 300
NUM_PERSON = 2
BODY_VALUES = 10
JOINT_VALUES = 12


class _Lines:
    """The file's lines with a cursor, so that an error names the line it is about."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lines = path.read_text(encoding="ascii").splitlines()
        except UnicodeDecodeError:
            raise StgcnError(f"{path}: not a .skeleton text file") from None
        self.at = 0

    def fail(self, message: str) -> StgcnError:
        return StgcnError(f"{self.path}:{self.at}: {message}")

    def values(self, count: int, what: str) -> list[float]:
        if self.at >= len(self.lines):
            self.at += 1
            raise self.fail(f"file ends where {what} should be (truncated?)")
        line = self.lines[self.at]
        self.at += 1
        parts = line.split()
        if len(parts) != count:
            raise self.fail(f"{what}: expected {count} values, found {len(parts)}")
        try:
            return [float(part) for part in parts]
        except ValueError:
            raise self.fail(f"{what}: not numbers: {line.strip()[:60]!r}") from None

    def count(self, what: str, most: int | None = None) -> int:
        (value,) = self.values(1, what)
        if value != int(value) or value < 0 or (most is not None and value > most):
            raise self.fail(f"{what} {value:g} is not a count")
        return int(value)


def read_skeleton_file(
    path: str | Path, max_frames: int = MAX_FRAMES, num_person: int = NUM_PERSON
) -> np.ndarray:
    """The clip as float32 ``(3, max_frames, 25, num_person)``, zero-padded."""
    lines = _Lines(Path(path))
    data = np.zeros((CHANNELS, max_frames, NUM_JOINT, num_person), np.float32)
    frames = lines.count("frame count")
    for frame in range(frames):
        bodies = lines.count(f"frame {frame}: body count")
        for body in range(bodies):
            lines.values(BODY_VALUES, f"frame {frame} body {body}: body line")
            joints = lines.count(f"frame {frame} body {body}: joint count")
            if joints != NUM_JOINT:
                raise lines.fail(f"frame {frame} body {body} has {joints} joints, expected 25")
            for joint in range(NUM_JOINT):
                values = lines.values(JOINT_VALUES, f"frame {frame} joint {joint}")
                if frame < max_frames and body < num_person:
                    data[:, frame, joint, body] = values[:CHANNELS]
    if not np.isfinite(data).all():
        raise StgcnError(f"{path}: holds coordinates that are not finite")
    return data
