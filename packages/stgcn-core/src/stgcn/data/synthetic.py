"""Procedurally animated skeleton actions, so that training runs with nothing downloaded.

Each clip is a stick figure with its own limb lengths, animated by a class-specific motion
(sinusoids and pulses of joint angles), posed in 3-D, turned about the vertical axis, projected
onto a 340x256 frame and written with the value conventions of the Kinetics-skeleton
conversion: openpose joint order, ``x`` and ``y`` normalised to ``[0, 1]`` and shifted by
``-0.5``, an OpenPose-like confidence as third channel, and all three zero where a joint or a
whole frame was not detected.

Most classes come in pairs that pass through similar poses (waving / raising hand, jumping /
squatting, walking / running, clapping / punching with both hands in front), and every clip
starts at a random phase and speed, so a single frame says little: the rhythm, the direction
of motion and the coordination of the limbs carry the label.

A clip spans the whole motion in 8 frames by default (``frames`` draws finer samplings of the
same motions). That, and a bystander in only some clips, is what lets two CPU cores train the
full network past 0.9 validation top-1 in under three minutes; the motion still has to be seen.

``layout="mediapipe-hand"`` draws hand gestures instead (:mod:`stgcn.data.synthetic_hands`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import Dataset

from stgcn.data import synthetic_hands
from stgcn.data.motions import (
    ACTIONS,
    L_EAR,
    NUM_JOINT,
    R_EAR,
    animate,
)

CLASS_NAMES: tuple[str, ...] = (
    "waving",
    "raising hand",
    "clapping",
    "punching",
    "jumping",
    "squatting",
    "walking",
    "running",
    "kicking",
    "arm circles",
)
FRAMES = 8
NUM_PERSON = 2

assert len(ACTIONS) == len(CLASS_NAMES)

#: the skeletons the clips come in: bodies (the default) or hands
#: (:mod:`stgcn.data.synthetic_hands`)
BODY_LAYOUT, HAND_LAYOUT = "openpose", "mediapipe-hand"
LAYOUTS = (BODY_LAYOUT, HAND_LAYOUT)

SPLIT_SIZES = {"train": 640, "val": 160}

_MIRROR = np.array([0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16])
_WIDTH_OVER_HEIGHT = 340.0 / 256.0
_MARGIN = 0.02
_TWO_PERSON_RATE = 0.15
_PARTNER_SAME_ACTION_RATE = 0.5
_YAW_DEGREES = 70.0
_ROLL_DEGREES = 8.0
_MIRROR_RATE = 0.5
# OpenPose is least sure about the small and fast parts: ears, eyes, wrists and ankles.
_SCORE_BIAS = np.array(
    [
        *(0.0, 0.05),
        *(0.0, -0.03, -0.1, 0.0, -0.03, -0.1),
        *(0.0, -0.03, -0.08, 0.0, -0.03, -0.08),
        *(-0.05, -0.05, -0.15, -0.15),
    ]
)
_EXTRA_MISS_RATE = np.zeros(NUM_JOINT)
_EXTRA_MISS_RATE[[R_EAR, L_EAR]] = 0.15

_Rng = np.random.Generator


@dataclass(frozen=True)
class _Shot:
    """Where one person of each clip appears, how large, and how sure the detector is of them.

    ``x_low``/``x_high`` bound the horizontal band (image fraction) the whole trajectory must
    stay in, ``height`` is the wished figure height (image fraction), and ``jitter`` how far
    the figure may sit from the band's centre.
    """

    x_low: np.ndarray
    x_high: np.ndarray
    height: np.ndarray
    jitter: float
    confidence: tuple[float, float]

    def select(self, rows: np.ndarray) -> _Shot:
        return replace(
            self, x_low=self.x_low[rows], x_high=self.x_high[rows], height=self.height[rows]
        )


def _project(rng: _Rng, joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror, turn about the vertical and roll, then drop depth: ``(n, frames, 18, 2)``.

    Mirroring swaps the joint labels as well, so a mirrored right-handed waver is a correct
    left-handed one rather than a figure with its labels on the wrong side. Also returns, per
    figure, the ear turned away from the camera far enough that a detector would miss it
    (-1 for none).
    """
    n = len(joints)
    mirrored = rng.random(n) < _MIRROR_RATE
    joints = joints.copy()
    joints[mirrored] = joints[mirrored][:, :, _MIRROR] * np.array([-1.0, 1.0, 1.0])
    yaw = np.deg2rad(rng.uniform(-_YAW_DEGREES, _YAW_DEGREES, size=(n, 1, 1)))
    roll = np.deg2rad(rng.uniform(-_ROLL_DEGREES, _ROLL_DEGREES, size=(n, 1, 1)))
    x = joints[..., 0] * np.cos(yaw) + joints[..., 2] * np.sin(yaw)
    y = joints[..., 1]
    x, y = x * np.cos(roll) - y * np.sin(roll), x * np.sin(roll) + y * np.cos(roll)
    hidden_ear = np.where(yaw[:, 0, 0] > 0, L_EAR, R_EAR)
    hides = (np.abs(yaw[:, 0, 0]) > np.deg2rad(35.0)) & (rng.random(n) < 0.8)
    return np.stack([x / _WIDTH_OVER_HEIGHT, y], axis=-1), np.where(hides, hidden_ear, -1)


def _place(rng: _Rng, xy: np.ndarray, shot: _Shot) -> np.ndarray:
    """Scale and shift each figure so that its whole trajectory stays inside its image band.

    The figure shrinks below the wished height where its trajectory (a walk across the frame,
    raised arms) would not fit, and its centre lands near the band's centre, within
    ``shot.jitter``, because a camera keeps its subject roughly framed. That matters for
    learning too: a network that first normalises each joint over the batch sees mostly
    placement when the figures sit anywhere, and then learns far more slowly.
    """
    low, high = xy.min(axis=(1, 2)), xy.max(axis=(1, 2))
    extent = np.maximum(high - low, 1e-6)
    band_low = np.stack([shot.x_low, np.full_like(shot.x_low, _MARGIN)], axis=-1)
    band_high = np.stack([shot.x_high, np.full_like(shot.x_high, 1.0 - _MARGIN)], axis=-1)
    scale = np.minimum(shot.height, ((band_high - band_low) / extent).min(axis=-1))[:, None]
    first, last = band_low - low * scale, band_high - high * scale
    target = (band_low + band_high - (low + high) * scale) / 2.0
    target += shot.jitter * rng.uniform(-1.0, 1.0, size=target.shape)
    offset = np.clip(target, first, last)
    return xy * scale[:, None, None] + offset[:, None, None, :]


def _observe(
    rng: _Rng, xy: np.ndarray, hidden: np.ndarray, confidence: tuple[float, float]
) -> np.ndarray:
    """Detector view of placed figures: noisy coordinates, scores, dropped joints and frames.

    Returns ``(n, 3, frames, 18)`` in the Kinetics convention, zero wherever undetected.
    """
    n, frames = xy.shape[:2]
    base = rng.uniform(*confidence, size=(n, 1, 1))
    score = base + _SCORE_BIAS + rng.normal(0.0, 0.1, size=(n, frames, NUM_JOINT))
    score = np.clip(score, 0.1, 1.0)
    noise = rng.uniform(0.002, 0.008, size=(n, 1, 1, 1)) * (1.6 - score[..., None])
    xy = np.clip(xy + noise * rng.standard_normal(xy.shape) - 0.5, -0.5, 0.5)
    miss_rate = rng.uniform(0.0, 0.06, size=(n, 1, 1)) + _EXTRA_MISS_RATE
    missing = rng.random(score.shape) < miss_rate
    (turned,) = np.nonzero(hidden >= 0)
    missing[turned, :, hidden[turned]] = True
    frame_rate = np.where(rng.random((n, 1)) < 0.25, rng.uniform(0.03, 0.12, size=(n, 1)), 0.0)
    missing |= (rng.random((n, frames)) < frame_rate)[..., None]
    values = np.concatenate([xy, score[..., None]], axis=-1)
    values[missing] = 0.0
    return values.transpose(0, 3, 1, 2)


def _shots(rng: _Rng, two: np.ndarray) -> tuple[_Shot, _Shot]:
    """Framing of the actor (centred) and of a possible bystander (off to one side)."""
    n = len(two)
    partner_left = rng.random(n) < 0.5
    height = rng.uniform(0.45, 0.85, size=n)
    actor = _Shot(
        x_low=np.where(two, 0.18, _MARGIN),
        x_high=np.where(two, 0.82, 1.0 - _MARGIN),
        height=height,
        jitter=0.06,
        confidence=(0.55, 0.95),
    )
    partner = _Shot(
        x_low=np.where(partner_left, _MARGIN, 0.64),
        x_high=np.where(partner_left, 0.36, 1.0 - _MARGIN),
        height=height * rng.uniform(0.7, 1.1, size=n),
        jitter=0.3,
        confidence=(0.4, 0.85),
    )
    return actor, partner


def _render(rng: _Rng, actions: np.ndarray, frames: int, shot: _Shot) -> np.ndarray:
    joints = animate(rng, actions, frames)
    xy, hidden = _project(rng, joints)
    return _observe(rng, _place(rng, xy, shot), hidden, shot.confidence)


def generate(
    num_samples: int, seed: int, frames: int = FRAMES, num_person: int = NUM_PERSON
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``num_samples`` labelled clips, balanced over the classes, fully from ``seed``.

    Returns ``data`` float32 ``(num_samples, 3, frames, 18, num_person)`` and ``labels``
    int64 ``(num_samples,)``. The acting person is in slot 0; in about 15% of clips (when
    ``num_person >= 2``) slot 1 holds a second person doing the same action or standing by.
    """
    if num_samples < 0 or frames < 1 or num_person < 1:
        raise ValueError(
            f"need num_samples >= 0, frames >= 1 and num_person >= 1, got "
            f"{num_samples}, {frames} and {num_person}"
        )
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(num_samples) % len(CLASS_NAMES)).astype(np.int64)
    data = np.zeros((num_samples, 3, frames, NUM_JOINT, num_person), dtype=np.float32)
    two = (rng.random(num_samples) < _TWO_PERSON_RATE) & (num_person >= 2)
    actor, partner = _shots(rng, two)
    data[..., 0] = _render(rng, labels, frames, actor)
    (rows,) = np.nonzero(two)
    if rows.size:
        same = rng.random(rows.size) < _PARTNER_SAME_ACTION_RATE
        partner_actions = np.where(same, labels[rows], -1)
        data[rows, ..., 1] = _render(rng, partner_actions, frames, partner.select(rows))
    return data, labels


def _split_seed(seed: int, split: str) -> int:
    """Seed of one split, derived so that train and val draw unrelated streams."""
    index = tuple(SPLIT_SIZES).index(split)
    return int(np.random.SeedSequence([seed, index, 0x5EED]).generate_state(1)[0])


class SyntheticSkeletons(Dataset[tuple[torch.Tensor, int]]):
    """A split of procedurally generated clips, held in memory as numpy arrays."""

    def __init__(
        self,
        split: str,
        size: int | None = None,
        seed: int = 0,
        frames: int | None = None,
        layout: str = BODY_LAYOUT,
    ) -> None:
        if split not in SPLIT_SIZES:
            raise ValueError(
                f"unknown split {split!r}; valid splits: {', '.join(map(repr, SPLIT_SIZES))}"
            )
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
        self.split = split
        count = SPLIT_SIZES[split] if size is None else size
        split_seed = _split_seed(seed, split)
        if layout == HAND_LAYOUT:
            self.class_names = synthetic_hands.GESTURES
            frames = synthetic_hands.FRAMES if frames is None else frames
            self.data, self.labels = synthetic_hands.generate_hands(count, split_seed, frames)
        else:
            self.class_names = CLASS_NAMES
            frames = FRAMES if frames is None else frames
            self.data, self.labels = generate(count, split_seed, frames=frames)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def sample_names(self) -> list[str]:
        """Each clip's id, for score files (``stgcn eval --save-scores``)."""
        return [f"synthetic-{self.split}-{index:05d}" for index in range(len(self))]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.data[index]), int(self.labels[index])
