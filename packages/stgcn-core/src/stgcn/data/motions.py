"""The motions of the synthetic dataset's stick figures: one function per action class
(sinusoids and pulses of joint angles over a clip's time), the figure's limb lengths, and
the 3-D joint positions they make (:func:`animate`).

:mod:`stgcn.data.synthetic` turns those into clips: it places, turns and projects the
figures, and writes them with the Kinetics-skeleton value conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NUM_JOINT = 18

# openpose joint indices
NOSE, NECK = 0, 1
R_SHOULDER, R_ELBOW, R_WRIST = 2, 3, 4
L_SHOULDER, L_ELBOW, L_WRIST = 5, 6, 7
R_HIP, R_KNEE, R_ANKLE = 8, 9, 10
L_HIP, L_KNEE, L_ANKLE = 11, 12, 13
R_EYE, L_EYE, R_EAR, L_EAR = 14, 15, 16, 17

_Rng = np.random.Generator
_Angle = np.ndarray | float


def _uniform(rng: _Rng, n: int, low: float, high: float) -> np.ndarray:
    """One value per figure, shaped ``(n, 1)`` so that it broadcasts over time."""
    return rng.uniform(low, high, size=(n, 1))


def _degrees(rng: _Rng, n: int, low: float, high: float) -> np.ndarray:
    return np.deg2rad(_uniform(rng, n, low, high))


def _cycle(rng: _Rng, n: int, time: np.ndarray, low: float, high: float) -> np.ndarray:
    """Phase over the clip at a random speed (``low``..``high`` cycles per clip) and offset.

    The random offset is what keeps the first frame from telling the class.
    """
    cycles = _uniform(rng, n, low, high)
    offset = _uniform(rng, n, 0.0, 2.0 * np.pi)
    return 2.0 * np.pi * cycles * time + offset


def _positive(wave: np.ndarray, power: float = 1.0) -> np.ndarray:
    return np.maximum(wave, 0.0) ** power


class _Pose:
    """Segment directions and whole-body terms of a batch of figures over time.

    Segment directions live in a body frame (``x`` to the figure's left, ``y`` down, ``z``
    forward); angles are abduction (away from the body midline) and flexion (forward), so
    that the hanging arm and the straight leg are both zero.
    """

    def __init__(self, n: int, frames: int) -> None:
        self.shape = (n, frames)
        self.segments: dict[str, np.ndarray] = {}
        self.lean = np.zeros(self.shape)
        self.twist = np.zeros(self.shape)
        self.travel = np.zeros(self.shape)
        self.lift = np.zeros(self.shape)

    def direction(self, abduction: _Angle, flexion: _Angle, side: int) -> np.ndarray:
        abduction = np.broadcast_to(abduction, self.shape)
        flexion = np.broadcast_to(flexion, self.shape)
        across = np.cos(abduction)
        return np.stack(
            [side * np.sin(abduction), across * np.cos(flexion), across * np.sin(flexion)],
            axis=-1,
        )

    def arm(
        self,
        side: str,
        abduction: _Angle,
        flexion: _Angle,
        fore_abduction: _Angle,
        fore_flexion: _Angle,
    ) -> None:
        sign = -1 if side == "r" else 1
        self.segments[f"{side}_upper"] = self.direction(abduction, flexion, sign)
        self.segments[f"{side}_fore"] = self.direction(fore_abduction, fore_flexion, sign)

    def leg(self, side: str, abduction: _Angle, flexion: _Angle, knee: _Angle) -> None:
        sign = -1 if side == "r" else 1
        self.segments[f"{side}_thigh"] = self.direction(abduction, flexion, sign)
        self.segments[f"{side}_shin"] = self.direction(abduction, flexion - knee, sign)


def _standing(rng: _Rng, n: int, time: np.ndarray, sway: float = 3.0) -> _Pose:
    """Relaxed stance with a slow sway, the starting point every action overrides."""
    pose = _Pose(n, time.shape[-1])
    phase = _cycle(rng, n, time, 0.2, 0.8)
    for side in "rl":
        abduction = _degrees(rng, n, 4, 12) + _degrees(rng, n, 0, sway) * np.sin(phase)
        flexion = _degrees(rng, n, -5, 8) + _degrees(rng, n, 0, sway) * np.cos(phase)
        pose.arm(side, abduction, flexion, abduction, flexion + _degrees(rng, n, 5, 20))
        pose.leg(side, _degrees(rng, n, 2, 6), 0.0, _degrees(rng, n, 0, 6))
    pose.lean = np.broadcast_to(_degrees(rng, n, -3, 5), pose.shape).copy()
    pose.twist = _degrees(rng, n, 0, sway) * np.sin(phase + 1.0)
    return pose


def _idle(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """A bystander: no action, only fidgeting, for the second person of some clips."""
    return _standing(rng, n, time, sway=8.0)


def _waving(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Raised forearm swinging fast about the vertical: the raised arm pose of 'raising hand'."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 2.0, 4.0)
    flexion = _degrees(rng, n, 0, 25)
    swing = np.pi + _degrees(rng, n, -8, 8) + _degrees(rng, n, 15, 35) * np.sin(phase)
    pose.arm("r", _degrees(rng, n, 95, 130), flexion, swing, flexion + _degrees(rng, n, 0, 20))
    return pose


def _raising_hand(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """One slow raise and lowering of an arm that pauses at the top; the hand never swings."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 0.6, 1.3)
    height = np.clip(1.3 * (1.0 - np.cos(phase)) / 2.0, 0.0, 1.0)
    start = np.deg2rad(8.0)
    abduction = start + height * (_degrees(rng, n, 100, 140) - start)
    flexion = height * _degrees(rng, n, 0, 25)
    fore = abduction + height * _degrees(rng, n, 15, 45)
    pose.arm("r", abduction, flexion, fore, flexion + _degrees(rng, n, 0, 20))
    return pose


def _clapping(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Both hands in front, meeting at the midline together, several times a clip."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 2.5, 4.5)
    closing = _positive((1.0 + np.sin(phase)) / 2.0, 0.7)
    upper_abduction = _degrees(rng, n, 5, 20)
    upper_flexion = _degrees(rng, n, 30, 100)
    fore_flexion = _degrees(rng, n, 75, 100)
    opened = _degrees(rng, n, -15, 10)
    closed = -_degrees(rng, n, 60, 75)
    fore_abduction = opened + closing * (closed - opened)
    for side in "rl":
        pose.arm(side, upper_abduction, upper_flexion, fore_abduction, fore_flexion)
    return pose


def _punching(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Fists from the guard thrust forward in turn, the shoulders turning with each punch."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 1.0, 2.2)
    reach = {"r": _positive(np.sin(phase), 1.5), "l": _positive(-np.sin(phase), 1.5)}
    for side in "rl":
        guard_flexion = _degrees(rng, n, 20, 40)
        guard = (
            _degrees(rng, n, 10, 25),
            guard_flexion,
            -_degrees(rng, n, 10, 25),
            guard_flexion + _degrees(rng, n, 110, 130),
        )
        out_flexion = _degrees(rng, n, 80, 95)
        extended = (_degrees(rng, n, 0, 8), out_flexion, -_degrees(rng, n, 0, 5), out_flexion)
        angles = [g + reach[side] * (e - g) for g, e in zip(guard, extended, strict=True)]
        pose.arm(side, *angles)
    pose.twist = _degrees(rng, n, 10, 25) * (reach["r"] - reach["l"])
    return pose


def _crouch_legs(pose: _Pose, knee: np.ndarray, share: float | np.ndarray) -> np.ndarray:
    """Bend both knees, the thigh taking ``share`` of the bend; returns the thigh flexion.

    A share of one half keeps the ankles under the hips; more sits the hips back.
    """
    flexion = share * knee
    for side in "rl":
        pose.leg(side, np.deg2rad(4.0), flexion, knee)
    return flexion


def _jumping(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Quick hops: short crouch, then the whole figure leaves the ground with arms swung up."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 1.5, 3.0)
    air, crouch = _positive(np.sin(phase)), _positive(-np.sin(phase))
    thigh = _crouch_legs(pose, _degrees(rng, n, 40, 80) * crouch, 0.5)
    pose.lean = 0.5 * thigh
    pose.lift = _uniform(rng, n, 0.06, 0.14) * air
    swing = _degrees(rng, n, 60, 130) * air - _degrees(rng, n, 15, 40) * crouch
    abduction = _degrees(rng, n, 5, 20)
    pose.arm("r", abduction, swing, abduction, swing + _degrees(rng, n, 5, 25))
    pose.arm("l", abduction, swing, abduction, swing + _degrees(rng, n, 5, 25))
    return pose


def _squatting(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Slow deep knee bends with the feet planted; the arms may rise forward for balance."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 0.6, 1.5)
    depth = (1.0 - np.cos(phase)) / 2.0
    thigh = _crouch_legs(pose, _degrees(rng, n, 70, 120) * depth, _uniform(rng, n, 0.5, 0.6))
    pose.lean = _uniform(rng, n, 0.3, 0.7) * thigh
    raise_ = _degrees(rng, n, 0, 95) * depth
    abduction = _degrees(rng, n, 5, 15)
    pose.arm("r", abduction, raise_, abduction, raise_ + _degrees(rng, n, 5, 20))
    pose.arm("l", abduction, raise_, abduction, raise_ + _degrees(rng, n, 5, 20))
    return pose


def _gait(rng: _Rng, n: int, time: np.ndarray, *, running: bool) -> _Pose:
    """Legs and arms swinging in anti-phase while the figure moves forward."""
    pose = _standing(rng, n, time)
    if running:
        phase = _cycle(rng, n, time, 1.8, 3.2)
        stride, knee_swing, knee_stance = (30, 45), (70, 100), (10, 25)
        arm_swing, elbow, lean, travel = (25, 45), (50, 95), (5, 18), (0.4, 1.2)
    else:
        phase = _cycle(rng, n, time, 0.8, 1.8)
        stride, knee_swing, knee_stance = (15, 28), (30, 50), (0, 8)
        arm_swing, elbow, lean, travel = (10, 28), (5, 45), (-2, 5), (0.2, 0.8)
    amplitude = _degrees(rng, n, *stride)
    swing_knee, stance_knee = _degrees(rng, n, *knee_swing), _degrees(rng, n, *knee_stance)
    arm_amplitude, elbow_bend = _degrees(rng, n, *arm_swing), _degrees(rng, n, *elbow)
    for side, leg_phase in (("r", phase), ("l", phase + np.pi)):
        knee = stance_knee + swing_knee * _positive(np.cos(leg_phase))
        pose.leg(side, np.deg2rad(3.0), amplitude * np.sin(leg_phase), knee)
        arm_flexion = -arm_amplitude * np.sin(leg_phase)
        pose.arm(side, np.deg2rad(8.0), arm_flexion, np.deg2rad(8.0), arm_flexion + elbow_bend)
    pose.lean = np.broadcast_to(_degrees(rng, n, *lean), pose.shape).copy()
    pose.travel = _uniform(rng, n, *travel) * time
    if running:
        pose.lift = _uniform(rng, n, 0.02, 0.05) * np.abs(np.sin(phase))
    return pose


def _walking(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    return _gait(rng, n, time, running=False)


def _running(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    return _gait(rng, n, time, running=True)


def _kicking(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """One leg snapping forward and back, the standing leg planted; between kicks: a stance."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 1.0, 2.0)
    kick = _positive(np.sin(phase), 2.0)
    chamber = 4.0 * kick * (1.0 - kick)
    pose.leg("r", _degrees(rng, n, 0, 10), _degrees(rng, n, 60, 95) * kick, 1.5 * chamber)
    pose.leg("l", np.deg2rad(4.0), 0.0, _degrees(rng, n, 0, 15))
    pose.lean = -_degrees(rng, n, 0, 12) * kick
    return pose


def _arm_circles(rng: _Rng, n: int, time: np.ndarray) -> _Pose:
    """Straight arms held out sideways, hands drawing circles, both arms mirror-symmetric."""
    pose = _standing(rng, n, time)
    phase = _cycle(rng, n, time, 1.5, 3.5)
    radius = _degrees(rng, n, 20, 45)
    tilt = _degrees(rng, n, -10, 20)
    turn = rng.choice([-1.0, 1.0], size=(n, 1))
    for side, sign in (("r", -1.0), ("l", 1.0)):
        axis = np.stack([sign * np.cos(tilt), -np.sin(tilt), 0.0 * tilt], axis=-1)
        across = np.stack([sign * np.sin(tilt), np.cos(tilt), 0.0 * tilt], axis=-1)
        forward = np.array([0.0, 0.0, 1.0])
        direction = np.cos(radius)[..., None] * axis + np.sin(radius)[..., None] * (
            np.cos(phase)[..., None] * across + (turn * np.sin(phase))[..., None] * forward
        )
        pose.segments[f"{side}_upper"] = direction
        pose.segments[f"{side}_fore"] = direction
    return pose


ACTIONS: tuple[Callable[[_Rng, int, np.ndarray], _Pose], ...] = (
    _waving,
    _raising_hand,
    _clapping,
    _punching,
    _jumping,
    _squatting,
    _walking,
    _running,
    _kicking,
    _arm_circles,
)


def _body(rng: _Rng, n: int) -> dict[str, np.ndarray]:
    """Segment lengths of a figure about one unit tall, each jittered independently."""
    means = {
        "torso": 0.30,
        "shoulder": 0.11,
        "hip": 0.065,
        "upper": 0.18,
        "fore": 0.17,
        "thigh": 0.25,
        "shin": 0.25,
        "head": 0.11,
    }
    scale = rng.uniform(0.9, 1.1, size=(n, 1, 1))
    return {
        name: mean * scale * rng.uniform(0.93, 1.07, size=(n, 1, 1)) for name, mean in means.items()
    }


def _assemble(pose: _Pose, body: dict[str, np.ndarray]) -> np.ndarray:
    """Joint positions ``(n, frames, 18, 3)`` in the body frame, feet resting on ``y = 0``."""
    n, frames = pose.shape
    joints = np.zeros((n, frames, NUM_JOINT, 3))
    lean, twist, zero = pose.lean, pose.twist, np.zeros(pose.shape)
    up = np.stack([zero, -np.cos(lean), np.sin(lean)], axis=-1)
    forward = np.stack([zero, np.sin(lean), np.cos(lean)], axis=-1)
    lateral = np.stack([np.cos(twist), zero, -np.sin(twist)], axis=-1)
    pelvis = np.stack([zero, zero, pose.travel], axis=-1)
    neck = pelvis + body["torso"] * up
    head = body["head"]
    nose = neck + head * (0.9 * up + 0.4 * forward)
    joints[:, :, NECK] = neck
    joints[:, :, NOSE] = nose
    for sign, eye, ear in ((-1.0, R_EYE, R_EAR), (1.0, L_EYE, L_EAR)):
        joints[:, :, eye] = nose + head * (0.22 * sign * lateral + 0.25 * up - 0.1 * forward)
        joints[:, :, ear] = nose + head * (0.5 * sign * lateral + 0.1 * up - 0.55 * forward)
    limbs = (
        ("r", -1.0, R_SHOULDER, R_ELBOW, R_WRIST, R_HIP, R_KNEE, R_ANKLE),
        ("l", 1.0, L_SHOULDER, L_ELBOW, L_WRIST, L_HIP, L_KNEE, L_ANKLE),
    )
    seg = pose.segments
    for side, sign, shoulder, elbow, wrist, hip, knee, ankle in limbs:
        joints[:, :, shoulder] = neck + sign * body["shoulder"] * lateral
        joints[:, :, elbow] = joints[:, :, shoulder] + body["upper"] * seg[f"{side}_upper"]
        joints[:, :, wrist] = joints[:, :, elbow] + body["fore"] * seg[f"{side}_fore"]
        joints[:, :, hip] = pelvis + sign * body["hip"] * np.array([1.0, 0.0, 0.0])
        joints[:, :, knee] = joints[:, :, hip] + body["thigh"] * seg[f"{side}_thigh"]
        joints[:, :, ankle] = joints[:, :, knee] + body["shin"] * seg[f"{side}_shin"]
    ground = np.maximum(joints[:, :, R_ANKLE, 1], joints[:, :, L_ANKLE, 1])
    joints[..., 1] -= (ground + pose.lift)[..., None]
    return joints


def animate(rng: _Rng, actions: np.ndarray, frames: int) -> np.ndarray:
    """3-D joints ``(n, frames, 18, 3)``; ``actions`` holds a class index or -1 for idle."""
    time = np.arange(frames)[None, :] / frames
    joints = np.zeros((len(actions), frames, NUM_JOINT, 3))
    for action in range(-1, len(ACTIONS)):
        (rows,) = np.nonzero(actions == action)
        if rows.size:
            make = _idle if action < 0 else ACTIONS[action]
            joints[rows] = _assemble(make(rng, rows.size, time), _body(rng, rows.size))
    return joints
