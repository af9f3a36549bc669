"""Small Kinetics-skeleton trees, in the release format and in the converted format.

The real set cannot be fetched everywhere (tens of GB behind a manual download), yet the
converter, both readers and a whole training run need files to work on. These trees have
the real layout and value conventions: OpenPose-like detections rounded to three decimals,
coordinates in [0, 1], zero scores for missed joints, frames with no one, more than five
people, gaps between frame indices, short clips and clips without skeletons.

    python -m stgcn_data_kinetics.sample_trees RAW [--converted OUT]

writes a release tree to RAW (and a converted tree to OUT) for trying the commands.
"""

from __future__ import annotations

import argparse
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stgcn_data_kinetics.classes import CLASS_NAMES, NUM_CLASS
from stgcn_data_kinetics.clip import NUM_JOINT
from stgcn_data_kinetics.label_file import write_label_file

_ID_LETTERS = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class ReleaseClip:
    """One clip of a release tree: its JSON document and its label file entry."""

    document: Mapping[str, Any]
    label_index: int
    has_skeleton: bool = True


def skeleton(pose: list[float], score: list[float]) -> dict[str, list[float]]:
    """One detected person as the release stores it."""
    return {"pose": list(pose), "score": list(score)}


def clip_document(
    frames: Mapping[int, list[dict[str, list[float]]]], label_index: int
) -> dict[str, Any]:
    """A release clip document from ``{frame_index: [skeleton, ...]}``."""
    return {
        "data": [
            {"frame_index": index, "skeleton": skeletons} for index, skeletons in frames.items()
        ],
        "label": CLASS_NAMES[label_index] if 0 <= label_index < NUM_CLASS else "unknown",
        "label_index": label_index,
    }


def random_skeleton(rng: np.random.Generator) -> dict[str, list[float]]:
    """A person somewhere in the frame, some joints missed (score 0, pose 0)."""
    centre = rng.uniform(0.2, 0.8, size=2)
    pose = np.clip(centre + rng.normal(0.0, 0.08, size=(NUM_JOINT, 2)), 0.0, 1.0)
    score = rng.uniform(0.05, 1.0, size=NUM_JOINT)
    missed = rng.random(NUM_JOINT) < 0.15
    score[missed] = 0.0
    pose[missed] = 0.0
    return skeleton(
        [round(float(v), 3) for v in pose.reshape(-1)], [round(float(v), 3) for v in score]
    )


def random_clip(
    rng: np.random.Generator, frames: int, label_index: int, max_persons: int = 7
) -> dict[str, Any]:
    """A clip of up to ``frames`` frames with gaps, busy frames (beyond five people) and
    empty ones; about one clip in four ends early."""
    last = frames if rng.random() >= 0.25 else int(rng.integers(1, frames + 1))
    content: dict[int, list[dict[str, list[float]]]] = {}
    for index in range(last):
        if rng.random() < 0.15:
            continue  # a gap: no entry for this frame index
        people = int(rng.integers(0, max_persons + 1)) if rng.random() < 0.2 else 1 + index % 2
        content[index] = [random_skeleton(rng) for _ in range(people)]
    return clip_document(content, label_index)


def clip_id(rng: np.random.Generator) -> str:
    """An identifier shaped like the release's (YouTube ids, 11 characters)."""
    return "".join(_ID_LETTERS[i] for i in rng.integers(0, len(_ID_LETTERS), size=11))


def write_release_tree(root: str | Path, splits: Mapping[str, Mapping[str, ReleaseClip]]) -> Path:
    """Write ``{split: {clip_id: ReleaseClip}}`` as a release tree under ``root``."""
    root = Path(root)
    for split, clips in splits.items():
        folder = root / f"kinetics_{split}"
        folder.mkdir(parents=True, exist_ok=True)
        entries = {}
        for identifier, clip in clips.items():
            (folder / f"{identifier}.json").write_text(json.dumps(clip.document))
            entries[identifier] = {
                "has_skeleton": clip.has_skeleton,
                "label": clip.document.get("label", ""),
                "label_index": clip.label_index,
            }
        (root / f"kinetics_{split}_label.json").write_text(json.dumps(entries))
    return root


def make_release_tree(
    root: str | Path,
    train: int = 8,
    val: int = 4,
    frames: int = 20,
    seed: int = 0,
    without_skeleton: int = 1,
    num_class: int = NUM_CLASS,
) -> Path:
    """A random release tree; each split also gets ``without_skeleton`` clips whose label
    entry says ``has_skeleton: false`` (and whose files hold no one)."""
    rng = np.random.default_rng(seed)
    splits: dict[str, dict[str, ReleaseClip]] = {}
    for split, count in (("train", train), ("val", val)):
        clips = {}
        for _ in range(count):
            label = int(rng.integers(0, num_class))
            clips[clip_id(rng)] = ReleaseClip(random_clip(rng, frames, label), label)
        for _ in range(without_skeleton):
            label = int(rng.integers(0, num_class))
            clips[clip_id(rng)] = ReleaseClip(clip_document({}, label), label, has_skeleton=False)
        splits[split] = clips
    return write_release_tree(root, splits)


def make_converted_tree(
    root: str | Path,
    train: int = 8,
    val: int = 4,
    frames: int = 20,
    seed: int = 0,
    num_person: int = 2,
    num_class: int = NUM_CLASS,
) -> Path:
    """Random converted files: ``{split}_data.npy`` float32 ``(N, 3, frames, 18, num_person)``
    with the converted value conventions, and ``{split}_label.pkl``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        shape = (count, frames, NUM_JOINT, num_person)
        score = rng.uniform(0.05, 1.0, size=shape) * (rng.random(shape) > 0.2)
        xy = rng.uniform(-0.5, 0.5, size=(2, *shape)) * (score > 0)
        data = np.concatenate([xy, score[None]]).transpose(1, 0, 2, 3, 4).astype(np.float32)
        np.save(root / f"{split}_data.npy", data)
        names = [f"{clip_id(rng)}.json" for _ in range(count)]
        write_label_file(
            root / f"{split}_label.pkl", names, rng.integers(0, num_class, count).tolist()
        )
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", help="folder for the release tree")
    parser.add_argument("--converted", help="also write a converted tree here")
    parser.add_argument("--train", type=int, default=32)
    parser.add_argument("--val", type=int, default=16)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    make_release_tree(args.raw, args.train, args.val, args.frames, args.seed)
    if args.converted:
        make_converted_tree(args.converted, args.train, args.val, args.frames, args.seed)


if __name__ == "__main__":
    main()
