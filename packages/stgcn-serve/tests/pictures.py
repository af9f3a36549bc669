"""Pictures of real people for the picture routes' tests: scikit-image's astronaut
(Eileen Collins, facing the camera) and cameraman, side by side on white and walking
apart, as an mp4 (the video upload), as JPEG frames (the WebSocket) and as a ``.y4m``
file (Chromium's fake camera). MediaPipe Pose finds a person in each photograph, and
the pose plugin's tiles find both side by side (stgcn-pose-mediapipe's people.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: the canvas: two photographs of ``PHOTO`` pixels side by side, with room to walk
WIDTH, HEIGHT, PHOTO = 640, 320, 256
#: each person's photograph: its left edge in frame 0 and its move a frame (pixels)
WALKERS = (("astronaut", 40, -3), ("cameraman", 340, 3))


def photo(name: str) -> np.ndarray:
    """The photograph ``name``, RGB uint8, ``PHOTO`` square."""
    import cv2
    from skimage import data

    image = data.astronaut() if name == "astronaut" else np.repeat(data.camera()[..., None], 3, 2)
    return cv2.resize(image, (PHOTO, PHOTO), interpolation=cv2.INTER_AREA)


def people_frame(t: int, walkers: tuple[tuple[str, int, int], ...] = WALKERS) -> np.ndarray:
    """Frame ``t``, RGB: each walker at its place, on white."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    top = (HEIGHT - PHOTO) // 2
    for name, start, shift in walkers:
        left = start + shift * t
        x0, x1 = max(left, 0), min(left + PHOTO, WIDTH)
        canvas[top : top + PHOTO, x0:x1] = photo(name)[:, x0 - left : x1 - left]
    return canvas


def make_video(
    path: Path, frames: int, walkers: tuple[tuple[str, int, int], ...] = WALKERS
) -> Path:
    """An mp4 (OpenCV's mp4v, 30 frames a second) of ``frames`` frames."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for t in range(frames):
        writer.write(cv2.cvtColor(people_frame(t, walkers), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def jpeg(image: np.ndarray) -> bytes:
    """An RGB picture as JPEG bytes, as a browser's canvas.toBlob sends them."""
    import cv2

    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def make_y4m(path: Path, frames: int) -> Path:
    """A YUV4MPEG2 file (4:2:0, 30 frames a second), what Chromium's
    ``--use-file-for-fake-video-capture`` plays as the camera, looping."""
    import cv2

    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        for t in range(frames):
            planes = cv2.cvtColor(people_frame(t), cv2.COLOR_RGB2YUV_I420)
            out.write(b"FRAME\n" + planes.tobytes())
    return path
