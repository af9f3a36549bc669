"""The reference recipe's augmentations: windows, padding, shifts and the random move."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from stgcn_data_kinetics import augment


def clip(frames: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.5, 0.5, size=(3, frames, 18, 2)).astype(np.float32)


def test_random_choose_crops_a_window_anywhere_in_the_clip() -> None:
    data = clip(12)
    starts = set()
    for seed in range(60):
        window = augment.random_choose(data, 5, np.random.default_rng(seed))
        assert window.shape == (3, 5, 18, 2)
        matches = [b for b in range(8) if np.array_equal(window, data[:, b : b + 5])]
        assert len(matches) == 1
        starts.add(matches[0])
    assert starts == set(range(8)), "every start from 0 to T - window is drawn"


def test_random_choose_pads_a_short_clip_at_a_random_offset() -> None:
    data = clip(4)
    offsets = set()
    for seed in range(60):
        padded = augment.random_choose(data, 7, np.random.default_rng(seed))
        assert padded.shape == (3, 7, 18, 2)
        nonzero = np.flatnonzero(padded.any(axis=(0, 2, 3)))
        offset = int(nonzero[0])
        np.testing.assert_array_equal(padded[:, offset : offset + 4], data)
        assert len(nonzero) == 4
        offsets.add(offset)
    assert offsets == {0, 1, 2, 3}


def test_random_choose_keeps_a_clip_of_the_window_length() -> None:
    data = clip(6)
    assert augment.random_choose(data, 6, np.random.default_rng(0)) is data


def test_pad_to_places_the_clip_at_the_offset_and_never_crops() -> None:
    data = clip(3)
    padded = augment.pad_to(data, 5, offset=1)
    assert not padded[:, 0].any() and not padded[:, 4].any()
    np.testing.assert_array_equal(padded[:, 1:4], data)
    assert augment.pad_to(data, 2) is data


def test_random_shift_moves_the_valid_span() -> None:
    data = np.zeros((3, 10, 18, 2), np.float32)
    data[:, 2:5] = clip(3)
    offsets = set()
    for seed in range(60):
        shifted = augment.random_shift(data, np.random.default_rng(seed))
        nonzero = np.flatnonzero(shifted.any(axis=(0, 2, 3)))
        offsets.add(int(nonzero[0]))
        np.testing.assert_array_equal(shifted[:, nonzero[0] : nonzero[0] + 3], data[:, 2:5])
        assert len(nonzero) == 3
    assert offsets == set(range(8))
    empty = np.zeros((3, 10, 18, 2), np.float32)
    assert not augment.random_shift(empty, np.random.default_rng(0)).any()


def _end_parameters(source: np.ndarray, moved: np.ndarray) -> tuple[float, float, float, float]:
    """The (angle, scale, shift x, shift y) among the candidates that maps ``source`` (2, V, M)
    onto ``moved``; fails unless exactly one does."""
    found = []
    for angle, scale, shift_x, shift_y in itertools.product(
        augment.ANGLES_DEGREES, augment.SCALES, augment.SHIFTS, augment.SHIFTS
    ):
        a = np.deg2rad(angle)
        x = scale * (np.cos(a) * source[0] - np.sin(a) * source[1]) + shift_x
        y = scale * (np.sin(a) * source[0] + np.cos(a) * source[1]) + shift_y
        if np.allclose(x, moved[0], atol=1e-5) and np.allclose(y, moved[1], atol=1e-5):
            found.append((angle, scale, shift_x, shift_y))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_move_interpolates_one_candidate_affine_per_end(seed: int) -> None:
    data = clip(9, seed)
    moved = augment.random_move(data, np.random.default_rng(seed))
    assert moved.shape == data.shape and moved.dtype == np.float32
    np.testing.assert_array_equal(moved[2], data[2])  # scores are not moved
    first = np.array(_end_parameters(data[0:2, 0], moved[0:2, 0]))
    last = np.array(_end_parameters(data[0:2, -1], moved[0:2, -1]))
    for t in range(9):
        angle, scale, shift_x, shift_y = first + (last - first) * t / 8
        a = np.deg2rad(angle)
        x = scale * (np.cos(a) * data[0, t] - np.sin(a) * data[1, t]) + shift_x
        y = scale * (np.sin(a) * data[0, t] + np.cos(a) * data[1, t]) + shift_y
        np.testing.assert_allclose(moved[0, t], x, atol=1e-5)
        np.testing.assert_allclose(moved[1, t], y, atol=1e-5)


def test_random_move_draws_differ_between_generators() -> None:
    data = clip(9)
    draws = {augment.random_move(data, np.random.default_rng(s)).tobytes() for s in range(10)}
    assert len(draws) > 5
