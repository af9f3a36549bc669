"""One video's MediaPipe Pose model (the legacy ``solutions.pose`` API of 0.10.x).

``static_image_mode=False``: MediaPipe detects the person once and then tracks the
landmarks from frame to frame, which is both faster and steadier on a video than
detecting in every frame. A model therefore belongs to one video, in frame order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option
from stgcn.records import PoseModel
from stgcn.system.cores import available_cores
from stgcn_pose_mediapipe.environment import require_mediapipe

#: the most threads a graph's models get by default: MediaPipe's own default on phones
#: (half the cores, 1 to 4; on desktops 1: mediapipe/calculators/tensor/
#: inference_calculator_utils.cc)
MOST_MODEL_THREADS = 4


@contextlib.contextmanager
def quiet_protobuf() -> Iterator[None]:
    """Calls into mediapipe without protobuf 4's deprecation warning, which mediapipe
    0.10.14 sets off on every frame. Around a whole frame's calls, in the thread that
    makes them: ``warnings.catch_warnings`` swaps the process's filters, so that entered
    in several threads at once, one thread's exit restores the filters another saved
    (:mod:`stgcn_pose_mediapipe.people` runs landmarkers in threads)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "SymbolDatabase.GetPrototype", UserWarning)
        yield


def model_threads(requested: int) -> int:
    """The threads the one-person graph's models (their XNNPACK delegates) run on:
    ``requested``, or where that is 0, the cores this process may use, at most
    :data:`MOST_MODEL_THREADS`, for an estimator made in the main thread of a process
    no other started (``stgcn predict``, ``stgcn data extract --workers 1``), and one
    for an estimator made anywhere else, whose siblings share the cores: ``stgcn data
    extract``'s worker processes, ``stgcn serve``'s stream and video threads.

    MediaPipe runs each model on one thread on a desktop, so that one person's estimator
    used one core of two: with two threads its landmark model took 25.7 ms of wall time a
    frame of the astronaut instead of 41.2 (2-core AVX2 EPYC), the same landmarks. More
    threads than free cores are far worse than one: two processes of two threads each on
    those 2 cores took 170 ms a frame each, against 36 with one thread each."""
    if requested:
        return requested
    alone = (
        multiprocessing.parent_process() is None
        and threading.current_thread() is threading.main_thread()
    )
    return min(available_cores(), MOST_MODEL_THREADS) if alone else 1


@functools.cache
def threaded_pose() -> type:
    """The legacy ``mp.solutions.pose.Pose`` taking ``model_threads``, the threads of its
    models' XNNPACK delegates.

    The legacy API sets calculator options one level deep (``calculator_params``), and
    the thread count is two levels down (``delegate.xnnpack.num_threads``), so the graph's
    inference calculators are set where the class edits its graph before starting it.

    Not for ``Holistic``: its graph runs its pose, face and hand models at once already
    (105 ms of CPU in 77.5 of wall time a frame), and with two threads each a frame took
    354 ms. ``Hands`` keeps MediaPipe's one thread too: no photograph at hand shows hands
    to measure its landmark model on."""
    import mediapipe as mp
    from mediapipe.calculators.tensor.inference_calculator_pb2 import (
        InferenceCalculatorOptions,
    )

    class ThreadedPose(mp.solutions.pose.Pose):
        def __init__(self, model_threads: int, **kwargs: Any) -> None:
            self._model_threads = model_threads
            super().__init__(**kwargs)

        def _modify_calculator_options(self, config: Any, params: Any) -> None:
            super()._modify_calculator_options(config, params)
            inference = [n for n in config.node if n.calculator.startswith("InferenceCalculator")]
            if not inference:
                raise StgcnError("mediapipe: the pose graph runs no model")
            for node in inference:
                # the pose graph's models have proto2 options; written there beside
                # proto3 node_options (as the holistic graph's face model has them),
                # they would replace those, the model's path among them
                if node.node_options:
                    raise StgcnError(f"mediapipe: {node.name} has options stgcn cannot set")
                options = node.options.Extensions[InferenceCalculatorOptions.ext]
                options.delegate.xnnpack.num_threads = self._model_threads

    return ThreadedPose


def _fraction(value: object, what: str) -> float:
    try:
        number = float(str(value))
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise StgcnError(f"{what} expects a number in [0, 1], got {value!r}")
    return number


def _shipped_complexity(value: object, what: str) -> int:
    # the 0.10.14 wheel ships pose_landmark_full (1) only; 0 (lite) and 2 (heavy) are
    # downloaded on first use, which a machine without a network cannot do
    if str(value) != "1":
        raise StgcnError(
            f"mediapipe: model_complexity 1 is the model the wheel ships; {str(value)!r} "
            "would be downloaded"
        )
    return 1


@dataclass(frozen=True)
class MediaPipeSettings(Settings):
    """The ``--estimator-option KEY=VALUE`` settings of the mediapipe estimator."""

    family: ClassVar[str] = "mediapipe"
    sort_known: ClassVar[bool] = True

    model_complexity: int = option(
        1, "the pose model (1: the one the wheel ships)", parse=_shipped_complexity
    )
    min_detection_confidence: float = option(0.5, "the score a detection needs", parse=_fraction)
    min_tracking_confidence: float = option(0.5, "the score tracking needs", parse=_fraction)
    smooth_landmarks: bool = option(True, "smooth landmarks across frames")
    max_people: int = option(
        1, "people a frame (1: track one person; more: find each afresh)", least=1
    )
    threads: int = option(
        0, "threads of the pose models (0: the cores up to 4; 1 in a worker)", least=0
    )


#: ``--estimator-option`` keys and their defaults
DEFAULTS = {key: str(default).lower() for key, default, _ in MediaPipeSettings.help()}


def settings(options: Mapping[str, str]) -> dict[str, object]:
    """The keyword arguments of :func:`threaded_pose`'s class, checked."""
    parsed = dataclasses.asdict(MediaPipeSettings.parse(options))
    parsed.pop("max_people")
    threads = parsed.pop("threads")
    return {"static_image_mode": False, "model_threads": model_threads(threads), **parsed}


def in_frame(landmarks: np.ndarray) -> np.ndarray:
    """MediaPipe's ``(33, 3)`` landmarks as a skeleton: float32, the visibility clipped
    to [0, 1] as the score, and a landmark outside the frame not found.

    MediaPipe places every landmark, also those outside the frame (legs below a
    portrait's edge, at y = 1.9 with a low visibility); OpenPose, and so the Kinetics
    data, reports such joints as not found. Do the same: x = y = score = 0.
    """
    person = np.asarray(landmarks, dtype=np.float32).copy()
    person[:, 2] = np.clip(person[:, 2], 0.0, 1.0)
    outside = ((person[:, :2] < 0.0) | (person[:, :2] > 1.0)).any(axis=1)
    person[outside] = 0.0
    return person


def check_image(image: np.ndarray, estimator: str) -> None:
    """Refuse anything but the RGB uint8 frame the core hands an estimator."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise StgcnError(f"{estimator} takes RGB uint8 images, got {image.dtype} {image.shape}")


def open_pose(options: Mapping[str, str]) -> PoseModel:
    """One person tracked (``max_people=1``, the default) or several found in each frame
    (:mod:`stgcn_pose_mediapipe.people`)."""
    parsed = MediaPipeSettings.parse(options)
    if parsed.max_people == 1:
        return MediaPipePose(options)
    if parsed.threads:
        raise StgcnError(
            "mediapipe: threads is for one person (max_people=1); several people run one "
            "landmarker a core"
        )
    require_mediapipe("mediapipe")
    from stgcn_pose_mediapipe.people import MediaPipePeople

    return MediaPipePeople(
        parsed.max_people, parsed.min_detection_confidence, parsed.min_tracking_confidence
    )


class MediaPipePose:
    """A :class:`stgcn.records.PoseModel`: at most one person per frame, 33 landmarks,
    x and y as fractions of the frame, the landmark's visibility as its score, and a
    landmark outside the frame not found (all zero), as OpenPose reports it."""

    def __init__(self, options: Mapping[str, str]) -> None:
        kwargs = settings(options)
        require_mediapipe("mediapipe")
        # MediaPipe's C++ graph logs a few lines to the process's stderr as its models
        # start; stgcn.pose.video runs estimators with those native writes set aside
        self._pose = threaded_pose()(**kwargs)

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image, "mediapipe")
        with quiet_protobuf():
            results = self._pose.process(np.ascontiguousarray(image))
        if results.pose_landmarks is None:
            return []
        landmarks = results.pose_landmarks.landmark
        return [in_frame(np.array([[mark.x, mark.y, mark.visibility] for mark in landmarks]))]

    def close(self) -> None:
        self._pose.close()
