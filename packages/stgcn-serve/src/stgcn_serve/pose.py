"""Skeletons from pictures for the server: a whole uploaded video (``POST
/v1/predict/video``, answered as ``stgcn predict --video --json`` is) and a stream of
camera frames (``GET /v1/stream``, labelled as ``stgcn predict --stream --json`` labels).

Both go through the pose estimator plugin registered under ``--estimator`` (the public
plugin API's :class:`stgcn.records.PoseEstimator`) and stgcn-export's own window code,
so that the server's windows are the command's. Everything here is blocking work: the
application runs it in worker threads.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stgcn_export.classifier import Classifier
from stgcn_export.streaming import window_line
from stgcn_export.video_prediction import json_document, model_layout, model_persons, window_result

from stgcn.errors import StgcnError, plugin_code
from stgcn.pose.tracking import Tracked, Tracker, most_salient, window_clips
from stgcn.records import Layout, PoseEstimator


class BadPicture(Exception):
    """What the client sent is no picture or video the server can read: one line why."""


@dataclass(frozen=True)
class PoseSetup:
    """The estimator and the windows, settled when the server starts: the estimator's
    record (None where it is not installed: ``unavailable`` says why), its options, the
    model's layout and persons, and the default window, stride and people a frame."""

    estimator: PoseEstimator | None
    unavailable: str | None
    options: Mapping[str, str]
    layout: Layout
    persons: int
    window: int
    stride: int
    max_people: int | None

    def record(self) -> PoseEstimator:
        """The estimator; a StgcnError saying why when none is installed."""
        if self.estimator is None:
            raise StgcnError(self.unavailable or "no pose estimator")
        return self.estimator


@dataclass(frozen=True)
class Windows:
    """One request's windows (the query's, else the server's)."""

    window: int
    stride: int
    max_people: int

    @classmethod
    def of(cls, setup: PoseSetup, query: Mapping[str, str]) -> Windows:
        """``window``, ``stride`` and ``max_people`` from a request's query, each a
        whole number of at least 1 (:class:`BadPicture`'s 422 otherwise)."""
        values = {
            "window": setup.window,
            "stride": setup.stride,
            "max_people": setup.max_people or setup.persons,
        }
        for name in values:
            given = query.get(name)
            if given is None:
                continue
            if not given.isdigit() or int(given) < 1:
                raise StgcnError(f"{name} must be a whole number of at least 1, got {given!r}")
            values[name] = int(given)
        if query.get("window") is not None and query.get("stride") is None:
            values["stride"] = max(1, values["window"] // 2)  # as predict's default
        return cls(values["window"], values["stride"], values["max_people"])


def pose_setup(
    classifier: Classifier,
    estimator_name: str,
    options: Mapping[str, str],
    windows: tuple[int | None, int | None, int | None],
) -> PoseSetup:
    """The server's :class:`PoseSetup`. The model's layout must be known (else one
    line). An estimator that is not installed, or that lacks a joint of the layout (a
    body estimator for a hand model), only turns the picture routes off, saying why:
    the clip route needs none."""
    from stgcn_export.video_prediction import default_window

    from stgcn.plugins.registry import get_registry
    from stgcn.pose.inputs import check_estimator
    from stgcn.records import POSE_ESTIMATORS

    engine = classifier.engine
    layout = model_layout(engine, classifier.record)
    persons = model_persons(engine, classifier.record)
    window, stride, max_people = windows
    window = window if window is not None else default_window(engine)
    stride = stride if stride is not None else max(1, window // 2)
    if window < 1 or stride < 1 or (max_people is not None and max_people < 1):
        raise StgcnError("--window, --stride and --max-people must be at least 1")
    table = get_registry().table(POSE_ESTIMATORS)
    estimator = table.get(estimator_name)
    unavailable = None
    if estimator is None:
        known = ", ".join(sorted(table)) or "none"
        unavailable = (
            f"pose estimator {estimator_name!r} is not installed (installed: {known}): "
            "this server classifies clips only"
        )
    else:
        try:
            check_estimator(estimator, layout)
        except StgcnError as error:
            estimator, unavailable = None, f"{error}: this server classifies clips only"
    return PoseSetup(
        estimator, unavailable, dict(options), layout, persons, window, stride, max_people
    )


def estimator_options(setup: PoseSetup, max_people: int) -> dict[str, str]:
    from stgcn.pose.inputs import estimator_options_for

    return estimator_options_for(setup.record(), setup.options, max_people)


def predict_video(
    classifier: Classifier, setup: PoseSetup, path: Path, windows: Windows
) -> dict[str, Any]:
    """``stgcn predict --video PATH --json``'s document for the uploaded video: the same
    skeletons (the estimator over every frame, in the model's layout, the most salient
    ``max_people``), tracks and windows."""
    from stgcn_export.video_prediction import classify

    from stgcn.pose.inputs import SkeletonInput, read_skeletons

    estimator = setup.record()
    source = SkeletonInput("video", path, estimator.name, setup.options, None, windows.max_people)
    skeletons = read_skeletons(source, setup.layout, None, estimator)
    if skeletons.frames_with_pose == 0:
        raise StgcnError(f"no person found in the video ({len(skeletons.frames)} frames)")
    results, count, _ = classify(
        skeletons, classifier, setup.persons, windows.window, windows.stride
    )
    return json_document(skeletons, results, classifier.names_for(count))


def decode_jpeg(data: bytes) -> np.ndarray:
    """An RGB ``(H, W, 3)`` uint8 picture from JPEG (or PNG) bytes; :class:`BadPicture`
    when they are none."""
    from stgcn.pose.video import cv2

    module = cv2()
    image = module.imdecode(np.frombuffer(data, np.uint8), module.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise BadPicture(f"frame of {len(data)} bytes is not a JPEG or PNG picture")
    return module.cvtColor(image, module.COLOR_BGR2RGB)


class StreamSession:
    """One WebSocket's frames: the estimator opened for it, its tracker, its last
    ``window`` frames and, every ``stride`` frames processed, each track's labels.
    Made, used and closed in one worker thread (the estimator's graph is its own)."""

    def __init__(self, classifier: Classifier, setup: PoseSetup, windows: Windows) -> None:
        from stgcn.records import PoseOpenRequest

        estimator = setup.record()
        self.classifier = classifier
        self.setup = setup
        self.windows = windows
        self.what = f"pose estimator {estimator.name!r}"
        self.plugin = estimator.plugin
        self.joints = tuple(estimator.joints)
        options = estimator_options(setup, windows.max_people)
        with plugin_code(self.what, self.plugin, "open"):
            self.model = estimator.open(PoseOpenRequest(options=options))
        self.tracker = Tracker()
        self.recent: deque[list[Tracked]] = deque(maxlen=windows.window)
        self.processed = 0
        self.started = time.monotonic()

    def close(self) -> None:
        with plugin_code(self.what, self.plugin, "close"):
            self.model.close()

    @property
    def tracks(self) -> int:
        return self.tracker.started

    def frame(self, index: int, data: bytes) -> dict[str, Any]:
        """Frame ``index``'s answer: its tracked people (joints in [0, 1] of the frame,
        each with its track id and box) and, when a window ends here, the labelled
        windows as ``predict --stream --json`` lines."""
        from stgcn.pose.skeletons import PoseSequence

        image = decode_jpeg(data)
        height, width = image.shape[:2]
        with plugin_code(self.what, self.plugin, f"estimate (frame {index})"):
            found = [np.asarray(p, dtype=np.float32) for p in self.model.estimate(image)]
        people = (
            PoseSequence(self.joints, [found]).to_layout(self.setup.layout).frames[0]
            if found
            else []
        )
        tracked = self.tracker.update(most_salient(people, self.windows.max_people))
        self.recent.append(tracked)
        self.processed += 1
        count, window, stride = self.processed, self.windows.window, self.windows.stride
        labelled = []
        if count >= window and (count - window) % stride == 0:
            labelled = self._classify(index, tracked, (width, height))
        return {
            "type": "frame",
            "frame": index,
            "width": width,
            "height": height,
            "people": [
                {
                    "track": person.track,
                    "joints": np.round(person.joints, 4).tolist(),
                    "box": person.pixel_box(width, height),
                }
                for person in tracked
            ],
            "windows": labelled,
        }

    def _classify(
        self, index: int, last: list[Tracked], size: tuple[int, int]
    ) -> list[dict[str, Any]]:
        frames = list(self.recent)
        end = self.processed
        start = end - len(frames)
        by_track = {person.track: person for person in last}
        seconds = round(time.monotonic() - self.started, 3)
        lines = []
        for clip in window_clips(frames, self.setup.persons, self.classifier.coordinates):
            labelled = self.classifier.label(clip.sample)
            result = window_result(start, end, clip.tracks, labelled)
            person = by_track.get(clip.track)
            box = person.pixel_box(*size) if person is not None else None
            names = self.classifier.names_for(labelled.classes)
            lines.append(window_line(result, names, (seconds, index), box))
        return lines
