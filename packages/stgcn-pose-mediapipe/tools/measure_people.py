"""People found and frames a second of the mediapipe estimator's ways of finding several
people, on real photographs (scikit-image's astronaut and cameraman) walking apart.

    python packages/stgcn-pose-mediapipe/tools/measure_people.py [--frames 30]

Each scene is a clip of two people, each photograph moving 3 pixels a frame (one left,
one right); a person counts as found in a frame when a skeleton's nose lies over that
person's photograph. The ways: the legacy single-person graph (``max_people=1``), the
Tasks landmarker on the whole frame, on square tiles every frame (``tiles``: what the
estimator did before it tracked), and the tiles' people tracked on crops about their last
landmarks (``tracks``: what ``max_people=2`` does now). Prints one JSON line per scene and
way: people found, frames a second of wall time and milliseconds of process CPU time a
frame (steadier than wall time on a shared machine), and for ``tracks`` how far its
joints lie from the tiles' (``deviation_px``: median and 95th percentile over the joints
both found, of the frame's pixels; ``deviation_share``: the same over the person's box
diagonal).
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
    from stgcn_pose_mediapipe.people import TiledPeople

    if way == "tiles":
        return TiledPeople(2, (0.5, 0.5))
    return open_pose({} if way == "single" else {"max_people": "2"})


def measure(way: str, images: list, spans: list, skeletons_of: list | None = None) -> dict:
    """People found and time a frame of one way; ``skeletons_of`` (a list) collects each
    frame's skeletons, one per photograph (None where not found)."""
    model = open_way(way)
    found, expected = [0, 0], 0
    started, cpu = time.perf_counter(), time.process_time()
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
            frame: list = []
            for index, (low, high) in enumerate(people):
                visible = max(low, 0.0) < min(high, 1.0)
                expected += visible
                over = [s for s in skeletons if s[0, 2] > 0 and low <= s[0, 0] <= high]
                found[index] += visible and bool(over)
                frame.append(over[0] if over else None)
            if skeletons_of is not None:
                skeletons_of.append(frame)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
    finally:
        model.close()
    return {
        "people_found": sum(found),
        "people_shown": expected,
        "astronaut_cameraman": found,
        "fps": round(len(images) / seconds, 1),
        "cpu_ms_per_frame": round(1000 * cpu_seconds / len(images), 1),
    }


def deviation(ours: list, reference: list, size: tuple[int, int]) -> dict:
    """How far one way's joints lie from another's, over the joints both found."""
    pixels, shares = [], []
    for frame, frame_reference in zip(ours, reference, strict=True):
        for person, other in zip(frame, frame_reference, strict=True):
            if person is None or other is None:
                continue
            both = (person[:, 2] > 0) & (other[:, 2] > 0)
            apart = np.linalg.norm((person[both, :2] - other[both, :2]) * size, axis=1)
            found = other[other[:, 2] > 0, :2] * size
            pixels.extend(apart)
            shares.extend(apart / np.linalg.norm(found.max(axis=0) - found.min(axis=0)))
    return {
        "deviation_px": [round(float(np.quantile(pixels, q)), 1) for q in (0.5, 0.95)],
        "deviation_share": [round(float(np.quantile(shares, q)), 3) for q in (0.5, 0.95)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--ways", default="single,whole,tiles,tracks", help="comma-separated")
    args = parser.parse_args()
    for width, height, size in ((640, 320, 256), (640, 480, 256), (640, 480, 300)):
        images, spans = scene(width, height, size, args.frames)
        skeletons: dict[str, list] = {}
        for way in args.ways.split(","):
            row = {"frame": f"{width}x{height}", "photo": size, "way": way}
            row.update(measure(way, images, spans, skeletons.setdefault(way, [])))
            if way == "tracks" and "tiles" in skeletons:
                row.update(deviation(skeletons[way], skeletons["tiles"], (width, height)))
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
