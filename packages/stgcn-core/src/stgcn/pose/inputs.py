"""Where skeletons come from: a video through a pose estimator, an OpenPose folder, or
a COCO keypoint results file; whichever it is, the result is a :class:`PoseSequence`
in the stgcn layout asked for, so that prediction and extraction need not care."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stgcn.errors import StgcnError
from stgcn.model.joint_names import missing_joints, quoted_names
from stgcn.model.layouts import Layout
from stgcn.plugins.layouts import resolve_layout
from stgcn.pose.joints import BODY_25, COCO_17
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


def check_estimator(estimator: PoseEstimator, layout: str | Layout) -> None:
    """The estimator (the caller looked it up by name) gives every joint of ``layout``
    (a registered layout's name, or the layout itself: a model's stored one), matched by
    name: otherwise one line naming the estimator, the layout and the joints it lacks,
    before any video is opened (a model fed zeros where a hand's joints should be would
    classify them without a word). An estimator that cannot run here (its
    ``unavailable()``) is refused first, in its own words."""
    problem = estimator.unavailable() if estimator.unavailable is not None else None
    if problem:
        raise StgcnError(f"pose estimator {estimator.name!r} cannot run here: {problem}")
    _check_source_joints(f"pose estimator {estimator.name!r} gives", estimator.joints, layout)


#: the joints each kind of skeleton file gives at most (an OpenPose folder holds BODY_25 or
#: COCO-18, whose joints BODY_25's include): what a layout is checked against before the
#: files are read
FILE_JOINTS: Mapping[str, tuple[str, ...]] = {"openpose": BODY_25, "coco-results": COCO_17}


def check_file_joints(kind: str, layout: str | Layout) -> None:
    """Skeleton files of ``kind`` can give every joint of ``layout``: one line naming the
    files' format, the layout and the joints they lack otherwise, before any is read."""
    _check_source_joints(f"{kind} files give", FILE_JOINTS[kind], layout)


def _check_source_joints(source_gives: str, joints: Sequence[str], layout: str | Layout) -> None:
    """One line (``"<source> give(s) no joint for ... of layout ..."``) naming the layout's
    joints that ``joints`` lack; a layout that names no joints is matched by nothing."""
    target = resolve_layout(layout)
    if not target.joints:
        raise StgcnError(
            f"{source_gives} no joint for layout {target.name!r}, which names none of its joints"
        )
    missing = missing_joints(joints, target)
    if missing:
        raise StgcnError(
            f"{source_gives} no joint for {quoted_names(missing)} of layout {target.name!r}"
        )


def check_max_people(max_people: int | None) -> None:
    """``--max-people`` is a whole number of at least 1 (or not given)."""
    if max_people is not None and max_people < 1:
        raise StgcnError(f"--max-people must be at least 1, got {max_people}")


def estimator_options_for(
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
    layout: str | Layout,
    on_frame: Callable[[int], None] | None = None,
    estimator: PoseEstimator | None = None,
) -> PoseSequence:
    """The clip's skeletons in ``layout`` (a registered layout's name, or the layout
    itself: a model's stored one), coordinates in [0, 1], at most ``source.max_people``
    a frame; a video needs ``estimator``, the record named by ``source.estimator``."""
    check_max_people(source.max_people)
    skeletons = _read(source, layout, on_frame, estimator)
    if source.max_people is None:
        return skeletons
    return skeletons.most_salient(source.max_people)


def _read(
    source: SkeletonInput,
    layout: str | Layout,
    on_frame: Callable[[int], None] | None,
    estimator: PoseEstimator | None,
) -> PoseSequence:
    if source.kind == "video":
        from stgcn.pose.video import estimate_video

        if estimator is None:
            raise ValueError(f"reading the video {source.path} needs its pose estimator record")
        check_estimator(estimator, layout)
        options = estimator_options_for(estimator, source.estimator_options, source.max_people)
        raw = estimate_video(source.path, estimator, options, on_frame)
        return raw.to_layout(layout)
    if source.frame_size is None:
        raise StgcnError(f"{source.path}: give --frame-size WIDTHxHEIGHT (pixel coordinates)")
    if source.kind in FILE_JOINTS:
        check_file_joints(source.kind, layout)
    if source.kind == "openpose":
        from stgcn.pose.readers import read_openpose

        return read_openpose(source.path, source.frame_size).to_layout(layout)
    if source.kind == "coco-results":
        from stgcn.pose.readers import read_coco_results

        return read_coco_results(source.path, source.frame_size).to_layout(layout)
    raise StgcnError(f"unknown skeleton source {source.kind!r}; known: {', '.join(KINDS)}")
