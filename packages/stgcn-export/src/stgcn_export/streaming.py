"""``stgcn predict --stream SRC``: a camera, a network stream or a file, labelled as the
frames arrive.

Two threads. The reader decodes frames and hands them over through a queue of one:
from a live source (a camera, a URL, or a file paced at its frame rate by
``--realtime``) a frame that arrives while the previous one still waits replaces it and
is counted as dropped, so that a slow machine falls behind by frames skipped, never by a
backlog that grows without bound; a plain file is read as fast as it is processed, with
nothing dropped. The main thread estimates the pose, tracks the people
(:mod:`stgcn.pose.tracking`), keeps the last ``window`` frames and, every ``stride``
frames, classifies each track's clip (or the most salient tracks together, for a model
of several persons), printing a line per clip as it comes. The end of the source or
Ctrl-C ends with a summary; the render is renamed into place whatever happens, so what
was written stays a whole video.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError, first_line
from stgcn.pose.tracking import Tracked, Tracker, most_salient, window_clips
from stgcn.pose.video import VideoOutput, cv2, draw_people, native_stderr_aside
from stgcn.records import Layout
from stgcn_export.classifier import Classifier
from stgcn_export.video_prediction import (
    WindowResult,
    class_name,
    person_overlay,
    window_json,
    window_result,
)

#: the parts of the work timed for the summary, in pipeline order
PARTS = ("decode", "pose", "tracking", "classification")


@dataclass(frozen=True)
class Frame:
    #: the frame's number in the source (dropped frames counted)
    index: int
    #: time.perf_counter() when the frame was delivered
    arrival: float
    image_bgr: np.ndarray
    decode_s: float


def open_capture(spec: str) -> tuple[Any, bool]:
    """The OpenCV capture of ``spec`` (a camera index, a URL, or a file) and whether the
    source is live (frames come whether or not they are taken)."""
    module = cv2()
    target: int | str
    if spec.isdigit():
        target, live = int(spec), True
    elif "://" in spec:
        target, live = spec, True
    else:
        if not Path(spec).is_file():
            raise StgcnError(f"stream source not found: {spec}")
        target, live = spec, False
    with native_stderr_aside():
        capture = module.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise StgcnError(f"cannot open stream source {spec}: OpenCV cannot read it")
    return capture, live


class FrameReader:
    """Decodes frames on a thread of its own (see the module's docstring)."""

    def __init__(self, spec: str, realtime: bool) -> None:
        self.spec = spec
        self.capture, live = open_capture(spec)
        module = cv2()
        self.fps = float(self.capture.get(module.CAP_PROP_FPS) or 0.0) or 30.0
        self.width = int(self.capture.get(module.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(module.CAP_PROP_FRAME_HEIGHT))
        self.expected = 0 if live else int(self.capture.get(module.CAP_PROP_FRAME_COUNT) or 0)
        self.live = live or realtime
        self.pace = realtime and not live
        self.read = 0
        self.dropped = 0
        self.decode_s = 0.0
        #: the reader thread's own CPU time spent decoding
        self.decode_cpu_s = 0.0
        self.failure: str | None = None
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=1 if self.live else 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stgcn-frames", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.capture.release()

    def frames(self, stopping: Callable[[], bool]) -> Iterator[Frame]:
        """The frames as they come, until the source ends or ``stopping()``."""
        while not stopping():
            try:
                frame = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if frame is None:
                return
            yield frame

    def _deliver(self, frame: Frame | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(frame, timeout=0.1 if not self.live else 0)
                return
            except queue.Full:
                if self.live and frame is not None:
                    try:  # the waiting frame is stale: the new one replaces it
                        self._queue.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
                elif self.live:  # the end: wait for room rather than drop a frame
                    time.sleep(0.01)

    def _run(self) -> None:
        started = time.perf_counter()
        # no native_stderr_aside here: it swaps the process's descriptor 2, which only
        # one thread may do; the command sets it aside around the whole run
        try:
            while not self._stop.is_set():
                begin, cpu = time.perf_counter(), time.thread_time()
                ok, image = self.capture.read()
                decoded = time.perf_counter() - begin
                self.decode_cpu_s += time.thread_time() - cpu
                if not ok:
                    self._check_end()
                    break
                if self.pace:
                    delay = started + self.read / self.fps - time.perf_counter()
                    if delay > 0:
                        self._stop.wait(delay)
                self.decode_s += decoded
                frame = Frame(self.read, time.perf_counter(), image, decoded)
                self.read += 1
                self._deliver(frame)
        except Exception as error:  # a decoder's failure mid-way ends the stream in one line
            self.failure = f"{self.spec} failed after {self.read} frames: {error}"
        finally:
            self._deliver(None)

    def _check_end(self) -> None:
        if self.read == 0:
            self.failure = f"{self.spec} delivered no frame"
        elif self.expected and self.read < self.expected:
            self.failure = (
                f"{self.spec} ended early: {self.read} of its {self.expected} frames decoded"
            )
        elif not self.expected and (self.spec.isdigit() or "://" in self.spec):
            self.failure = f"{self.spec} stopped delivering frames after {self.read}"


@dataclass(frozen=True)
class StreamSettings:
    """How ``--stream`` runs: the model's layout and persons, the windows, the people
    followed, and the outputs."""

    layout: Layout
    persons: int
    window: int
    stride: int
    max_people: int | None
    as_json: bool
    render: str | None = None
    show: bool = False
    realtime: bool = False


@dataclass
class StreamFigures:
    """What the summary reports."""

    processed: int = 0
    windows: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))
    #: CPU seconds of the whole process during each part (on a shared machine the wall
    #: time includes waiting for a core; this does not)
    cpu_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))
    wall_s: float = 0.0
    interrupted: bool = False

    def summary(self, reader: FrameReader, tracks: int) -> dict[str, Any]:
        processed = max(self.processed, 1)
        seconds = {**self.seconds, "decode": reader.decode_s}
        per_frame = {part: round(1000 * seconds[part] / processed, 3) for part in PARTS}
        cpu = {**self.cpu_seconds, "decode": reader.decode_cpu_s}
        cpu_per_frame = {part: round(1000 * cpu[part] / processed, 3) for part in PARTS}
        latency = sum(self.latencies) / len(self.latencies) if self.latencies else None
        return {
            "frames": reader.read,
            "processed": self.processed,
            "dropped": reader.dropped,
            "tracks": tracks,
            "windows": self.windows,
            "mean_latency_s": round(latency, 4) if latency is not None else None,
            "fps": round(self.processed / self.wall_s, 2) if self.wall_s > 0 else None,
            "source_fps": round(reader.fps, 2),
            "ms_per_frame": per_frame,
            "cpu_ms_per_frame": cpu_per_frame,
            "interrupted": self.interrupted,
        }


def describe_summary(summary: dict[str, Any]) -> str:
    parts = ", ".join(f"{part} {ms:.1f}" for part, ms in summary["ms_per_frame"].items())
    latency = summary["mean_latency_s"]
    latency_text = f"{latency:.3f} s" if latency is not None else "none (no window)"
    ended = "interrupted" if summary["interrupted"] else "ended"
    return (
        f"stream {ended}: {summary['frames']} frames, {summary['processed']} processed, "
        f"{summary['dropped']} dropped, {summary['tracks']} tracks, {summary['windows']} "
        f"labelled clips; {summary['fps']} frames/s (source {summary['source_fps']}); mean "
        f"latency {latency_text}; ms per frame: {parts}"
    )


def refuse_show_without_display() -> None:
    """``--show`` needs a window system: one line where there is none (checked before
    the source is opened)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise StgcnError(
            "--show needs a display and none is here (DISPLAY is unset); use --render FILE.mp4"
        )


#: the title of ``--show``'s window
WINDOW_TITLE = "stgcn predict --stream"


def open_window() -> None:
    """``--show``'s window, or one line where this OpenCV build has no window support
    (the headless wheels)."""
    module = cv2()
    try:
        module.namedWindow(WINDOW_TITLE, module.WINDOW_NORMAL)
    except module.error as error:
        raise StgcnError(f"--show cannot open a window: {first_line(error)}") from None


def window_line(
    result: WindowResult,
    names: Sequence[str] | None,
    when: tuple[float, int],
    box: list[int] | None,
) -> dict[str, Any]:
    """A labelled window as ``--stream --json`` prints it (``stgcn serve``'s WebSocket
    sends the same): ``when`` is the window's last frame as (seconds, frame number),
    ``box`` its main track's pixel box there; joint importance with ``--explain``."""
    document = window_json(result, names)
    line = {
        "time": when[0],
        "frame": when[1],
        "track": result.track,
        "tracks": document["tracks"],
        "box": box,
        "top5": document["top5"],
    }
    if "joint_importance" in document:
        line["joint_importance"] = document["joint_importance"]
    return line


class StreamRun:
    """One ``--stream`` run: :meth:`run` returns the summary."""

    def __init__(
        self,
        reader: FrameReader,
        pose: Callable[[np.ndarray], Sequence[np.ndarray]],
        classifier: Classifier,
        settings: StreamSettings,
        edges: Sequence[tuple[int, int]],
        emit: Callable[[str], None],
    ) -> None:
        self.reader = reader
        self.pose = pose
        self.classifier = classifier
        self.settings = settings
        self.edges = edges
        self.emit = emit
        self.tracker = Tracker()
        self.figures = StreamFigures()
        self.recent: deque[tuple[Frame, list[Tracked]]] = deque(maxlen=settings.window)
        self.labels: dict[int, WindowResult] = {}
        self.last_window_end = 0
        self.classes = 0
        self.output: VideoOutput | None = None
        #: set by Ctrl-C (or q in --show's window)
        self.stopping = threading.Event()

    def run(self) -> dict[str, Any]:
        settings = self.settings
        if settings.show:
            open_window()
        if settings.render:
            size = (self.reader.width, self.reader.height)
            self.output = VideoOutput(Path(settings.render), self.reader.fps, size)
        # Ctrl-C asks to stop between two frames, so that the frame at hand is finished
        # (labelled, rendered) and the summary counts what was written
        previous = signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        started = time.perf_counter()
        self.reader.start()
        try:
            for frame in self.reader.frames(self.stopping.is_set):
                self._step(frame)
            self._last_window()
            self.figures.interrupted = self.stopping.is_set()
        finally:
            signal.signal(signal.SIGINT, previous)
            self.figures.wall_s = time.perf_counter() - started
            self.reader.stop()
            if self.output is not None:
                if self.output.frames:
                    self.output.finish()
                else:
                    self.output.discard()
            if settings.show:
                cv2().destroyAllWindows()
        return self.figures.summary(self.reader, self.tracker.started)

    def _timed(self, part: str, begin: tuple[float, float]) -> tuple[float, float]:
        """Add the wall and CPU time since ``begin`` to ``part``; the new start."""
        now = (time.perf_counter(), time.process_time())
        self.figures.seconds[part] += now[0] - begin[0]
        self.figures.cpu_seconds[part] += now[1] - begin[1]
        return now

    def _step(self, frame: Frame) -> None:
        module = cv2()
        begin = (time.perf_counter(), time.process_time())
        image = module.cvtColor(frame.image_bgr, module.COLOR_BGR2RGB)
        people = self.pose(image)
        begin = self._timed("pose", begin)
        tracked = self.tracker.update(most_salient(people, self.settings.max_people))
        self._timed("tracking", begin)
        self.recent.append((frame, tracked))
        self.figures.processed += 1
        count, window, stride = self.figures.processed, self.settings.window, self.settings.stride
        if count >= window and (count - window) % stride == 0:
            self._classify()
        self._draw(frame, tracked)

    def _last_window(self) -> None:
        """The frames after the last window (or all, short of one window) as a window
        ending at the last frame, as ``predict --video`` labels a clip's end."""
        if self.recent and self.figures.processed > self.last_window_end:
            self._classify()

    def _classify(self) -> None:
        begin = (time.perf_counter(), time.process_time())
        frames = [frame for frame, _ in self.recent]
        tracked = [people for _, people in self.recent]
        last = frames[-1]
        end = self.figures.processed
        start = end - len(frames)
        by_track = {person.track: person for person in tracked[-1]}
        coordinates = self.classifier.coordinates
        for clip in window_clips(tracked, self.settings.persons, coordinates):
            labelled = self.classifier.label(clip.sample)
            self.classes = labelled.classes
            result = window_result(start, end, clip.tracks, labelled)
            for track in clip.tracks:
                self.labels[track] = result
            now = time.perf_counter()
            self.figures.latencies.append(now - last.arrival)
            self.figures.windows += 1
            self._report(result, labelled.classes, last, by_track.get(clip.track))
        self.last_window_end = end
        self._timed("classification", begin)

    def _report(
        self, result: WindowResult, classes: int, last: Frame, person: Tracked | None
    ) -> None:
        names = self.classifier.names_for(classes)
        box = person.pixel_box(self.reader.width, self.reader.height) if person else None
        seconds = round(last.index / self.reader.fps, 3)
        if self.settings.as_json:
            import json

            self.emit(json.dumps(window_line(result, names, (seconds, last.index), box)))
            return
        shown = ", ".join(f"{class_name(names, i)} {p:.3f}" for i, p in result.ranked[:3])
        where = f" at {box}" if box else ""
        self.emit(f"{seconds:8.2f} s  frame {last.index:>6}  track {result.track}{where}: {shown}")

    def _draw(self, frame: Frame, tracked: Sequence[Tracked]) -> None:
        if self.output is None and not self.settings.show:
            return
        names = self.classifier.names_for(self.classes) if self.labels else None
        drawn = [person_overlay(person, self.labels.get(person.track), names) for person in tracked]
        image = frame.image_bgr.copy()
        draw_people(image, drawn, self.edges, f"frame {frame.index}")
        if self.output is not None:
            self.output.write(image)
        if self.settings.show:
            module = cv2()
            module.imshow(WINDOW_TITLE, image)
            if module.waitKey(1) & 0xFF in (ord("q"), 27):
                self.stopping.set()
