"""Test helpers: videos of a real person (scikit-image's astronaut), the real ``stgcn``
command in a fresh interpreter, and the one-line error check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

#: frames of the test video and the photograph's sideways move per frame, in pixels
FRAMES = 30
SHIFT = 4
#: the canvas: the 512 x 512 photograph on white, room for the move
WIDTH, HEIGHT = 640, 512

TINY_RUN = [
    "--data-option", "train_size=8",
    "--data-option", "val_size=8",
    "--data-option", "frames=12",
    "--batch-size", "8",
    "--epochs", "1",
    "--seed", "5",
]  # fmt: skip


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


def run_stgcn(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh interpreter, as a user would run it."""
    environment = dict(os.environ)
    environment.pop("STGCN_DEBUG", None)
    environment.pop("STGCN_STRICT_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-m", "stgcn", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


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
