"""Videos in and out, through OpenCV, imported only here and only when a video is read.

``import stgcn`` never imports cv2: most uses of stgcn read skeleton files, and OpenCV
is a large wheel. ``pip install 'stgcn-core[video]'`` adds it (the opencv-contrib
build, the one MediaPipe 0.10 depends on, so that the two never install rival copies
of the ``cv2`` module).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stgcn.errors import StgcnError, first_line, plugin_code
from stgcn.plugins.pose_records import PoseOpenRequest
from stgcn.pose.skeletons import PoseSequence

if TYPE_CHECKING:
    from stgcn.plugins.records import PoseEstimator

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@contextlib.contextmanager
def native_stderr_aside() -> Iterator[None]:
    """Writes of native code to file descriptor 2 go to /dev/null; Python's ``sys.stderr``
    keeps reaching the terminal (through a copy of the descriptor).

    FFmpeg inside OpenCV prints its complaints about a broken file, and estimators'
    C++ libraries (MediaPipe's graph, TensorFlow Lite) log start-up lines, some from
    their own threads while frames are processed: on a command whose errors are one
    line, they read as problems. ``stgcn --debug`` leaves them be.
    """
    if os.environ.get("STGCN_DEBUG") == "1":
        yield
        return
    previous = sys.stderr
    try:
        previous.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no descriptor 2 to set aside
        yield
        return
    stream = open(  # noqa: SIM115 - closed in the finally below
        saved,
        "w",
        buffering=1,
        closefd=False,
        encoding=getattr(previous, "encoding", None) or "utf-8",
        errors="backslashreplace",
    )
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
        sys.stderr = stream
        yield
    finally:
        stream.flush()
        sys.stderr = previous
        os.dup2(saved, 2)
        stream.close()
        os.close(saved)


def cv2() -> Any:
    """The cv2 module, or one line saying what to install."""
    try:
        import cv2 as module
    except ImportError as error:
        raise StgcnError(
            f"reading videos needs OpenCV ({first_line(error)}): "
            "pip install 'stgcn-core[video]' (or stgcn-pose-mediapipe, which brings it)"
        ) from None
    return module


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    fps: float
    #: what the container says; the frames actually decoded may differ
    frame_count: int


def _open(path: Path) -> Any:
    if not path.is_file():
        raise StgcnError(f"video not found: {path}")
    module = cv2()
    with native_stderr_aside():
        capture = module.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise StgcnError(f"cannot read {path}: not a video OpenCV can decode")
    return capture


def video_facts(path: str | os.PathLike[str]) -> VideoFacts:
    """Size, frame rate and frame count of ``path``, checked to be a readable video."""
    path = Path(path)
    capture = _open(path)
    try:
        module = cv2()
        width = int(capture.get(module.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(module.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(module.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(module.CAP_PROP_FRAME_COUNT) or 0)
        if width <= 0 or height <= 0:
            raise StgcnError(f"cannot read {path}: it has no video frames")
        return VideoFacts(width, height, fps if fps > 0 else 30.0, max(count, 0))
    finally:
        capture.release()


def read_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Every frame of ``path`` as an RGB uint8 array ``(height, width, 3)`` (OpenCV
    decodes to BGR; estimators such as MediaPipe take RGB)."""
    path = Path(path)
    capture = _open(path)
    module = cv2()
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield module.cvtColor(frame, module.COLOR_BGR2RGB)
    finally:
        capture.release()


def estimate_video(
    path: str | os.PathLike[str],
    estimator: PoseEstimator,
    options: Mapping[str, str] | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> PoseSequence:
    """The estimator's skeletons for every frame of ``path``, in its own joints; a video
    that decodes no frame at all is refused as unreadable."""
    path = Path(path)
    facts = video_facts(path)
    frames: list[list[np.ndarray]] = []
    what = f"pose estimator {estimator.name!r}"
    with native_stderr_aside():
        with plugin_code(what, estimator.plugin, "open"):
            model = estimator.open(PoseOpenRequest(options=dict(options or {})))
        try:
            for image in read_frames(path):
                with plugin_code(what, estimator.plugin, f"estimate (frame {len(frames)})"):
                    persons = model.estimate(image)
                    found = [np.asarray(p, dtype=np.float32) for p in persons]
                frames.append(found)
                if on_frame is not None:
                    on_frame(len(frames))
        finally:
            with plugin_code(what, estimator.plugin, "close"):
                model.close()
    if not frames:
        raise StgcnError(f"cannot read {path}: no frame could be decoded")
    return PoseSequence(
        tuple(estimator.joints),
        frames,
        facts.width,
        facts.height,
        facts.fps,
        subject=estimator.subject,
    )


@dataclass(frozen=True)
class PersonOverlay:
    """One person drawn on a frame: joints ``(V, 3)`` in [0, 1] coordinates, the track
    id and label written over the head, and each joint's importance in [0, 1] (drawn
    as the joint's size and a colour from blue to red) where known."""

    joints: np.ndarray
    track: int | None = None
    label: str = ""
    importance: Sequence[float] | None = None


def render_video(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    skeletons: PoseSequence,
    edges: Sequence[tuple[int, int]],
    captions: Sequence[str],
    people: Sequence[Sequence[PersonOverlay]] | None = None,
) -> Path:
    """``source`` again with each frame's skeletons drawn over it and ``captions[t]``
    written at its top, to ``output`` (an mp4), through a temporary file renamed at the
    end, so that a failure leaves no half-written video and replaces nothing.
    ``people[t]``, where given, are frame ``t``'s people with their track ids and labels
    (drawn instead of the bare skeletons)."""
    cv2()  # OpenCV present, or one line saying what to install
    source, output = Path(source), Path(output)
    if output.exists() and output.resolve() == source.resolve():
        raise StgcnError(f"--render {output} is the input video; choose another file")
    facts = video_facts(source)
    writer = VideoOutput(output, facts.fps, (facts.width, facts.height))
    capture = _open(source)
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if people is not None:
                drawn = people[index] if index < len(people) else []
            else:
                persons = skeletons.frames[index] if index < len(skeletons.frames) else []
                drawn = [PersonOverlay(person) for person in persons]
            caption = captions[index] if index < len(captions) else ""
            draw_people(frame, drawn, edges, caption)
            writer.write(frame)
            index += 1
    except BaseException:
        writer.discard()
        raise
    finally:
        capture.release()
    if index == 0:
        writer.discard()
        raise StgcnError(f"cannot read {source}: no frame could be decoded")
    return writer.finish()


class VideoOutput:
    """An mp4 written to a temporary name beside ``path`` and renamed by :meth:`finish`,
    so that what is at ``path`` is always a whole video (a stream's render stays valid
    when the stream stops)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        module = cv2()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.temporary = path.with_name(f".{path.stem}.incomplete{path.suffix or '.mp4'}")
        self.frames = 0
        self._writer = module.VideoWriter(
            str(self.temporary), module.VideoWriter_fourcc(*"mp4v"), fps, size
        )
        if not self._writer.isOpened():
            raise StgcnError(f"cannot write {path}: OpenCV has no mp4 encoder here")

    def write(self, frame_bgr: np.ndarray) -> None:
        self._writer.write(frame_bgr)
        self.frames += 1

    def finish(self) -> Path:
        self._writer.release()
        os.replace(self.temporary, self.path)
        return self.path

    def discard(self) -> None:
        self._writer.release()
        self.temporary.unlink(missing_ok=True)


def draw_people(
    frame: np.ndarray,
    people: Sequence[PersonOverlay],
    edges: Sequence[tuple[int, int]],
    caption: str = "",
) -> None:
    """Draw ``people`` and a caption on a BGR ``frame`` in place."""
    module = cv2()
    for person in people:
        _draw(module, frame, person, edges)
    if caption:
        _text(module, frame, caption, (8, 24))


def _text(module: Any, frame: np.ndarray, text: str, origin: tuple[int, int]) -> None:
    font = module.FONT_HERSHEY_SIMPLEX
    # a wide black stroke, then the white text over it: readable on any frame
    for color, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        module.putText(frame, text, origin, font, 0.6, color, width, module.LINE_AA)


def _draw(
    module: Any, frame: np.ndarray, person: PersonOverlay, edges: Sequence[tuple[int, int]]
) -> None:
    height, width = frame.shape[:2]
    points = [
        (round(float(x) * width), round(float(y) * height)) if score > 0 else None
        for x, y, score in person.joints
    ]
    for a, b in edges:
        if points[a] is not None and points[b] is not None:
            module.line(frame, points[a], points[b], (0, 255, 0), 2, module.LINE_AA)
    importance = person.importance
    for index, point in enumerate(points):
        if point is None:
            continue
        if importance is None:
            module.circle(frame, point, 3, (0, 0, 255), -1, module.LINE_AA)
            continue
        weight = min(max(float(importance[index]), 0.0), 1.0)
        colour = (round(255 * (1 - weight)), 0, round(255 * weight))  # BGR: blue to red
        module.circle(frame, point, 3 + round(7 * weight), colour, -1, module.LINE_AA)
    seen = [point for point in points if point is not None]
    if seen and (person.track is not None or person.label):
        x = min(p[0] for p in seen)
        y = max(min(p[1] for p in seen) - 10, 16)
        tag = f"#{person.track} " if person.track is not None else ""
        _text(module, frame, f"{tag}{person.label}".strip(), (x, y))
