"""The public helpers of dataset plugins: ``stgcn.data.check_data_path``, ``WorkerHandle``
and ``fit_clip``."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from stgcn.data import WorkerHandle, check_data_path, fit_clip
from stgcn.data.sampling import take_frames, uniform_indices, window_indices
from stgcn.errors import StgcnError


def test_a_path_of_the_right_kind_is_returned(tmp_path: Path) -> None:
    (tmp_path / "clips.h5").write_bytes(b"x")
    assert check_data_path(str(tmp_path), "mine", expect="folder") == tmp_path
    assert check_data_path(tmp_path / "clips.h5", "mine", expect="file") == tmp_path / "clips.h5"
    assert check_data_path(tmp_path / "clips.h5", "mine") == tmp_path / "clips.h5"


@pytest.mark.parametrize(
    ("given", "expect", "message"),
    [
        (None, "either", "dataset 'mine' needs --data-path FILE.h5"),
        ("", "folder", "dataset 'mine' needs --data-path FILE.h5"),
        ("missing", "either", "{tmp}/missing not found"),
        ("clips.h5", "folder", "{tmp}/clips.h5 is a file; dataset 'mine' reads a folder"),
        (".", "file", "{tmp} is a folder; dataset 'mine' reads a file"),
    ],
)
def test_bad_paths_are_one_line_each(tmp_path: Path, given, expect, message) -> None:
    (tmp_path / "clips.h5").write_bytes(b"x")
    path = None if given is None else ("" if given == "" else tmp_path / given)
    with pytest.raises(StgcnError) as raised:
        check_data_path(path, "mine", expect=expect, usage=" FILE.h5")
    assert str(raised.value) == message.format(tmp=tmp_path).replace(f"{tmp_path}/.", str(tmp_path))


class Opened(io.StringIO):
    """A handle that counts how often it was opened, in this process."""

    count = 0

    def __init__(self, text: str) -> None:
        super().__init__(text)
        Opened.count += 1


def test_the_handle_opens_once_per_process_and_pickles_without_it() -> None:
    Opened.count = 0
    handle = WorkerHandle(Opened, "clips")
    assert not handle.is_open and Opened.count == 0, "nothing opened before first use"
    first = handle.get()
    assert handle.get() is first and Opened.count == 1
    copy = pickle.loads(pickle.dumps(handle))
    assert not copy.is_open, "the pickle holds the way to open, not the handle"
    assert copy.get().read() == "clips" and Opened.count == 2
    handle.close()
    assert first.closed and not handle.is_open


def test_a_forked_copy_opens_its_own_and_leaves_the_parents_open() -> None:
    handle = WorkerHandle(Opened, "clips")
    parent = handle.get()
    handle._pid = os.getpid() + 1  # what a forked worker sees: another process's handle
    assert not handle.is_open
    handle.close()
    assert not parent.closed, "the parent's handle is not closed from a child"
    assert handle.get() is not parent


def test_fit_clip_is_the_samplers_applied() -> None:
    clip = np.random.default_rng(0).standard_normal((3, 7, 5, 2)).astype(np.float32)
    uniform = fit_clip(clip, 10, train=False, num_clips=2)
    assert uniform.shape == (2, 3, 10, 5, 2) and uniform.dtype == np.float32
    expected = take_frames(clip, uniform_indices(7, 10, 2, test=True))
    np.testing.assert_array_equal(uniform, expected)
    window = fit_clip(clip, 10, train=False, sampling="window")
    np.testing.assert_array_equal(window, take_frames(clip, window_indices(7, 10, test=True)))
    assert np.all(window[0, :, 7:] == 0), "a short clip is zero-padded at the end"
    rng = np.random.RandomState(3)
    trained = fit_clip(clip, 4, train=True, rng=rng)
    assert trained.shape == (1, 3, 4, 5, 2)
    with pytest.raises(ValueError, match="sampling 'every'"):
        fit_clip(clip, 4, train=True, sampling="every")
