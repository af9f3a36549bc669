"""``stgcn predict --video`` (and ``--openpose``, ``--coco-results``): skeletons of a
whole clip, classified in sliding windows.

The skeletons come from :mod:`stgcn.pose` in [0, 1] coordinates and in the model's own
layout (any layout whose joints the source gives, by name; from the checkpoint or the
export's metadata); each window is converted to the coordinate convention the model was
trained in (the checkpoint's, else its dataset's: :mod:`stgcn.data.coordinates`, the
reference's being x, y minus 0.5, zero where the score is 0) and classified by the same
engine as a single clip. The saved skeleton is a Kinetics JSON clip in [0, 1]
coordinates; the rendered video shows the skeletons and, on each frame, the top class of
the window that covers it (the latest one that starts there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError
from stgcn.plugins.layouts import resolve_layout
from stgcn.plugins.registry import get_registry
from stgcn.pose.inputs import SkeletonInput, check_estimator, read_skeletons
from stgcn.pose.skeletons import PoseSequence, windows, write_json
from stgcn.pose.tracking import Tracked, track_frames, window_clips
from stgcn.pose.video import PersonOverlay
from stgcn.records import LAYOUTS, Layout
from stgcn_export.classifier import Classifier, Labelled
from stgcn_export.prediction import RankedClass, ranked_json

#: the window when neither --window nor the model's data options say: the Kinetics
#: recipe's training window (150 frames, 5 s at 30 frames a second)
DEFAULT_WINDOW = 150


@dataclass(frozen=True)
class SkeletonRequest:
    """What ``stgcn predict`` was asked to do with skeletons (a video, pose files or a
    stream): where they come from, the windows, and what to write."""

    kind: str
    source: str
    estimator: str = "mediapipe"
    estimator_options: dict[str, str] = field(default_factory=dict)
    frame_size: str | None = None
    window: int | None = None
    stride: int | None = None
    #: people followed a frame (the most salient); None: the model's persons
    max_people: int | None = None
    save_skeleton: str | None = None
    render: str | None = None
    as_json: bool = False


@dataclass(frozen=True)
class WindowResult:
    start: int
    end: int
    #: (index, probability), likeliest first
    ranked: list[tuple[int, float]]
    #: the tracks in the clip's person slots, most salient first
    tracks: tuple[int, ...] = ()
    #: with --explain: each joint's importance for the top class
    joint_importance: list[float] | None = None

    @property
    def track(self) -> int | None:
        return self.tracks[0] if self.tracks else None


def model_layout(engine: Any, record: Any) -> Layout:
    """The model's layout, which the pose code brings skeletons to by joint name (and
    refuses, in one line, a source that lacks one of its joints).

    The model file stores its whole layout (a checkpoint's ``model_config``, an export's
    ``stgcn.model_config``), so that a model predicts with its layout's plugin gone: the
    registered layout of the stored name is taken where there is one of the same joint
    count, else the stored layout itself. A layout the model file only names (a
    dataset's, where the file stores none) must be registered: one line otherwise,
    before any work."""
    stored = engine.model_config.get("layout")
    if stored is None and record is not None:
        stored = record.layout
    if isinstance(stored, Layout):
        return stored
    if isinstance(stored, str):
        return resolve_layout(stored)
    if not isinstance(stored, Mapping):
        raise StgcnError("the model file names no layout; pose input needs the model's layout")
    try:
        layout = resolve_layout(stored)
    except ValueError as error:
        raise StgcnError(f"the model file's layout is not a skeleton: {error}") from None
    registered = get_registry().table(LAYOUTS).get(layout.name)
    if registered is not None and registered.num_node == layout.num_node:
        return registered
    return layout


def model_persons(engine: Any, record: Any) -> int:
    """Persons a window carries: a static export's, else the model's own (its stored
    configuration: a model predicts alike with its dataset's plugin gone), else the
    dataset's, else 2."""
    shape = getattr(engine, "input_shape", None)
    if shape is not None and isinstance(shape[4], int):
        return int(shape[4])
    persons = engine.model_config.get("persons")
    if isinstance(persons, int) and not isinstance(persons, bool) and persons >= 1:
        return persons
    return int(record.num_person) if record is not None else 2


def default_window(engine: Any) -> int:
    """The model's own training window (a ``window`` data option), else 150."""
    try:
        return int(engine.data_options.get("window", DEFAULT_WINDOW))
    except (TypeError, ValueError):
        return DEFAULT_WINDOW


def window_plan(classifier: Classifier, request: SkeletonRequest) -> tuple[Layout, int, int, int]:
    """The model's layout and persons, the window and the stride, checked."""
    engine = classifier.engine
    layout = model_layout(engine, classifier.record)
    window = request.window if request.window is not None else default_window(engine)
    stride = request.stride if request.stride is not None else max(1, window // 2)
    if window < 1 or stride < 1:
        raise StgcnError("--window and --stride must be at least 1")
    return layout, model_persons(engine, classifier.record), window, stride


def classify(
    skeletons: PoseSequence,
    classifier: Classifier,
    persons: int,
    window: int,
    stride: int,
) -> tuple[list[WindowResult], int, list[list[Tracked]]]:
    """Every window's clips (one per track for a one-person model, the most salient
    tracks together otherwise) with their top classes; how many classes the model has;
    and every frame's tracked people."""
    tracked = track_frames(skeletons.frames)
    coordinates = classifier.coordinates
    results = []
    classes = 0
    for start, end in windows(len(skeletons.frames), window, stride):
        for clip in window_clips(tracked[start:end], persons, coordinates):
            labelled = classifier.label(clip.sample)
            classes = labelled.classes
            results.append(window_result(start, end, clip.tracks, labelled))
    if not results:  # nobody tracked at all: the empty clip, as a model sees no one
        empty = skeletons.model_input(0, len(skeletons.frames), persons, coordinates)
        labelled = classifier.label(empty)
        results.append(window_result(0, len(skeletons.frames), (), labelled))
        classes = labelled.classes
    return results, classes, tracked


def window_result(
    start: int, end: int, tracks: tuple[int, ...], labelled: Labelled
) -> WindowResult:
    importance = labelled.joint_importance
    return WindowResult(
        start,
        end,
        [(r.index, r.probability) for r in labelled.ranked],
        tracks,
        [round(float(v), 4) for v in importance] if importance is not None else None,
    )


def overlays(
    tracked: Sequence[Sequence[Tracked]],
    results: Sequence[WindowResult],
    names: Sequence[str] | None,
) -> list[list[PersonOverlay]]:
    """What ``--render`` draws on each frame: each tracked person with its id and the top
    class (and joint importance) of the last window starting at or before the frame that
    covers it and holds its track."""
    labels: list[dict[int, WindowResult]] = [{} for _ in tracked]
    for result in results:
        for frame in range(result.start, min(result.end, len(tracked))):
            for track in result.tracks:
                labels[frame][track] = result
    return [
        [person_overlay(person, labels[frame].get(person.track), names) for person in persons]
        for frame, persons in enumerate(tracked)
    ]


def person_overlay(
    person: Tracked, labelled: WindowResult | None, names: Sequence[str] | None
) -> PersonOverlay:
    """A tracked person as drawn: its id, and the top class and joint importance of the
    window that labelled it (none yet: the id alone)."""
    if labelled is None:
        return PersonOverlay(person.joints, person.track)
    index, probability = labelled.ranked[0]
    label = f"{class_name(names, index)} {probability:.2f}"
    return PersonOverlay(person.joints, person.track, label, labelled.joint_importance)


def class_name(names: Sequence[str] | None, index: int) -> str:
    return names[index] if names is not None else f"class {index}"


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


def load_input(request: SkeletonRequest, layout: Layout, max_people: int | None) -> PoseSequence:
    """The clip's skeletons in ``layout``, at most ``max_people`` a frame (the estimator
    asked to look for that many), with a progress bar over a video's frames."""
    from stgcn.loggers.progress import Progress
    from stgcn.pose.readers import parse_frame_size

    kind, path = request.kind, request.source
    size = None if kind == "video" else parse_frame_size(request.frame_size, f"--{kind}")
    source = SkeletonInput(
        kind, Path(path), request.estimator, request.estimator_options, size, max_people
    )
    if kind != "video":
        return read_skeletons(source, layout)
    from stgcn.pose.video import video_facts

    if not Path(path).is_file():  # before the estimator: the likelier mistake
        raise StgcnError(f"video not found: {path}")
    from stgcn.records import POSE_ESTIMATORS

    record = get_registry().get(POSE_ESTIMATORS, request.estimator)
    check_estimator(record, layout)
    total = video_facts(path).frame_count
    progress = Progress(max(total, 1), f"pose ({request.estimator})", unit="frames")
    try:
        return read_skeletons(source, layout, lambda _: progress.update(), record)
    finally:
        progress.close()


def save_skeleton(path: str, skeletons: PoseSequence) -> None:
    write_json(path, skeletons.to_kinetics())


def window_json(
    result: WindowResult, names: Sequence[str] | None, persons: Sequence[Tracked] = ()
) -> dict[str, Any]:
    """A window's JSON: its frames (``end`` one past the last), its tracks, its classes
    (:func:`stgcn_export.prediction.ranked_json`'s schema) and, with --explain, joint
    importance."""
    document: dict[str, Any] = {
        "start": result.start,
        "end": result.end,
        "track": result.track,
        "tracks": list(result.tracks),
        "top5": ranked_json(
            [
                RankedClass(rank, index, probability, names[index] if names else None)
                for rank, (index, probability) in enumerate(result.ranked, start=1)
            ]
        ),
    }
    if result.joint_importance is not None:
        document["joint_importance"] = result.joint_importance
    return document


def json_document(
    skeletons: PoseSequence, results: Sequence[WindowResult], names: Sequence[str] | None
) -> dict[str, Any]:
    """The one line ``predict --json`` prints for a clip of skeletons."""
    return {
        "frames": len(skeletons.frames),
        "frames_with_pose": skeletons.frames_with_pose,
        "windows": [window_json(result, names) for result in results],
    }
