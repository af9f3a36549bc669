"""Per-frame skeletons of a video, and what is made of them: model input in the model's
coordinate convention (:mod:`stgcn.data.coordinates`), sliding windows, and
Kinetics-skeleton JSON clips (REFERENCE §3).

A skeleton is a float32 array ``(joints, 3)``: x and y as fractions of the frame width
and height (0 at the left and top edge), and a score in [0, 1]; 0 means not found.
Keeping [0, 1] coordinates here, rather than the model's centred values, is what lets
the same skeletons be saved as a Kinetics clip, drawn on the video, or converted for a
model, each without undoing the other.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.data.coordinates import FRACTIONS, REFERENCE, normalise_keypoints
from stgcn.errors import StgcnError, first_line
from stgcn.model.layouts import Layout
from stgcn.plugins.layouts import resolve_layout
from stgcn.pose.joints import JointMap, joint_map, layout_named_by

#: digits kept of each coordinate and score in a saved clip (the release keeps 3)
JSON_DIGITS = 4
#: the most frames a file's frame numbers may span (over nine hours at 30 frames a
#: second): the readers keep a list entry per frame, and a file numbering two frames
#: 0 and 10**13 would otherwise have them fill the memory instead of being refused
MAX_FRAMES = 1_000_000


def most_salient(persons: list[np.ndarray], count: int) -> list[np.ndarray]:
    """The ``count`` people of one frame with the highest summed score, highest first
    (the Kinetics convention; a stable sort keeps ties in the estimator's order)."""
    return sorted(persons, key=lambda p: -float(np.sum(p[:, 2])))[:count]


@dataclass
class PoseSequence:
    """The skeletons of every frame of one video: ``frames[t]`` lists the persons of
    frame ``t``, each ``(len(joints), 3)``, in the joint order ``joints``."""

    joints: tuple[str, ...]
    frames: list[list[np.ndarray]] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    #: the layout these skeletons were brought to (:meth:`to_layout`): known by its name
    #: even where no installed plugin registers it (a checkpoint's stored layout)
    brought_to: str | None = None
    #: what each skeleton is of, as messages name it (the estimator's ``subject``)
    subject: str = "person"

    @property
    def frames_with_pose(self) -> int:
        return sum(1 for persons in self.frames if persons)

    @property
    def layout(self) -> str | None:
        """The layout these joints are: the one they were brought to, else the first
        registered one whose joint names they are; None for an estimator's own set."""
        if self.brought_to is not None:
            return self.brought_to
        return layout_named_by(self.joints)

    def mapped(self, joint_map: JointMap) -> PoseSequence:
        """The same frames through ``joint_map`` (to one of the stgcn layouts)."""
        if tuple(joint_map.source) != tuple(self.joints):
            raise StgcnError("a joint map given skeletons of another joint set")
        frames = [[joint_map.apply(person) for person in persons] for persons in self.frames]
        return replace(self, joints=joint_map.joints, frames=frames, brought_to=joint_map.target)

    def to_layout(self, layout: str | Layout) -> PoseSequence:
        """These skeletons in ``layout`` (a registered layout's name, or the
        :class:`~stgcn.records.Layout` itself: a model's stored one, whose plugin need not
        be installed), its joints matched by name (:func:`stgcn.pose.joint_map`)."""
        target = resolve_layout(layout)
        if target.joints == tuple(self.joints):
            return replace(self, brought_to=target.name)
        return self.mapped(joint_map(self.joints, target))

    def most_salient(self, count: int) -> PoseSequence:
        """The same frames with at most ``count`` people each: the highest summed scores,
        in that order (the order :meth:`model_input` ranks them in)."""
        return replace(self, frames=[most_salient(persons, count) for persons in self.frames])

    def model_input(
        self, start: int, end: int, num_person: int, coordinates: str = REFERENCE
    ) -> np.ndarray:
        """Frames ``[start, end)`` as float32 ``(3, end - start, V, num_person)`` in the
        coordinate convention ``coordinates`` (the reference's: x, y minus 0.5, both 0
        where the score is 0); each frame's persons sorted by summed score, highest
        first, the first ``num_person`` kept."""
        if self.layout is None:
            raise StgcnError("skeletons must be brought to a layout before a model takes them")
        joints = len(self.joints)
        data = np.zeros((3, end - start, joints, num_person), dtype=np.float32)
        for row, persons in enumerate(self.frames[start:end]):
            if not persons:
                continue
            ranked = most_salient(persons, num_person)
            for slot, person in enumerate(ranked):
                data[:, row, :, slot] = model_values(person, coordinates)
        return data

    def to_kinetics(
        self, label: str | None = None, label_index: int | None = None
    ) -> dict[str, Any]:
        """The Kinetics-skeleton clip: ``{"data": [{"frame_index", "skeleton": [{"pose",
        "score"}]}], "label", "label_index"}``, coordinates in [0, 1], frames without a
        person left out (as the release does)."""
        if self.layout is None:
            raise StgcnError("skeletons must be brought to a layout before they are saved")
        data = []
        for index, persons in enumerate(self.frames):
            if not persons:
                continue
            skeletons = []
            for person in persons:
                values = np.round(person.astype(np.float64), JSON_DIGITS)
                skeletons.append(
                    {
                        "pose": [float(v) for v in values[:, :2].reshape(-1)],
                        "score": [float(v) for v in values[:, 2]],
                    }
                )
            data.append({"frame_index": index, "skeleton": skeletons})
        clip: dict[str, Any] = {"data": data, "label": label, "label_index": label_index}
        return clip


def model_values(person: np.ndarray, coordinates: str = REFERENCE) -> np.ndarray:
    """One skeleton ``(V, 3)`` in [0, 1] coordinates as the model's channels ``(3, V)``
    in the convention ``coordinates`` (:func:`stgcn.data.coordinates.normalise_keypoints`,
    the one conversion every input path uses; computed in float64, as the reference's
    Kinetics conversion is)."""
    return normalise_keypoints(person.astype(np.float64), FRACTIONS, coordinates).T


def windows(total: int, window: int, stride: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each window: every ``stride`` frames a window of ``window``,
    and a last one ending at the last frame where the stride would leave frames out; a
    video shorter than a window is one window of all its frames."""
    if window < 1 or stride < 1:
        raise StgcnError("--window and --stride must be at least 1")
    if total <= 0:
        return []
    if total <= window:
        return [(0, total)]
    spans = [(start, start + window) for start in range(0, total - window + 1, stride)]
    if spans[-1][1] < total:
        spans.append((total - window, total))
    return spans


def write_json(path: str | os.PathLike[str], document: Any) -> Path:
    """``document`` written to a temporary name beside ``path``, then renamed: a reader
    (or a resumed extraction) never sees half a file."""
    path = Path(path)
    if path.is_dir():
        raise StgcnError(f"{path} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.incomplete")
    with temporary.open("w", encoding="utf-8") as stream:
        json.dump(document, stream, separators=(",", ":"))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    return path


#: what a file that is not a clip raises on its way through :func:`read_kinetics`:
#: RecursionError for nesting deeper than json's parser goes, OverflowError for an int
#: too large for a float (or an infinite frame_index)
CLIP_ERRORS = (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError)


def read_kinetics(path: str | os.PathLike[str], layout: str | Layout = "openpose") -> PoseSequence:
    """A Kinetics-skeleton JSON clip back as skeletons of ``layout`` ([0, 1] coordinates)."""
    path = Path(path)
    target = resolve_layout(layout)
    joints = target.joints
    try:
        clip = json.loads(path.read_text(encoding="utf-8"))
        frames: list[list[np.ndarray]] = []
        for entry in clip["data"]:
            index = int(entry["frame_index"])
            if not 0 <= index < MAX_FRAMES:
                raise ValueError(f"frame_index {index} is outside [0, {MAX_FRAMES})")
            while len(frames) <= index:
                frames.append([])
            for skeleton in entry["skeleton"]:
                pose = np.asarray(skeleton["pose"], dtype=np.float64).reshape(-1, 2)
                score = np.asarray(skeleton["score"], dtype=np.float64)
                if len(pose) != len(joints) or score.shape != (len(joints),):
                    raise ValueError(f"a skeleton of {len(pose)} joints, not {len(joints)}")
                values = np.concatenate([pose, score[:, None]], axis=1).astype(np.float32)
                if not np.isfinite(values).all():
                    raise ValueError(f"frame {index} holds a non-finite value")
                frames[index].append(values)
    except CLIP_ERRORS as error:
        raise StgcnError(f"{path} is not a Kinetics-skeleton clip: {first_line(error)}") from None
    return PoseSequence(joints, frames, brought_to=target.name)
