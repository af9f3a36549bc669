"""Test helpers: videos of a real person (scikit-image's astronaut), the real ``stgcn``
command's one-line error check (the command itself is stgcn.testing.helpers.run_stgcn)."""

from __future__ import annotations

import subprocess
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


def assert_one_line_error(ran: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A non-zero exit, one ``stgcn: error:`` line last on stderr (progress lines may
    come before it), no traceback, and nothing from native libraries."""
    assert ran.returncode != 0, ran.stdout
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("stgcn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], ran.stderr
    others = [line for line in lines[:-1] if not line.startswith("pose (mediapipe): ")]
    assert others == [], ran.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
