"""Who is who from frame to frame: track identities for the skeletons of a video.

An estimator gives each frame's people in no particular order; a model trained on
clips of people (Kinetics: two of them) needs each person's joints in the same slot
through a window, and a one-person model needs one clip per person. A
:class:`Tracker` gives every skeleton a track id: each frame, the live tracks and the
new skeletons are matched by a cost that adds box overlap (1 - IoU) to the mean
distance of the joints both have (in units of the track's box diagonal, so that it does
not depend on how near the camera someone stands), and the matching that costs least
in total is solved exactly (:func:`scipy.optimize.linear_sum_assignment`; a greedy
nearest-first choice swaps two people who pass close by). A pair costing more than
``max_cost`` is no match. A track missed by the estimator for up to ``max_missed``
frames is kept (its position moved on by its last velocity) and picks the person up
again; a skeleton that matches no track starts a new id, and ids are never reused.

Everything here is in the [0, 1] coordinates of :mod:`stgcn.pose.skeletons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from stgcn.data.coordinates import REFERENCE
from stgcn.pose.skeletons import model_values

#: cost above which a track and a skeleton are not the same person: 1 is "boxes do not
#: overlap at all and the joints are 0 box diagonals apart", so one person moving
#: between frames costs far less and two people side by side more
MAX_COST = 1.0
#: frames a track outlives its last match (a missed detection or two)
MAX_MISSED = 2


@dataclass(frozen=True)
class Tracked:
    """One person in one frame: its track id, joints ``(V, 3)`` and box."""

    track: int
    joints: np.ndarray
    #: (x1, y1, x2, y2) around the found joints, in [0, 1] coordinates
    box: tuple[float, float, float, float]

    def pixel_box(self, width: int, height: int) -> list[int]:
        x1, y1, x2, y2 = self.box
        return [round(x1 * width), round(y1 * height), round(x2 * width), round(y2 * height)]

    @property
    def salience(self) -> float:
        """The summed joint score: how much of this person the estimator is sure of."""
        return float(np.sum(self.joints[:, 2]))


def box_of(joints: np.ndarray) -> tuple[float, float, float, float] | None:
    """The box around the found joints (score above 0); None when none is found."""
    found = joints[joints[:, 2] > 0]
    if len(found) == 0:
        return None
    x1, y1 = found[:, 0].min(), found[:, 1].min()
    x2, y2 = found[:, 0].max(), found[:, 1].max()
    return float(x1), float(y1), float(x2), float(y2)


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (0 for boxes without area)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class _Track:
    track: int
    joints: np.ndarray
    box: tuple[float, float, float, float]
    #: the box centre's move per frame at the last two matches
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    missed: int = 0

    def predicted(self) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """Joints and box moved on by the velocity for the frames since the last match."""
        shift = self.velocity * (self.missed + 1)
        joints = self.joints.copy()
        joints[:, :2] += np.where(joints[:, 2:] > 0, shift, 0.0)
        x1, y1, x2, y2 = self.box
        dx, dy = float(shift[0]), float(shift[1])
        return joints, (x1 + dx, y1 + dy, x2 + dx, y2 + dy)


def _centre(box: Sequence[float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def match_cost(track_joints: np.ndarray, track_box: Sequence[float], joints: np.ndarray) -> float:
    """(1 - IoU) of the boxes plus the mean distance of the joints both have, in track
    box diagonals; infinite where the skeleton has no joint found."""
    box = box_of(joints)
    if box is None:
        return float("inf")
    both = (track_joints[:, 2] > 0) & (joints[:, 2] > 0)
    diagonal = max(float(np.hypot(track_box[2] - track_box[0], track_box[3] - track_box[1])), 1e-3)
    if both.any():
        distance = np.linalg.norm(track_joints[both, :2] - joints[both, :2], axis=1).mean()
    else:  # no joint in common: the box centres
        distance = np.linalg.norm(_centre(track_box) - _centre(box))
    return (1.0 - overlap(track_box, box)) + float(distance) / diagonal


class Tracker:
    """Track ids for skeletons given one frame at a time (:meth:`update`)."""

    def __init__(self, max_cost: float = MAX_COST, max_missed: int = MAX_MISSED) -> None:
        if max_missed < 0:
            raise ValueError("max_missed must be at least 0")
        self.max_cost = max_cost
        self.max_missed = max_missed
        self._tracks: list[_Track] = []
        self._next = 1

    @property
    def started(self) -> int:
        """How many tracks were started so far (ids 1 to this)."""
        return self._next - 1

    def update(self, persons: Sequence[np.ndarray]) -> list[Tracked]:
        """This frame's skeletons with their track ids, in the order given; a skeleton
        with no joint found is left out."""
        found = [(p, box) for p in persons if (box := box_of(p)) is not None]
        assigned: dict[int, _Track] = {}
        if self._tracks and found:
            predictions = [track.predicted() for track in self._tracks]
            costs = np.array(
                [[match_cost(pj, pb, person) for person, _ in found] for pj, pb in predictions]
            )
            costs = np.where(np.isfinite(costs), costs, 1e9)
            rows, columns = linear_sum_assignment(costs)
            for row, column in zip(rows, columns, strict=True):
                if costs[row, column] <= self.max_cost:
                    assigned[int(column)] = self._tracks[int(row)]
        out = []
        matched: set[int] = set()
        for index, (person, box) in enumerate(found):
            track = assigned.get(index)
            if track is None:
                track = _Track(self._next, person, box)
                self._next += 1
                self._tracks.append(track)
            else:
                steps = track.missed + 1
                track.velocity = (_centre(box) - _centre(track.box)) / steps
                track.joints, track.box, track.missed = person, box, 0
            matched.add(track.track)
            out.append(Tracked(track.track, person, box))
        for track in self._tracks:
            if track.track not in matched:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return out


def track_frames(
    frames: Sequence[Sequence[np.ndarray]],
    max_people: int | None = None,
    tracker: Tracker | None = None,
) -> list[list[Tracked]]:
    """Every frame's skeletons with track ids (a whole clip, offline); ``max_people``
    keeps each frame's most salient skeletons only."""
    tracker = tracker or Tracker()
    return [tracker.update(most_salient(persons, max_people)) for persons in frames]


def most_salient(persons: Sequence[np.ndarray], count: int | None) -> list[np.ndarray]:
    """The ``count`` skeletons with the highest summed score (all for None), in their
    given order."""
    if count is None or len(persons) <= count:
        return list(persons)
    order = sorted(range(len(persons)), key=lambda i: -float(np.sum(persons[i][:, 2])))
    keep = set(order[:count])
    return [person for index, person in enumerate(persons) if index in keep]


@dataclass(frozen=True)
class TrackClip:
    """One clip a model classifies: the tracks in its person slots (most salient
    first), and the model input ``(3, T, V, M)`` in the model's coordinate convention."""

    tracks: tuple[int, ...]
    sample: np.ndarray

    @property
    def track(self) -> int:
        """The clip's main track (its most salient)."""
        return self.tracks[0]


def window_clips(
    frames: Sequence[Sequence[Tracked]], persons: int, coordinates: str = REFERENCE
) -> list[TrackClip]:
    """The clips of one window of tracked frames for a model of ``persons`` slots, in
    the model's coordinate convention ``coordinates`` (:mod:`stgcn.data.coordinates`).

    A one-person model gets one clip per track seen in the window; a model of several
    persons gets one clip of the ``persons`` most salient tracks (summed joint score over
    the window, as the Kinetics data keeps the persons of highest score), most salient in
    the first slot. A track's frames without it are zeros, as in the training data.
    """
    salience: dict[int, float] = {}
    for tracked in frames:
        for person in tracked:
            salience[person.track] = salience.get(person.track, 0.0) + person.salience
    if not salience:
        return []
    ranked = sorted(salience, key=lambda track: (-salience[track], track))
    groups = [(track,) for track in ranked] if persons == 1 else [tuple(ranked[:persons])]
    return [TrackClip(group, track_input(frames, group, persons, coordinates)) for group in groups]


def track_input(
    frames: Sequence[Sequence[Tracked]],
    tracks: Sequence[int],
    persons: int,
    coordinates: str = REFERENCE,
) -> np.ndarray:
    """Float32 ``(3, T, V, persons)``: track ``tracks[m]`` in slot ``m``, its joints in
    the convention ``coordinates`` (the reference's: x, y minus 0.5, both zero where a
    joint is not found, the score as the third channel)."""
    joints = next((p.joints.shape[0] for tracked in frames for p in tracked), 0)
    data = np.zeros((3, len(frames), joints, persons), dtype=np.float32)
    slots = {track: slot for slot, track in enumerate(tracks[:persons])}
    for row, tracked in enumerate(frames):
        for person in tracked:
            slot = slots.get(person.track)
            if slot is None:
                continue
            data[:, row, :, slot] = model_values(person.joints, coordinates)
    return data
