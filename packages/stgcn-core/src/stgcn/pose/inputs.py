"""Where skeletons come from: a video through a pose estimator, an OpenPose folder, or
a COCO keypoint results file; whichever it is, the result is a :class:`PoseSequence`
in the stgcn layout asked for, so that prediction and extraction need not care."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stgcn.errors import StgcnError
from stgcn.pose.skeletons import PoseSequence

if TYPE_CHECKING:
    from stgcn.plugins.records import PoseEstimator

KINDS = ("video", "openpose", "coco-results")


@dataclass(frozen=True)
class SkeletonInput:
    """One clip's source and how to read it."""

    kind: str
    path: Path
    estimator: str = "mediapipe"
    estimator_options: Mapping[str, str] = field(default_factory=dict)
    #: (width, height) in pixels, for the two file kinds (pixel coordinates)
    frame_size: tuple[int, int] | None = None
    #: keep at most this many people a frame, the most salient (None: all found)
    max_people: int | None = None


def check_estimator(estimator: PoseEstimator, layout: str) -> None:
    """The estimator (the caller looked it up by name) can feed ``layout``: one line
    otherwise, before any video is opened."""
    if layout not in estimator.layouts:
        known = ", ".join(sorted(estimator.layouts)) or "none"
        raise StgcnError(
            f"pose estimator {estimator.name!r} gives no {layout} skeletons (it gives: {known})"
        )


def check_max_people(max_people: int | None) -> None:
    """``--max-people`` is a whole number of at least 1 (or not given)."""
    if max_people is not None and max_people < 1:
        raise StgcnError(f"--max-people must be at least 1, got {max_people}")


def estimator_options(
    estimator: PoseEstimator, options: Mapping[str, str], max_people: int | None
) -> dict[str, str]:
    """The options the estimator opens with: ``--max-people`` reaches an estimator that
    takes a people option (:attr:`PoseEstimator.people_option`) as that option."""
    chosen = dict(options)
    key = estimator.people_option
    if max_people is None or key is None:
        return chosen
    if key in chosen and chosen[key] != str(max_people):
        raise StgcnError(
            f"--max-people {max_people} and --estimator-option {key}={chosen[key]} disagree; "
            "give one of them"
        )
    chosen[key] = str(max_people)
    return chosen


def read_skeletons(
    source: SkeletonInput,
    layout: str,
    on_frame: Callable[[int], None] | None = None,
    estimator: PoseEstimator | None = None,
) -> PoseSequence:
    """The clip's skeletons in ``layout`` ("openpose" or "coco"), coordinates in [0, 1],
    at most ``source.max_people`` a frame; a video needs ``estimator``, the record named
    by ``source.estimator``."""
    check_max_people(source.max_people)
    skeletons = _read(source, layout, on_frame, estimator)
    if source.max_people is None:
        return skeletons
    return skeletons.most_salient(source.max_people)


def _read(
    source: SkeletonInput,
    layout: str,
    on_frame: Callable[[int], None] | None,
    estimator: PoseEstimator | None,
) -> PoseSequence:
    if source.kind == "video":
        from stgcn.pose.video import estimate_video

        if estimator is None:
            raise ValueError(f"reading the video {source.path} needs its pose estimator record")
        check_estimator(estimator, layout)
        options = estimator_options(estimator, source.estimator_options, source.max_people)
        raw = estimate_video(source.path, estimator, options, on_frame)
        return raw.to_layout(layout, estimator.layouts)
    if source.frame_size is None:
        raise StgcnError(f"{source.path}: give --frame-size WIDTHxHEIGHT (pixel coordinates)")
    if source.kind == "openpose":
        from stgcn.pose.readers import read_openpose

        return read_openpose(source.path, source.frame_size).to_layout(layout)
    if source.kind == "coco-results":
        from stgcn.pose.readers import read_coco_results

        return read_coco_results(source.path, source.frame_size).to_layout(layout)
    raise StgcnError(f"unknown skeleton source {source.kind!r}; known: {', '.join(KINDS)}")
