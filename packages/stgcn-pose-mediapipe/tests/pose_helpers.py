"""Test helpers: videos of a real person (scikit-image's astronaut) and of several real
people (the astronaut and the cameraman) walking in known directions, and the real
``stgcn`` command's one-line error check (the command itself is
stgcn.testing.helpers.run_stgcn)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: frames of the test video and the photograph's sideways move per frame, in pixels
FRAMES = 30
SHIFT = 4
#: the canvas: the 512 x 512 photograph on white, room for the move
WIDTH, HEIGHT = 640, 512


def make_video(path: Path, frames: int, shift: int, start: int = 0, person: bool = True) -> Path:
    """An mp4 (OpenCV's VideoWriter, mp4v) of the astronaut at x = start + shift * t
    (a negative shift moves left); ``person=False`` gives white frames only."""
    import cv2
    from skimage import data

    photo = data.astronaut()  # RGB
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for t in range(frames):
        canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
        if person:
            x = start + shift * t
            canvas[:, x : x + photo.shape[1]] = photo
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


#: the canvas of the several-people videos: two photographs of ``PHOTO_SIZE`` side by
#: side with room to walk; small, so that the real estimator runs quickly in tests
PEOPLE_WIDTH, PEOPLE_HEIGHT = 640, 320
PHOTO_SIZE = 256


def photo(name: str, size: int = PHOTO_SIZE) -> np.ndarray:
    """A bundled scikit-image photograph of one real person, RGB uint8, ``size`` square:
    ``astronaut`` (Eileen Collins, facing the camera) or ``cameraman`` (a man at his
    camera, in grey, turned to his right). MediaPipe Pose finds a person in each."""
    import cv2
    from skimage import data

    if name == "astronaut":
        image = data.astronaut()
    elif name == "cameraman":
        image = np.repeat(data.camera()[:, :, None], 3, axis=2)
    else:
        raise ValueError(f"no photograph of a person named {name!r}")
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Walker:
    """One person of a several-people video: the photograph ``photo`` whose left edge is
    at x = ``start`` in frame ``enter`` and moves ``shift`` pixels a frame (negative:
    left), seen from frame ``enter`` until before frame ``leave`` (None: to the end).
    ``top`` places it vertically (centred by default). Parts outside the canvas are cut
    off, so a person can also walk out of the frame."""

    photo: str
    start: int
    shift: int
    enter: int = 0
    leave: int | None = None
    top: int = (PEOPLE_HEIGHT - PHOTO_SIZE) // 2

    def left(self, t: int) -> int | None:
        """The photograph's left edge in frame ``t``, in pixels; None when not seen."""
        if t < self.enter or (self.leave is not None and t >= self.leave):
            return None
        return self.start + self.shift * (t - self.enter)

    def center(self, t: int, size: int = PHOTO_SIZE) -> float | None:
        """The photograph's middle in frame ``t`` as a fraction of ``PEOPLE_WIDTH``."""
        left = self.left(t)
        return None if left is None else (left + size / 2) / PEOPLE_WIDTH


def people_frame(t: int, walkers: Sequence[Walker], size: int = PHOTO_SIZE) -> np.ndarray:
    """Frame ``t`` of a several-people video, RGB: the walkers seen at ``t`` on white,
    later walkers drawn over earlier ones where they meet."""
    canvas = np.full((PEOPLE_HEIGHT, PEOPLE_WIDTH, 3), 255, np.uint8)
    for walker in walkers:
        left = walker.left(t)
        if left is None:
            continue
        image = photo(walker.photo, size)
        x0, x1 = max(left, 0), min(left + size, PEOPLE_WIDTH)
        y0, y1 = max(walker.top, 0), min(walker.top + size, PEOPLE_HEIGHT)
        if x0 < x1 and y0 < y1:
            canvas[y0:y1, x0:x1] = image[y0 - walker.top : y1 - walker.top, x0 - left : x1 - left]
    return canvas


def make_people_video(
    path: Path, frames: int, walkers: Sequence[Walker], size: int = PHOTO_SIZE
) -> Path:
    """An mp4 (mp4v, 30 fps) of ``frames`` frames of ``PEOPLE_WIDTH`` x ``PEOPLE_HEIGHT``
    with each walker moving as it says (two-person video helper)."""
    import cv2

    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (PEOPLE_WIDTH, PEOPLE_HEIGHT)
    )
    assert writer.isOpened()
    for t in range(frames):
        writer.write(cv2.cvtColor(people_frame(t, walkers, size), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


#: two people walking apart: the astronaut on the left going left, the cameraman on the
#: right going right, both seen in every frame of a ``TWO_FRAMES`` clip
TWO_FRAMES = 12
TWO_WALKERS = (Walker("astronaut", 40, -3), Walker("cameraman", 340, 3))


def assert_one_line_error(ran: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A non-zero exit, one ``stgcn: error:`` line last on stderr (progress lines may
    come before it), no traceback, and nothing from native libraries."""
    assert ran.returncode != 0, ran.stdout
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("stgcn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], ran.stderr
    others = [line for line in lines[:-1] if not line.startswith("pose (mediapipe")]
    assert others == [], ran.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
