"""``stgcn predict --video`` (and ``--openpose``, ``--coco-results``): skeletons of a
whole clip, classified in sliding windows.

The skeletons come from :mod:`stgcn.pose` in [0, 1] coordinates and in the model's own
layout (openpose or coco, from the checkpoint or the export's metadata); each window is
converted to the Kinetics value convention (x, y minus 0.5, zero where the score is 0)
and classified by the same engine as a single clip. The saved skeleton is a Kinetics
JSON clip in [0, 1] coordinates; the rendered video shows the skeletons and, on each
frame, the top class of the window that covers it (the latest one that starts there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError
from stgcn.pose.inputs import SkeletonInput, check_estimator, read_skeletons
from stgcn.pose.skeletons import PoseSequence, windows, write_json
from stgcn_export.prediction import top_classes

#: the window when neither --window nor the model's data options say: the Kinetics
#: recipe's training window (150 frames, 5 s at 30 frames a second)
DEFAULT_WINDOW = 150


@dataclass(frozen=True)
class WindowResult:
    start: int
    end: int
    #: (index, probability), likeliest first
    ranked: list[tuple[int, float]]


def model_layout(engine: Any, record: Any) -> str:
    """The model's layout name, which must be one that skeletons can be brought to."""
    from stgcn.pose.joints import LAYOUT_JOINTS

    layout = engine.model_config.get("layout")
    if layout is None and record is not None:
        layout = record.layout
    if isinstance(layout, dict):
        layout = layout.get("name")
    if layout is None:
        raise StgcnError("the model file names no layout; pose input needs openpose or coco")
    if not isinstance(layout, str) or layout not in LAYOUT_JOINTS:
        raise StgcnError(
            f"the model's layout is {layout!r}; skeletons from videos and pose files come in "
            f"{' or '.join(sorted(LAYOUT_JOINTS))}"
        )
    return layout


def model_persons(engine: Any, record: Any) -> int:
    """Persons a window carries: a static export's, else the dataset's, else 2."""
    shape = getattr(engine, "input_shape", None)
    if shape is not None and isinstance(shape[4], int):
        return int(shape[4])
    return int(record.num_person) if record is not None else 2


def default_window(engine: Any) -> int:
    """The model's own training window (a ``window`` data option), else 150."""
    try:
        return int(engine.data_options.get("window", DEFAULT_WINDOW))
    except (TypeError, ValueError):
        return DEFAULT_WINDOW


def classify(
    skeletons: PoseSequence,
    engine: Any,
    persons: int,
    window: int,
    stride: int,
    top: int,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[list[WindowResult], int]:
    """Every window's ``top`` classes, and how many classes the model has."""
    results = []
    classes = 0
    for start, end in windows(len(skeletons.frames), window, stride):
        sample = skeletons.model_input(start, end, persons)
        if transform is not None:
            sample = transform(sample)
        logits = engine.logits(sample)
        classes = len(logits)
        ranked = top_classes(logits, top)
        results.append(WindowResult(start, end, [(r.index, r.probability) for r in ranked]))
    return results, classes


def captions(
    frames: int, results: Sequence[WindowResult], names: Sequence[str] | None
) -> list[str]:
    """Each frame's caption: the top class of the last window starting at or before it
    that covers it."""
    out = [""] * frames
    for result in results:
        index, probability = result.ranked[0]
        name = names[index] if names is not None else f"class {index}"
        text = f"{name} {probability:.2f} (frames {result.start}-{result.end - 1})"
        for frame in range(result.start, min(result.end, frames)):
            out[frame] = text
    return out


def load_input(
    kind: str,
    path: str,
    layout: str,
    estimator: str,
    estimator_options: dict[str, str],
    frame_size: tuple[int, int] | None,
) -> PoseSequence:
    """The clip's skeletons in ``layout``, with a progress bar over a video's frames."""
    from stgcn.loggers.progress import Progress

    source = SkeletonInput(kind, Path(path), estimator, estimator_options, frame_size)
    if kind != "video":
        return read_skeletons(source, layout)
    from stgcn.pose.video import video_facts

    if not Path(path).is_file():  # before the estimator: the likelier mistake
        raise StgcnError(f"video not found: {path}")
    from stgcn.plugins.registry import get_registry

    record = get_registry().pose_estimator(estimator)
    check_estimator(record, layout)
    total = video_facts(path).frame_count
    progress = Progress(max(total, 1), f"pose ({estimator})", unit="frames")
    try:
        return read_skeletons(source, layout, lambda _: progress.update(), record)
    finally:
        progress.close()


def save_skeleton(path: str, skeletons: PoseSequence) -> None:
    write_json(path, skeletons.to_kinetics())


def json_document(
    skeletons: PoseSequence, results: Sequence[WindowResult], names: Sequence[str] | None
) -> dict[str, Any]:
    """The one line ``predict --json`` prints for a clip of skeletons (``end`` is one past
    the window's last frame)."""
    return {
        "frames": len(skeletons.frames),
        "frames_with_pose": skeletons.frames_with_pose,
        "windows": [
            {
                "start": result.start,
                "end": result.end,
                "top5": [
                    {
                        "class": names[index] if names is not None else None,
                        "index": index,
                        "score": probability,
                    }
                    for index, probability in result.ranked
                ],
            }
            for result in results
        ],
    }
