"""Procedurally animated hand gestures, the synthetic dataset's ``layout=mediapipe-hand``.

A gesture needs no data to learn from, as a body action needs none: each clip is one hand
of its own size and proportions, posed by finger curls (the flexion of each finger's three
joints, the thumb's abduction, opposition and flexion) and moved at the wrist (waves,
swipes), as a 3-D skeleton of MediaPipe Hands' 21 joints (the ``mediapipe-hand`` layout:
the wrist, then four joints per finger from its base). It is turned at random, mirrored
into a left hand in half the clips, projected onto a 640x480 camera frame, placed where a
hand in front of a webcam would be, and written as the ``mediapipe-hands`` estimator's
keypoints go through ``stgcn data extract`` and ``predict``: x and y in PYSKL's
coordinate convention (the frame spans [-1, 1]; :mod:`stgcn.data.coordinates`), the
hand's detection score as the third channel, a frame where the hand was lost all zero in
pixels (so -1, -1, 0 after the conversion, as a real lost frame).

One hand a clip, one person slot, as PYSKL's gesture network (``FormatGCNInput``
``num_person=1``) and its 10-frame clips. Classes come in look-alike groups, so that the
shape of one frame does not always tell the label: an open palm, a wave and both swipes
share the open hand and differ by how the wrist moves (and a swipe left from a swipe right
only by its direction, which mirroring keeps); a fist and a grab share the closed hand, a
point and a pinch the index finger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stgcn.data.coordinates import FRACTIONS, PYSKL, normalise_keypoints

GESTURES: tuple[str, ...] = (
    "fist",
    "open palm",
    "point",
    "pinch",
    "wave",
    "thumbs up",
    "swipe left",
    "swipe right",
    "grab",
    "victory",
)
#: PYSKL's gesture clips are 10 frames long (demo/stgcnpp_gesture.py, ``clip_len=10``)
FRAMES = 10
NUM_PERSON = 1
NUM_JOINT = 21
#: the convention the clips are written in (a hand pickle's, so that a network trained on
#: these and one trained on extracted videos see the same values)
COORDINATES = PYSKL

WRIST = 0
#: each finger's first joint (MediaPipe's order: thumb, index, middle, ring, pinky)
FINGER_BASES = (1, 5, 9, 13, 17)

_Rng = np.random.Generator
_WIDTH_OVER_HEIGHT = 640.0 / 480.0

# The hand at rest, palm to the camera, fingers up, in palm lengths (wrist to the middle
# finger's base): x toward the thumb, y up the fingers, z toward the camera.
_KNUCKLES = np.array([[0.30, 0.92], [0.08, 1.0], [-0.13, 0.94], [-0.32, 0.84]])
_THUMB_BASE = np.array([0.22, 0.22])
#: bone lengths from each finger's base out, index to pinky
_FINGER_BONES = np.array(
    [[0.42, 0.25, 0.20], [0.47, 0.29, 0.21], [0.44, 0.28, 0.21], [0.34, 0.21, 0.19]]
)
_THUMB_BONES = np.array([0.38, 0.30, 0.25])
#: each finger's sideways angle (degrees) with the fingers spread naturally
_SPREAD = np.array([9.0, 0.0, -8.0, -17.0])
#: how a curl of 1 bends a finger's three joints (degrees): a fist
_CURL = np.array([85.0, 105.0, 75.0])


@dataclass
class _Hand:
    """The pose of a batch of hands over time, ``(n, frames)`` arrays: each finger's curl
    (0 straight, 1 a fist's), the fingers' spread, the thumb's angles, and the whole hand's
    turn (roll in the image plane, degrees) and wrist travel (palm lengths)."""

    curl: np.ndarray
    spread: np.ndarray
    thumb_angle: np.ndarray
    thumb_flex: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    travel: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _uniform(rng: _Rng, n: int, low: float, high: float) -> np.ndarray:
    """One value per hand, ``(n, 1)``, so that it broadcasts over time."""
    return rng.uniform(low, high, size=(n, 1))


def _phase(rng: _Rng, n: int, time: np.ndarray, low: float, high: float) -> np.ndarray:
    """Phase over the clip at a random speed (``low``..``high`` cycles) and start."""
    return 2 * np.pi * (_uniform(rng, n, low, high) * time + _uniform(rng, n, 0.0, 1.0))


def _tremor(rng: _Rng, n: int, time: np.ndarray, size: float) -> np.ndarray:
    """A slow, small drift: a hand held still is never quite still."""
    return size * np.sin(_phase(rng, n, time, 0.3, 1.2))


def _rest(rng: _Rng, n: int, time: np.ndarray, curls: tuple[float, float]) -> _Hand:
    """Every finger at a curl drawn from ``curls`` (each its own), the thumb following
    them: out beside an open hand, folded across a closed one."""
    frames = time.shape[-1]
    curl = rng.uniform(*curls, size=(n, 4, 1)) + _tremor(rng, n, time, 0.04)[:, None]
    closed = curl.mean(axis=1)
    thumb_angle = 50.0 - 75.0 * closed + _uniform(rng, n, -8, 8)
    thumb_flex = 10.0 + 60.0 * closed + _uniform(rng, n, -8, 8)
    return _Hand(
        curl=np.clip(curl, 0.0, 1.05),
        spread=np.broadcast_to(_uniform(rng, n, 0.6, 1.4), (n, frames)).copy(),
        thumb_angle=np.broadcast_to(thumb_angle, (n, frames)).copy(),
        thumb_flex=np.broadcast_to(thumb_flex, (n, frames)).copy(),
        roll=_tremor(rng, n, time, 4.0),
        yaw=np.zeros((n, frames)),
        travel=np.zeros((n, frames, 2)),
    )


def _fist(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    return _rest(rng, n, time, (0.85, 1.0))


def _open_palm(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    hand = _rest(rng, n, time, (0.0, 0.12))
    hand.spread = hand.spread + 0.3
    return hand


def _point(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """The index finger straight, the others and the thumb folded."""
    hand = _rest(rng, n, time, (0.8, 1.0))
    hand.curl[:, 0] = _uniform(rng, n, 0.0, 0.12) + _tremor(rng, n, time, 0.03)
    return hand


def _pinch(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """Thumb and index tips closing together and parting, a few times a clip."""
    hand = _rest(rng, n, time, (0.35, 0.75))
    closing = (1.0 - np.cos(_phase(rng, n, time, 1.0, 2.0))) / 2.0
    hand.curl[:, 0] = 0.1 + closing * _uniform(rng, n, 0.35, 0.5)
    hand.thumb_angle = 45.0 - closing * _uniform(rng, n, 30.0, 45.0)
    hand.thumb_flex = 10.0 + closing * _uniform(rng, n, 20.0, 35.0)
    return hand


def _wave(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """An open hand rocking side to side about the wrist."""
    hand = _open_palm(rng, n, time)
    swing = np.sin(_phase(rng, n, time, 1.0, 2.0))
    hand.roll = hand.roll + _uniform(rng, n, 25.0, 45.0) * swing
    hand.travel[..., 0] = _uniform(rng, n, 0.1, 0.3) * swing
    return hand


def _thumbs_up(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """A fist turned on its side, the thumb out and pointing up."""
    hand = _rest(rng, n, time, (0.85, 1.0))
    hand.thumb_angle = np.broadcast_to(_uniform(rng, n, 75.0, 95.0), hand.roll.shape).copy()
    hand.thumb_flex = np.broadcast_to(_uniform(rng, n, -5.0, 10.0), hand.roll.shape).copy()
    hand.roll = hand.roll + 90.0
    hand.yaw = np.broadcast_to(_uniform(rng, n, 40.0, 80.0), hand.roll.shape).copy()
    return hand


def _swipe(rng: _Rng, n: int, time: np.ndarray, direction: float) -> _Hand:
    """An open hand sweeping across the frame once, easing in and out; ``direction`` -1
    is the image's left."""
    hand = _rest(rng, n, time, (0.0, 0.25))
    start, span = _uniform(rng, n, -0.3, 0.15), _uniform(rng, n, 0.7, 1.2)
    progress = np.clip((time - start) / span, 0.0, 1.0)
    eased = progress * progress * (3.0 - 2.0 * progress)
    distance = _uniform(rng, n, 1.5, 3.0)
    hand.travel[..., 0] = direction * distance * (eased - 0.5)
    hand.travel[..., 1] = _uniform(rng, n, -0.4, 0.4) * np.sin(np.pi * eased)
    hand.yaw = hand.yaw - direction * _uniform(rng, n, 0.0, 30.0) * np.sin(np.pi * eased)
    return hand


def _swipe_left(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    return _swipe(rng, n, time, -1.0)


def _swipe_right(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    return _swipe(rng, n, time, 1.0)


def _grab(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """The whole hand closing into a fist and opening again, the thumb with it."""
    hand = _rest(rng, n, time, (0.0, 0.1))
    closing = (1.0 - np.cos(_phase(rng, n, time, 0.8, 2.0))) / 2.0
    hand.curl = hand.curl + closing[:, None] * rng.uniform(0.75, 0.95, size=(n, 4, 1))
    hand.thumb_angle = 50.0 - 70.0 * closing
    hand.thumb_flex = 10.0 + 55.0 * closing
    return hand


def _victory(rng: _Rng, n: int, time: np.ndarray) -> _Hand:
    """Index and middle fingers up and spread in a V, the others and the thumb folded."""
    hand = _rest(rng, n, time, (0.85, 1.0))
    hand.curl[:, :2] = rng.uniform(0.0, 0.12, size=(n, 2, 1))
    hand.spread = hand.spread + 0.8
    return hand


GESTURE_MOTIONS: tuple[Callable[[_Rng, int, np.ndarray], _Hand], ...] = (
    _fist,
    _open_palm,
    _point,
    _pinch,
    _wave,
    _thumbs_up,
    _swipe_left,
    _swipe_right,
    _grab,
    _victory,
)
assert len(GESTURE_MOTIONS) == len(GESTURES)


def _direction(side: np.ndarray, bend: np.ndarray) -> np.ndarray:
    """A bone's unit direction, ``side`` radians toward the thumb from straight up the
    palm and bent ``bend`` radians toward the camera (toward the palm)."""
    return np.stack([np.sin(side) * np.cos(bend), np.cos(side) * np.cos(bend), np.sin(bend)], -1)


def _chain(
    joints: np.ndarray, first: int, lengths: np.ndarray, bends: np.ndarray, side: np.ndarray
) -> None:
    """Fill the joints after ``first`` (a finger's base, already placed) along the finger:
    each bone of ``lengths`` ``(n, 3)`` bent by the cumulative ``bends`` ``(n, frames, 3)``."""
    for bone in range(3):
        direction = _direction(side, bends[..., bone])
        step = lengths[:, bone, None, None] * direction
        joints[:, :, first + bone + 1] = joints[:, :, first + bone] + step


def _skeleton(hand: _Hand, proportions: np.ndarray) -> np.ndarray:
    """3-D joints ``(n, frames, 21, 3)`` of posed hands in the hand's own frame, the wrist
    at the origin; ``proportions`` ``(n, 6)`` scales each hand's palm and each finger."""
    n, frames = hand.roll.shape
    joints = np.zeros((n, frames, NUM_JOINT, 3))
    palm = proportions[:, 0, None]
    for finger in range(4):
        first = FINGER_BASES[finger + 1]
        joints[:, :, first, :2] = (_KNUCKLES[finger] * palm)[:, None]
        curl = hand.curl[:, finger]
        side = np.deg2rad(_SPREAD[finger] * hand.spread * (1.0 - 0.7 * np.clip(curl, 0, 1)))
        bends = np.cumsum(np.deg2rad(_CURL) * curl[..., None], axis=-1)
        lengths = _FINGER_BONES[finger] * proportions[:, finger + 1, None]
        _chain(joints, first, lengths, bends, side)
    first = FINGER_BASES[0]
    joints[:, :, first, :2] = (_THUMB_BASE * palm)[:, None]
    bends = np.deg2rad(hand.thumb_flex)[..., None] * np.array([0.4, 0.9, 1.3])
    lengths = _THUMB_BONES * proportions[:, 5, None]
    _chain(joints, first, lengths, bends, np.deg2rad(hand.thumb_angle))
    return joints


def _turn(joints: np.ndarray, hand: _Hand, rng: _Rng) -> np.ndarray:
    """The gesture's own turn (roll, yaw), then a random tilt of each hand toward or away
    from the camera and sideways, as a hand is held: ``(n, frames, 21, 3)``."""
    n = len(joints)
    roll = np.deg2rad(hand.roll + _uniform(rng, n, -25.0, 25.0))[..., None]
    yaw = np.deg2rad(hand.yaw + _uniform(rng, n, -35.0, 35.0))[..., None]
    pitch = np.deg2rad(_uniform(rng, n, -30.0, 20.0))[..., None]
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    x, y = x * np.cos(roll) - y * np.sin(roll), x * np.sin(roll) + y * np.cos(roll)
    x, z = x * np.cos(yaw) + z * np.sin(yaw), -x * np.sin(yaw) + z * np.cos(yaw)
    y, z = y * np.cos(pitch) - z * np.sin(pitch), y * np.sin(pitch) + z * np.cos(pitch)
    return np.stack([x, y, z], axis=-1)


def _frame(rng: _Rng, joints: np.ndarray, travel: np.ndarray) -> np.ndarray:
    """Mirror half the hands into left hands, move them by their travel, drop depth and
    place them in the frame: ``(n, frames, 21, 2)`` in fractions of the frame (x right,
    y down). Mirroring comes after the gesture's own motion is posed but before the
    travel, so that a swipe left stays a swipe left."""
    n = len(joints)
    mirror = np.where(rng.random(n) < 0.5, -1.0, 1.0)[:, None, None]
    x = joints[..., 0] * mirror + travel[..., None, 0]
    y = joints[..., 1] + travel[..., None, 1]
    palm = rng.uniform(0.09, 0.17, size=(n, 1, 1))  # palm length, in frame heights
    x, y = x * palm / _WIDTH_OVER_HEIGHT, -y * palm
    low_x, high_x = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    low_y, high_y = y.min(axis=(1, 2), keepdims=True), y.max(axis=(1, 2), keepdims=True)
    centre_x = 0.5 + rng.uniform(-0.1, 0.1, size=(n, 1, 1))
    centre_y = 0.5 + rng.uniform(-0.08, 0.08, size=(n, 1, 1))
    # the whole trajectory stays inside the frame, with a margin
    shift_x = np.clip(centre_x - (low_x + high_x) / 2, 0.02 - low_x, 0.98 - high_x)
    shift_y = np.clip(centre_y - (low_y + high_y) / 2, 0.02 - low_y, 0.98 - high_y)
    return np.clip(np.stack([x + shift_x, y + shift_y], axis=-1), 0.0, 1.0)


def _observe(rng: _Rng, xy: np.ndarray) -> np.ndarray:
    """A detector's view of placed hands ``(n, 3, frames, 21)``: landmark noise, the
    hand's score on every joint, lost frames zero, in PYSKL's convention."""
    n, frames = xy.shape[:2]
    size = xy[..., 1].max(axis=(1, 2)) - xy[..., 1].min(axis=(1, 2))
    noise = rng.uniform(0.01, 0.03, size=(n, 1, 1, 1)) * np.maximum(size, 0.05)[:, None, None, None]
    xy = xy + noise * rng.standard_normal(xy.shape)
    score = rng.uniform(0.7, 1.0, size=(n, 1)) + rng.normal(0.0, 0.03, size=(n, frames))
    score = np.clip(score, 0.5, 1.0)
    keypoints = np.concatenate(
        [xy, np.broadcast_to(score[..., None, None], (n, frames, NUM_JOINT, 1))], axis=-1
    )
    lose_rate = np.where(rng.random((n, 1)) < 0.2, rng.uniform(0.05, 0.15, size=(n, 1)), 0.0)
    lost = rng.random((n, frames)) < lose_rate
    keypoints[lost] = 0.0
    values = normalise_keypoints(keypoints, FRACTIONS, COORDINATES)
    return values.transpose(0, 3, 1, 2)


def animate_hands(rng: _Rng, gestures: np.ndarray, frames: int) -> np.ndarray:
    """Clips ``(n, 3, frames, 21)`` of the gestures with those class indices."""
    time = np.arange(frames)[None, :] / frames
    out = np.zeros((len(gestures), 3, frames, NUM_JOINT))
    for gesture, motion in enumerate(GESTURE_MOTIONS):
        (rows,) = np.nonzero(gestures == gesture)
        if not rows.size:
            continue
        hand = motion(rng, rows.size, time)
        # a hand's size is the frame's business; its proportions are its own
        proportions = rng.uniform(0.92, 1.08, size=(rows.size, 6))
        joints = _turn(_skeleton(hand, proportions), hand, rng)
        out[rows] = _observe(rng, _frame(rng, joints, hand.travel))
    return out


def generate_hands(
    num_samples: int, seed: int, frames: int = FRAMES
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``num_samples`` labelled gesture clips, balanced over the classes, fully from
    ``seed``: ``data`` float32 ``(num_samples, 3, frames, 21, 1)`` and ``labels`` int64."""
    if num_samples < 0 or frames < 1:
        raise ValueError(f"need num_samples >= 0 and frames >= 1, got {num_samples} and {frames}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(num_samples) % len(GESTURES)).astype(np.int64)
    data = animate_hands(rng, labels, frames)[..., None].astype(np.float32)
    return data, labels
