"""Several people a frame (``--estimator-option max_people=N`` with N > 1, or the core's
``--max-people N``): MediaPipe's Tasks ``PoseLandmarker`` over square tiles of the frame
finds people (:class:`TiledPeople`), and each person found is then tracked on a crop about
their last landmarks (:class:`Track`, :class:`MediaPipePeople`), the tiles running again
only to find people not tracked yet.

Why this way, measured on scikit-image's astronaut and cameraman side by side (README):

- The legacy ``solutions.pose`` graph finds one person, whatever the frame holds.
- The Tasks ``PoseLandmarker`` finds up to ``num_poses`` people, but takes a ``.task``
  bundle, which the 0.10.14 wheel does not ship. The bundle is only a zip of the
  person detector and the landmark model with input metadata (how pixels are scaled),
  and the wheel ships both models (``pose_detection.tflite``, ``pose_landmark_full.tflite``)
  and the writer of that metadata (``mediapipe.tasks.python.metadata``): the bundle is
  made here, in memory, from those files, with nothing downloaded. On the astronaut it
  gives the legacy graph's landmarks (the nose within 0.005 of the frame).
- Its person detector sees the frame shrunk to 224 x 224: on a wide frame of two people
  side by side it found one of the two. Run on square tiles of the frame's height (half
  a tile apart, so that whoever fits in a tile is whole in one), it found both in every
  frame; a person seen in two tiles is kept once (the more salient copy).
- Each tile has its own landmarker in the video mode: a person it found is tracked in
  the next frames, which kept the cameraman (whom the detector finds only now and then
  when alone at the frame's edge) in every frame of a clip where the image mode lost him.
- OpenCV's DNN module cannot read the wheel's detector (its sparse weights use the TFLite
  DENSIFY operator), and its HOG people detector wants whole standing bodies.

The tracking follows positions within a tile, not identities across the frame: the
skeletons come most salient first, and who is who from frame to frame is the caller's.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from stgcn.errors import StgcnError
from stgcn.system.cores import available_cores
from stgcn_pose_mediapipe.model import in_frame, quiet_protobuf

#: two skeletons are one person when a quarter of the joints both found lie within this
#: share of the larger one's box diagonal. Two copies of a person from two tiles agree
#: on the head and trunk (0.01 apart) and may not on limbs the cut copy guesses (0.4);
#: two people side by side are apart in every joint
SAME_PERSON_SPREAD = 0.1


#: the wheel's models and the input scaling each was trained with: the detector takes
#: pixels in [-1, 1], the landmark model pixels in [0, 1]
_MODELS = {
    "pose_detector.tflite": ("pose_detection/pose_detection.tflite", 127.5, 127.5),
    "pose_landmarks_detector.tflite": ("pose_landmark/pose_landmark_full.tflite", 0.0, 255.0),
}


@functools.lru_cache(maxsize=1)
def task_bundle() -> bytes:
    """The ``.task`` bundle of the ``PoseLandmarker``, made from the wheel's own files."""
    import mediapipe as mp
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    modules = Path(mp.__file__).parent / "modules"
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
        for name, (relative, mean, std) in _MODELS.items():
            path = modules / relative
            if not path.is_file():
                raise StgcnError(f"mediapipe: the wheel lacks {relative} (install 0.10.14)")
            model = bytearray(path.read_bytes())
            writer = metadata_writer.MetadataWriter.create(model)
            writer.add_general_info(name.removesuffix(".tflite"))
            writer.add_image_input([mean], [std])
            for _ in writer_utils.get_output_tensor_types(model):
                writer.add_feature_output()
            archive.writestr(name, bytes(writer.populate()[0]))
    return bundle.getvalue()


def tile_offsets(width: int, height: int) -> list[tuple[int, int, int]]:
    """``(x, y, side)`` of the square tiles covering a frame: as tall (or wide) as its
    short side, along the long side at most half a tile apart."""
    side, long = min(width, height), max(width, height)
    count = int(np.ceil((long - side) / (side / 2))) + 1
    starts = np.linspace(0, long - side, count).round().astype(int)
    if width >= height:
        return [(int(start), 0, side) for start in starts]
    return [(0, int(start), side) for start in starts]


def diagonal(person: np.ndarray) -> float:
    """The diagonal of the box of the landmarks found (score above 0)."""
    found = person[person[:, 2] > 0, :2]
    if len(found) == 0:
        return 0.0
    return float(np.linalg.norm(found.max(axis=0) - found.min(axis=0)))


def same_person(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are one person seen twice (in two overlapping tiles): the
    closest quarter of the joints found in both lie close together. Box overlap would not
    do: a copy cut by a tile's edge has a narrower box than the whole one (intersection
    over union 0.5, measured), and its arms differ."""
    both = (a[:, 2] > 0) & (b[:, 2] > 0)
    if not both.any():
        return False
    distances = np.linalg.norm(a[both, :2] - b[both, :2], axis=1)
    spread = float(np.quantile(distances, 0.25))
    return spread < SAME_PERSON_SPREAD * max(diagonal(a), diagonal(b))


def salience(person: np.ndarray) -> float:
    """The summed score: how the core ranks a frame's people (Kinetics convention)."""
    return float(person[:, 2].sum())


def distinct(people: Sequence[np.ndarray], limit: int) -> list[np.ndarray]:
    """The ``limit`` most salient people, a person found twice (in two tiles) kept once."""
    kept: list[np.ndarray] = []
    for person in sorted(people, key=salience, reverse=True):
        if not any(same_person(person, other) for other in kept):
            kept.append(person)
    return kept[:limit]


def check_image(image: np.ndarray) -> None:
    """One line for what MediaPipe cannot take."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise StgcnError(f"mediapipe takes RGB uint8 images, got {image.dtype} {image.shape}")


def to_skeleton(raw: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Landmarks in the frame's pixels as the estimator's skeleton: fractions of the frame,
    a landmark outside it not found (:func:`stgcn_pose_mediapipe.model.in_frame`)."""
    height, width = image.shape[:2]
    return in_frame(raw / np.array([width, height, 1.0]))


def video_landmarker(num_poses: int, confidence: tuple[float, float]) -> Any:
    """A Tasks ``PoseLandmarker`` in the video mode: it detects people, then follows each
    from frame to frame by the landmark model alone until it loses them."""
    from mediapipe.tasks.python import BaseOptions, vision

    detection, tracking = confidence
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=task_bundle()),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=num_poses,
        min_pose_detection_confidence=detection,
        min_tracking_confidence=tracking,
    )
    return vision.PoseLandmarker.create_from_options(options)


def landmarks_of(landmarker: Any, image: np.ndarray, timestamp: int) -> list[np.ndarray]:
    """The ``(33, 3)`` landmarks (x, y as fractions of ``image``, visibility) of each
    person ``landmarker`` finds in ``image`` at ``timestamp`` (milliseconds, increasing)."""
    import mediapipe as mp

    wrapped = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
    # no warnings filter here: this runs in worker threads (quiet_protobuf)
    result = landmarker.detect_for_video(wrapped, timestamp)
    return [
        np.array([[mark.x, mark.y, mark.visibility] for mark in pose], dtype=np.float64)
        for pose in result.pose_landmarks
    ]


Result = TypeVar("Result")


class Landmarkers:
    """Runs the calls of independent landmarkers (one per tile, one per track) at once,
    a thread each up to the available cores (threads start as calls need them).

    MediaPipe releases the GIL while its graph runs, and each landmarker runs its model on
    one thread, so two landmarkers on two cores take the time of one: two tracked people's
    landmark calls took 41 ms a frame in two threads against 72 ms one after the other, on
    a 2-core AVX2 EPYC (256-pixel crops of the astronaut). The results are each
    landmarker's own, whatever the order the calls run in."""

    def __init__(self) -> None:
        workers = available_cores()
        self._pool = (
            ThreadPoolExecutor(workers, thread_name_prefix="landmarker") if workers > 1 else None
        )

    def run(self, calls: Sequence[Callable[[], Result]]) -> list[Result]:
        """The result of each call, in the calls' order (a worker's exception raised
        here)."""
        if self._pool is None or len(calls) < 2:
            return [call() for call in calls]
        return list(self._pool.map(lambda call: call(), calls))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


class TiledPeople:
    """The person search over the whole frame: up to ``max_people`` people a frame, 33
    landmarks each, found by one video-mode landmarker per square tile."""

    def __init__(self, max_people: int, confidence: tuple[float, float]) -> None:
        self.max_people = max_people
        self._confidence = confidence
        #: one landmarker per tile, each following the people of its tile
        self._tiles: dict[tuple[int, int, int], Any] = {}
        self._frame = 0
        #: the tiles' landmarkers run at once, and the tracks' of a MediaPipePeople
        self.landmarkers = Landmarkers()

    def tile_calls(self, image: np.ndarray) -> list[Callable[[], list[np.ndarray]]]:
        """One search of ``image`` as a call per tile, so that the tiles can run at once
        with other landmarkers (:class:`Landmarkers`). Each call returns whom its tile
        finds, each ``(33, 3)``: x and y in the frame's pixels, unclipped (MediaPipe
        places landmarks also outside the image), and visibility."""
        tiles = tile_offsets(image.shape[1], image.shape[0])
        for tile in tiles:
            if tile not in self._tiles:
                self._tiles[tile] = video_landmarker(self.max_people, self._confidence)
        # the video mode wants increasing times: the search's number, in milliseconds
        timestamp = self._frame
        self._frame += 1

        def in_tile(tile: tuple[int, int, int]) -> list[np.ndarray]:
            x, y, side = tile
            crop = image[y : y + side, x : x + side]
            people = landmarks_of(self._tiles[tile], crop, timestamp)
            for landmarks in people:
                landmarks[:, :2] = landmarks[:, :2] * side + (x, y)
            return people

        return [functools.partial(in_tile, tile) for tile in tiles]

    def search(self, image: np.ndarray) -> list[np.ndarray]:
        """Everyone the tiles find (:meth:`tile_calls`), the tiles at once, in the tiles'
        order."""
        found = self.landmarkers.run(self.tile_calls(image))
        return [person for people in found for person in people]

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image)
        with quiet_protobuf():
            found = self.search(image)
        return distinct([to_skeleton(raw, image) for raw in found], self.max_people)

    def close(self) -> None:
        self.landmarkers.close()
        for landmarker in self._tiles.values():
            landmarker.close()
        self._tiles.clear()


def crop_box(raw: np.ndarray, width: int, height: int) -> tuple[int, int, int]:
    """``(x, y, side)`` in pixels of the square a track's landmark model looks at: the box
    of the person's last landmarks (all 33, also those MediaPipe placed outside the image:
    the body's extent, as MediaPipe's own region of interest takes it), made square about
    its centre and enlarged by ``CROP_MARGIN``, so that the person's move between frames
    stays inside; at most the frame's short side and moved inside the frame, so that the
    crop holds only the frame's pixels (a person taller than the frame is seen as a tile
    sees them)."""
    low, high = raw[:, :2].min(axis=0), raw[:, :2].max(axis=0)
    side = min(max(float((high - low).max()) * CROP_MARGIN, MIN_CROP), width, height)
    x, y = (low + high) / 2 - side / 2
    x = min(max(x, 0.0), width - side)
    y = min(max(y, 0.0), height - side)
    return round(x), round(y), round(side)


def moved(box: tuple[int, int, int], wanted: tuple[int, int, int]) -> bool:
    """Whether a track's crop must follow its person: the wanted square's centre is more
    than ``REBOX_SHIFT`` of the side away, or its side off by more than a quarter.

    The crop stays put while the person moves within it: the landmarker follows them in
    its own coordinates, which a crop moving every frame would shift under it (measured:
    a crop re-centred every frame drifted 30 pixels in 12 frames off the tiles' nose)."""
    x, y, side = box
    wx, wy, wside = wanted
    shift = max(abs(wx + wside / 2 - x - side / 2), abs(wy + wside / 2 - y - side / 2))
    return shift > REBOX_SHIFT * side or not 0.8 < wside / side < 1.25


def cut(image: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """The square ``box`` of ``image``, black where it reaches past the image (as
    MediaPipe pads its own crops)."""
    x, y, side = box
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, width), min(y + side, height)
    if (x0, y0, x1, y1) == (x, y, x + side, y + side):
        return image[y0:y1, x0:x1]
    square = np.zeros((side, side, 3), np.uint8)
    if x0 < x1 and y0 < y1:
        square[y0 - y : y1 - y, x0 - x : x1 - x] = image[y0:y1, x0:x1]
    return square


def hidden(image: np.ndarray, people: Sequence[np.ndarray]) -> np.ndarray:
    """``image`` with each person's box black (their landmarks' extent, pixels, enlarged
    by ``HIDE_MARGIN``), so that the person search sees only who is not tracked yet;
    ``image`` itself where there is nobody to hide."""
    if not people:
        return image
    height, width = image.shape[:2]
    outside = image.copy()
    for raw in people:
        low, high = raw[:, :2].min(axis=0), raw[:, :2].max(axis=0)
        centre, half = (low + high) / 2, float((high - low).max()) / 2 * HIDE_MARGIN
        x0, y0 = np.clip(np.floor(centre - half), 0, (width, height)).astype(int)
        x1, y1 = np.clip(np.ceil(centre + half), 0, (width, height)).astype(int)
        outside[y0:y1, x0:x1] = 0
    return outside


#: a track's crop: its last landmarks' box enlarged this much (MediaPipe's own region of
#: interest is the body's box times 1.25; the rest is room for the move to the next frame)
CROP_MARGIN = 1.5
#: how far (a share of the side) a person's wanted crop may move before the crop follows
REBOX_SHIFT = 0.1
#: a tracked person hidden from the search: their landmarks' box enlarged this much (the
#: move since the last frame, and hair and clothes past the outer landmarks)
HIDE_MARGIN = 1.25
#: the smallest crop side, in pixels: a track shrunk to a few landmarks still sees a body
MIN_CROP = 96
#: frames between whole-frame searches while ``max_people`` are tracked: new people, and
#: people hidden behind a tracked one, are found at least this often (once a second at 30
#: frames a second)
SEARCH_EVERY = 30
#: the milliseconds between two frames a track's landmarker is told: a 30 fps clock. Its
#: landmark smoothing reads speeds from these times; a step of 1 ms left the tracked nose
#: lagging 17 pixels behind the tiles' after 10 frames of 3 pixels each, 33 ms 3 pixels
TIME_STEP = 33
#: the detection score a track's landmarker needs on its crop. The tiles found the person
#: (at ``min_detection_confidence``); the crop's first call, and any after the landmark
#: model lost them, only has to place them again, on the square known to hold them. At the
#: tiles' 0.5 the detector missed the cameraman (seen from the side) on his first crop in
#: the tests' clip, and each frame fell back to the tiles
TRACK_DETECTION = 0.1


class Track:
    """One person followed through the frames: a landmarker of one pose in the video mode,
    run on the square about where the person was in the last frame."""

    def __init__(self, raw: np.ndarray, confidence: tuple[float, float]) -> None:
        self.raw = raw
        self._confidence = confidence
        self._landmarker: Any = None
        self._time = 0
        self._box: tuple[int, int, int] | None = None

    def follow(self, image: np.ndarray) -> bool:
        """Find the person again in ``image`` about their last place; False when lost
        (no pose in the crop, or none of its landmarks in the frame)."""
        if self._landmarker is None:
            self._landmarker = video_landmarker(1, (TRACK_DETECTION, self._confidence[1]))
        height, width = image.shape[:2]
        box = self._box or crop_box(self.raw, width, height)
        found = landmarks_of(self._landmarker, cut(image, box), self._time)
        self._time += TIME_STEP
        if not found:
            return False
        x, y, side = box
        raw = found[0]
        raw[:, :2] = raw[:, :2] * side + (x, y)
        if not to_skeleton(raw, image)[:, 2].any():
            return False
        self.seen(raw, image)
        return True

    def seen(self, raw: np.ndarray, image: np.ndarray) -> None:
        """Take ``raw`` (pixels, unclipped) as the person's landmarks in ``image``; the crop
        follows when they moved out of its middle (:func:`moved`)."""
        height, width = image.shape[:2]
        self.raw = raw
        wanted = crop_box(raw, width, height)
        self._box = wanted if self._box is None or moved(self._box, wanted) else self._box

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()


class MediaPipePeople:
    """A :class:`stgcn.records.PoseModel` finding up to ``max_people`` people a frame,
    33 landmarks each, the most salient first.

    Each person found is tracked: in the next frame the landmark model runs only on the
    square about their last landmarks (:class:`Track`), as MediaPipe follows one person.
    The frame is searched (:class:`TiledPeople`) for people not tracked yet, with the
    tracked ones hidden (:func:`hidden`), in every frame while fewer than ``max_people``
    are tracked (a newcomer is found in the frame the tiles first see them), in a frame
    where a track is lost, and every ``SEARCH_EVERY`` frames otherwise; a person found
    starts a track while there is room.

    Why the tracked people are hidden from the search rather than taken from it: a tile
    that finds nobody costs its person detector alone (about 30 ms of CPU), where a tile
    that finds someone also runs the landmark model on them, once in each tile that sees
    them. One person in view with ``max_people=2`` at 640x480, on a 2-core AVX2 EPYC
    (``stgcn predict --stream``, three rounds): 142 to 150 ms of pose CPU a frame with the
    tiles finding them every frame, 105 to 118 with them hidden and the tiles run at once
    with their crop.
    """

    def __init__(
        self, max_people: int, min_detection_confidence: float, min_tracking_confidence: float
    ) -> None:
        self.max_people = max_people
        self._confidence = (min_detection_confidence, min_tracking_confidence)
        self._search = TiledPeople(max_people, self._confidence)
        self._tracks: list[Track] = []
        #: frames since the last whole-frame search
        self._since_search = 0

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        check_image(image)
        self._since_search += 1
        with quiet_protobuf():
            tracks = list(self._tracks)
            follows: list[Callable[[], bool | list[np.ndarray]]] = [
                functools.partial(track.follow, image) for track in tracks
            ]
            searches: list[Callable[[], bool | list[np.ndarray]]] = []
            if len(tracks) < self.max_people or self._since_search >= SEARCH_EVERY:
                # the tracked people hidden at their last places: their crops hold them
                # there in this frame too (the periodic search adds no landmarks to a
                # tracked person: a skeleton jumping to the tiles' every SEARCH_EVERY
                # frames broke the stream's identities, measured: 5 ids for 2 people in
                # 240 frames)
                searches = [*self._search_calls(image)]
            # the tracks and the tiles at once: all independent landmarkers
            done = self._search.landmarkers.run([*follows, *searches])
            followed, searched = done[: len(tracks)], done[len(tracks) :]
            lost = [track for track, kept in zip(tracks, followed, strict=True) if not kept]
            found = [person for people in searched if isinstance(people, list) for person in people]
            for track in lost:
                track.close()
                self._tracks.remove(track)
            if lost:
                # search again, with whom the lost tracks followed in view
                found = self._search.search(self._hidden_tracks(image))
                self._since_search = 0
            self._start_tracks(found, image)
        self._drop_doubles(image)
        return distinct([to_skeleton(track.raw, image) for track in self._tracks], self.max_people)

    def _hidden_tracks(self, image: np.ndarray) -> np.ndarray:
        return hidden(image, [track.raw for track in self._tracks])

    def _search_calls(self, image: np.ndarray) -> list[Callable[[], list[np.ndarray]]]:
        """The tiles' calls of a search of ``image`` outside the tracked people."""
        self._since_search = 0
        return self._search.tile_calls(self._hidden_tracks(image))

    def _start_tracks(self, found: list[np.ndarray], image: np.ndarray) -> None:
        """The people ``found`` start tracks while there is room, the most salient first;
        a part of a tracked person the search saw past their hidden box is them."""
        for raw in sorted(found, key=salience, reverse=True):
            skeleton = to_skeleton(raw, image)
            known = [to_skeleton(track.raw, image) for track in self._tracks]
            if len(self._tracks) < self.max_people and not any(
                same_person(skeleton, other) for other in known
            ):
                self._tracks.append(Track(raw, self._confidence))

    def _drop_doubles(self, image: np.ndarray) -> None:
        """Two tracks that drifted onto one person (people crossing) become one, the more
        salient kept; the freed place is searched for in the next frame."""
        ranked = sorted(
            self._tracks, key=lambda track: salience(to_skeleton(track.raw, image)), reverse=True
        )
        kept: list[Track] = []
        for track in ranked:
            skeleton = to_skeleton(track.raw, image)
            if any(same_person(skeleton, to_skeleton(other.raw, image)) for other in kept):
                track.close()
            else:
                kept.append(track)
        self._tracks = [track for track in self._tracks if track in kept]

    def close(self) -> None:
        for track in self._tracks:
            track.close()
        self._tracks.clear()
        self._search.close()
