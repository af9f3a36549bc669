"""People found and frames a second of the mediapipe estimator's ways of finding several
people, on real photographs (scikit-image's astronaut and cameraman) walking apart.

    python packages/stgcn-pose-mediapipe/tools/measure_people.py [--frames 30]

Each scene is a clip of two people, each photograph moving 3 pixels a frame (one left,
one right); a person counts as found in a frame when a skeleton's nose lies over that
person's photograph. The ways: the legacy single-person graph (``max_people=1``), the
Tasks landmarker on the whole frame, and on square tiles (``max_people=2``, what the
estimator does). Prints one JSON line per scene and way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pose_helpers import photo


def scene(width: int, height: int, size: int, frames: int) -> tuple[list, list]:
    """Frames of the astronaut walking left and the cameraman right, and for each frame
    the photographs' x ranges."""
    images, spans = [], []
    top = (height - size) // 2
    pictures = [photo("astronaut", size), photo("cameraman", size)]
    for t in range(frames):
        canvas = np.full((height, width, 3), 255, np.uint8)
        lefts = [8 - 3 * t, width - 8 - size + 3 * t]
        for picture, left in zip(pictures, lefts, strict=True):
            x0, x1 = max(left, 0), min(left + size, width)
            canvas[top : top + size, x0:x1] = picture[:, x0 - left : x1 - left]
        images.append(canvas)
        spans.append([(left / width, (left + size) / width) for left in lefts])
    return images, spans


def open_way(way: str):
    from stgcn_pose_mediapipe.model import open_pose

    return open_pose({} if way == "single" else {"max_people": "2"})


def measure(way: str, images: list, spans: list) -> dict:
    model = open_way(way)
    found, expected = [0, 0], 0
    started = time.perf_counter()
    try:
        for image, people in zip(images, spans, strict=True):
            if way == "whole":
                # padded to a square, the frame is one tile: the landmarker sees it whole
                side = max(image.shape[:2])
                square = np.full((side, side, 3), 255, np.uint8)
                square[: image.shape[0], : image.shape[1]] = image
                scale = (side / image.shape[1], side / image.shape[0])
                skeletons = [s * np.array([scale[0], scale[1], 1]) for s in model.estimate(square)]
            else:
                skeletons = model.estimate(image)
            noses = [float(s[0, 0]) for s in skeletons if s[0, 2] > 0]
            for index, (low, high) in enumerate(people):
                visible = max(low, 0.0) < min(high, 1.0)
                expected += visible
                found[index] += visible and any(low <= x <= high for x in noses)
        seconds = time.perf_counter() - started
    finally:
        model.close()
    return {
        "people_found": sum(found),
        "people_shown": expected,
        "astronaut_cameraman": found,
        "fps": round(len(images) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--ways", default="single,whole,tiles", help="comma-separated")
    args = parser.parse_args()
    for width, height, size in ((640, 320, 256), (640, 480, 256), (640, 480, 300)):
        images, spans = scene(width, height, size, args.frames)
        for way in args.ways.split(","):
            row = {"frame": f"{width}x{height}", "photo": size, "way": way}
            row.update(measure(way, images, spans))
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
