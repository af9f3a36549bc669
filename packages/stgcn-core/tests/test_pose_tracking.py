"""Track identities on synthetic skeletons: people crossing, a missed frame, someone
leaving and someone new; and the clips that tracks make for one- and two-person models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stgcn.pose.tracking import (
    Tracker,
    box_of,
    most_salient,
    overlap,
    track_frames,
    window_clips,
)

JOINTS = 18


def skeleton(x: float, y: float = 0.5, size: float = 0.2, score: float = 0.9) -> np.ndarray:
    """A person of ``JOINTS`` joints spread over a box of ``size`` centred at (x, y)."""
    rng = np.random.default_rng(7)
    offsets = rng.uniform(-size / 2, size / 2, (JOINTS, 2))
    values = np.empty((JOINTS, 3), np.float32)
    values[:, :2] = np.array([x, y]) + offsets
    values[:, 2] = score
    return values


def test_boxes_and_overlap() -> None:
    person = skeleton(0.5)
    person[0] = (0.99, 0.99, 0.0)  # not found: outside the box
    x1, _y1, x2, y2 = box_of(person)
    assert x1 < 0.5 < x2 and x2 < 0.9 and y2 < 0.9
    assert box_of(np.zeros((JOINTS, 3), np.float32)) is None
    assert overlap((0, 0, 1, 1), (0, 0, 1, 1)) == pytest.approx(1.0)
    assert overlap((0, 0, 1, 1), (0.5, 0, 1.5, 1)) == pytest.approx(1 / 3)
    assert overlap((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0


def test_two_people_keep_their_ids_in_any_order() -> None:
    tracker = Tracker()
    ids = []
    for t in range(20):
        left, right = skeleton(0.2 + 0.01 * t), skeleton(0.8 - 0.01 * t)
        persons = [left, right] if t % 2 else [right, left]  # the estimator's order varies
        tracked = tracker.update(persons)
        by_x = sorted(tracked, key=lambda p: float(p.joints[:, 0].mean()))
        ids.append((by_x[0].track, by_x[1].track))
    assert set(ids) == {(1, 2)} or set(ids) == {(2, 1)}
    assert tracker.started == 2


def test_crossing_people_are_not_swapped() -> None:
    """Two people walking towards each other and past: the exact assignment with the
    velocity keeps each on its own path."""
    tracker = Tracker()
    paths: dict[int, list[float]] = {}
    for t in range(30):
        a, b = skeleton(0.2 + 0.02 * t, 0.45), skeleton(0.8 - 0.02 * t, 0.55)
        for person in tracker.update([b, a]):
            paths.setdefault(person.track, []).append(float(person.joints[:, 0].mean()))
    assert sorted(paths) == [1, 2]
    for xs in paths.values():
        steps = np.diff(xs)
        assert (steps > 0).all() or (steps < 0).all()


def test_a_missed_frame_or_two_keeps_the_id_then_it_ends() -> None:
    tracker = Tracker(max_missed=2)
    first = tracker.update([skeleton(0.3)])[0].track
    tracker.update([])
    tracker.update([])
    assert tracker.update([skeleton(0.32)])[0].track == first  # two frames missed: kept
    for _ in range(3):
        tracker.update([])
    assert tracker.update([skeleton(0.32)])[0].track != first  # three: a new person


def test_someone_leaving_and_someone_new() -> None:
    frames = [[skeleton(0.2)]] * 5 + [[]] * 4 + [[skeleton(0.7)]] * 5
    tracked = track_frames(frames)
    ids = [p.track for persons in tracked for p in persons]
    assert ids == [1] * 5 + [2] * 5
    # someone new appearing far from a live track is also a new id, not the old one
    tracked = track_frames([[skeleton(0.2)], [skeleton(0.2), skeleton(0.8)]])
    assert [p.track for p in tracked[1]] == [1, 2]


def test_most_salient_keeps_the_order() -> None:
    weak, strong, middle = skeleton(0.1, score=0.2), skeleton(0.5), skeleton(0.8, score=0.5)
    kept = most_salient([weak, strong, middle], 2)
    assert [p is q for p, q in zip(kept, [strong, middle], strict=True)] == [True, True]
    assert len(most_salient([weak], 2)) == 1 and len(most_salient([weak, strong], None)) == 2


def test_window_clips_for_one_and_two_person_models() -> None:
    frames = track_frames([[skeleton(0.2), skeleton(0.8, score=0.5)] for _ in range(6)])
    one = window_clips(frames, 1)
    assert [clip.tracks for clip in one] == [(1,), (2,)]  # the surer person first
    assert all(clip.sample.shape == (3, 6, JOINTS, 1) for clip in one)
    (two,) = window_clips(frames, 2)
    assert two.tracks == (1, 2) and two.sample.shape == (3, 6, JOINTS, 2)
    # slot 1 holds track 2 in every frame: its x minus 0.5, its score
    person = frames[0][1].joints
    np.testing.assert_allclose(
        two.sample[0, :, :, 1], np.tile(person[:, 0] - 0.5, (6, 1)), atol=1e-6
    )
    np.testing.assert_allclose(two.sample[2, :, :, 1], 0.5)
    # a frame without a track's person is zeros in its slot
    frames[2] = [p for p in frames[2] if p.track == 1]
    (two,) = window_clips(frames, 2)
    assert not two.sample[:, 2, :, 1].any() and two.sample[:, 2, :, 0].any()
    assert window_clips([[], []], 2) == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0.1, 0.9), min_size=1, max_size=4, unique=True), st.permutations(range(4))
)
def test_well_apart_people_keep_their_ids(starts: list[float], order: list[int]) -> None:
    """People at least a body apart, each moving a little each frame, in any order the
    estimator lists them, keep one id each for the whole clip."""
    starts = sorted(starts)
    if any(b - a < 0.25 for a, b in itertools.pairwise(starts)):
        starts = starts[:1]
    tracker = Tracker()
    seen: dict[int, set[int]] = {}
    for t in range(8):
        people = [skeleton(x + 0.005 * t, size=0.15) for x in starts]
        listed = [i for i in order if i < len(people)]
        for index, tracked in zip(listed, tracker.update([people[i] for i in listed]), strict=True):
            seen.setdefault(index, set()).add(tracked.track)
    assert all(len(ids) == 1 for ids in seen.values())
    assert len({next(iter(ids)) for ids in seen.values()}) == len(starts)
