"""Several people a frame (``--estimator-option max_people=N`` with N > 1, or the core's
``--max-people N``): MediaPipe's Tasks ``PoseLandmarker`` over square tiles of the frame.

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
  frame; a person seen in two tiles is kept once (the more visible copy).
- OpenCV's DNN module cannot read the wheel's detector (its sparse weights use the TFLite
  DENSIFY operator), and its HOG people detector wants whole standing bodies.

Each frame is estimated afresh (the Tasks image mode): no smoothing and no identity
across frames; who is who from frame to frame is the caller's business.
"""

from __future__ import annotations

import functools
import io
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError

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


def in_frame(landmarks: np.ndarray) -> np.ndarray:
    """Visibility clipped to [0, 1] as the score; a landmark outside the frame not found
    (x = y = score = 0), as OpenPose, and so the Kinetics data, reports it."""
    person = landmarks.astype(np.float32)
    person[:, 2] = np.clip(person[:, 2], 0.0, 1.0)
    outside = ((person[:, :2] < 0.0) | (person[:, :2] > 1.0)).any(axis=1)
    person[outside] = 0.0
    return person


class MediaPipePeople:
    """A :class:`stgcn.records.PoseModel` finding up to ``max_people`` people a frame,
    33 landmarks each, the most salient first."""

    def __init__(
        self, max_people: int, min_detection_confidence: float, min_tracking_confidence: float
    ) -> None:
        import mediapipe as mp

        self._mp = mp
        self.max_people = max_people
        self._confidence = (min_detection_confidence, min_tracking_confidence)
        #: one landmarker per tile, each following the people of its tile
        self._tiles: dict[tuple[int, int, int], Any] = {}
        self._frame = 0

    def _landmarker(self, tile: tuple[int, int, int]) -> Any:
        if tile not in self._tiles:
            from mediapipe.tasks.python import BaseOptions, vision

            detection, tracking = self._confidence
            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_buffer=task_bundle()),
                running_mode=vision.RunningMode.VIDEO,
                num_poses=self.max_people,
                min_pose_detection_confidence=detection,
                min_tracking_confidence=tracking,
            )
            self._tiles[tile] = vision.PoseLandmarker.create_from_options(options)
        return self._tiles[tile]

    def _tile(self, image: np.ndarray, tile: tuple[int, int, int]) -> list[np.ndarray]:
        x, y, side = tile
        crop = np.ascontiguousarray(image[y : y + side, x : x + side])
        wrapped = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "SymbolDatabase.GetPrototype", UserWarning)
            # the video mode wants increasing times: the frame's number, in milliseconds
            result = self._landmarker(tile).detect_for_video(wrapped, self._frame)
        return [
            np.array([[mark.x, mark.y, mark.visibility] for mark in pose], dtype=np.float64)
            for pose in result.pose_landmarks
        ]

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise StgcnError(f"mediapipe takes RGB uint8 images, got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        found = []
        for tile in tile_offsets(width, height):
            x, y, side = tile
            for landmarks in self._tile(image, tile):
                landmarks[:, 0] = (landmarks[:, 0] * side + x) / width
                landmarks[:, 1] = (landmarks[:, 1] * side + y) / height
                found.append(in_frame(landmarks))
        self._frame += 1
        return distinct(found, self.max_people)

    def close(self) -> None:
        for landmarker in self._tiles.values():
            landmarker.close()
        self._tiles.clear()
