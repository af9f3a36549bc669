"""Frame sampling: PYSKL's uniform sampling in its three regimes, and the reference window."""

from __future__ import annotations

import numpy as np
import pytest

from stgcn.data.sampling import uniform_indices, window_indices


def test_long_clips_take_one_frame_from_each_equal_segment() -> None:
    total, clip_len = 250, 100
    bounds = np.array([i * total // clip_len for i in range(clip_len + 1)])
    for seed in range(5):
        (indices,) = uniform_indices(total, clip_len, test=False, rng=np.random.RandomState(seed))
        assert ((indices >= bounds[:-1]) & (indices < bounds[1:])).all()


def test_clips_of_up_to_twice_the_length_skip_the_surplus_at_random() -> None:
    total, clip_len = 130, 100
    draws = [
        uniform_indices(total, clip_len, test=False, rng=np.random.RandomState(seed))[0]
        for seed in range(3)
    ]
    for indices in draws:
        assert len(indices) == clip_len and indices.max() < total
        assert set(np.diff(indices)) <= {1, 2}  # each frame at most once, none far apart
    assert not np.array_equal(draws[0], draws[1])


def test_short_clips_loop_from_their_start() -> None:
    (indices,) = uniform_indices(30, 100, test=False, rng=np.random.RandomState(0))
    start = indices[0]
    assert indices.tolist() == [(start + i) % 30 for i in range(100)]


def test_test_clips_are_fixed_and_spread_over_a_short_clip() -> None:
    first = uniform_indices(40, 100, 10, test=True)
    assert first.shape == (10, 100)
    np.testing.assert_array_equal(first, uniform_indices(40, 100, 10, test=True))
    assert [row[0] for row in first] == [k * 40 // 10 for k in range(10)]


def test_test_clips_do_not_touch_the_global_generator() -> None:
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    uniform_indices(300, 100, 10, test=True)
    assert np.random.rand() == expected


def test_training_clips_differ_between_draws() -> None:
    np.random.seed(0)
    a = uniform_indices(300, 100, test=False)
    b = uniform_indices(300, 100, test=False)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("total", [5, 20, 45])
def test_window_pads_short_clips_and_crops_long_ones(total: int) -> None:
    window = 20
    (train,) = window_indices(total, window, test=False, rng=np.random.RandomState(1))
    (val,) = window_indices(total, window, test=True)
    if total < window:
        assert (val[:total] == np.arange(total)).all() and (val[total:] == -1).all()
        kept = train[train >= 0]
        assert kept.tolist() == list(range(total))
    else:
        assert val.tolist() == list(range(window))
        assert (np.diff(train) == 1).all() and 0 <= train[0] <= total - window


def test_used_frames_is_the_length_before_the_zero_padding() -> None:
    from stgcn.data.sampling import used_frames

    clip = np.zeros((3, 300, 25, 2), np.float32)
    clip[:, :57] = 1.0
    clip[0, 10] = 0.0  # a still frame inside the clip does not end it
    assert used_frames(clip) == 57
    assert used_frames(np.zeros((3, 300, 25, 2))) == 1


def test_take_frames_stacks_clips_and_zeroes_padding() -> None:
    from stgcn.data.sampling import take_frames

    clip = np.arange(2 * 5 * 3 * 1, dtype=np.float64).reshape(2, 5, 3, 1)
    taken = take_frames(clip, np.array([[4, 0, -1], [1, 2, 3]]))
    assert taken.shape == (2, 2, 3, 3, 1) and taken.dtype == np.float32
    np.testing.assert_array_equal(taken[0, :, 0], clip[:, 4])
    np.testing.assert_array_equal(taken[0, :, 1], clip[:, 0])
    assert (taken[0, :, 2] == 0).all()
    np.testing.assert_array_equal(taken[1], clip[:, 1:4])
