"""Which frames of a clip a sample takes: helpers for any dataset plugin.

A split's clips must share one length (the DataLoader stacks them), and skeleton clips
come in every length. These give the frame indices of the two usual ways to get there;
a plugin applies them to its clips (``clip[:, indices]``), and for validation may
return several clips per sample (a clip axis, which the evaluation averages).

Uniform sampling follows PYSKL's ``UniformSampleFrames`` (with its default
``p_interval=1``): ``clip_len`` frames from a clip of ``total`` frames,

- shorter clips (``total < clip_len``): ``clip_len`` consecutive frames from a start
  (random for training; clip ``i`` of ``n`` starts at ``i`` or ``i * total // n`` for
  testing), looping back to the first frame past the last;
- clips of up to twice the length: consecutive frames, skipping one at
  ``total - clip_len`` random places;
- longer clips: the clip cut into ``clip_len`` equal segments, one random frame each.

Testing draws from its own generator seeded with 255 for every sample, as PYSKL does,
so a sample's test clips never change. Window sampling is the reference ST-GCN's: a
random window for training, zero-padded at a random place where the clip is shorter;
the first frames for validation, zero-padded at the end. Index -1 marks a padded frame.
"""

from __future__ import annotations

import numpy as np

#: PYSKL's fixed test-time seed
TEST_SEED = 255


def _uniform_once(
    total: int, clip_len: int, rng: np.random.RandomState, start: int | None
) -> np.ndarray:
    # PYSKL draws the interval ratio and its offset even at p_interval=1; drawing them
    # here too keeps the generator's later draws where PYSKL's are
    rng.rand()
    rng.randint(1)
    if total < clip_len:
        first = rng.randint(0, total) if start is None else start
        return np.arange(first, first + clip_len)
    if total < 2 * clip_len:
        doubled = rng.choice(clip_len + 1, total - clip_len, replace=False)
        offset = np.zeros(clip_len + 1, dtype=np.int64)
        offset[doubled] = 1
        return np.arange(clip_len) + np.cumsum(offset)[:-1]
    bounds = np.array([i * total // clip_len for i in range(clip_len + 1)])
    return bounds[:clip_len] + rng.randint(np.diff(bounds))


def uniform_indices(
    total: int,
    clip_len: int,
    num_clips: int = 1,
    *,
    test: bool,
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """``(num_clips, clip_len)`` frame indices into a clip of ``total`` frames.

    Training draws from ``rng`` (numpy's global generator by default, which the trainer
    seeds for every training sample from (seed, epoch, index)); testing from a generator
    seeded with 255 at every call.
    """
    if test:
        rng = np.random.RandomState(TEST_SEED)
    elif rng is None:
        rng = np.random.mtrand._rand
    clips = []
    for clip in range(num_clips):
        start = None
        if test and total < clip_len:
            start = clip if total < num_clips else clip * total // num_clips
        clips.append(_uniform_once(total, clip_len, rng, start))
    return np.mod(np.stack(clips), total)


def window_indices(
    total: int,
    window: int,
    num_clips: int = 1,
    *,
    test: bool,
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """``(num_clips, window)`` frame indices, -1 where a frame is padding."""
    rng = rng if rng is not None else np.random.mtrand._rand
    clips = []
    for clip in range(num_clips):
        indices = np.full(window, -1, dtype=np.int64)
        if total >= window:
            if test:  # evenly spread starts: the first clip takes the first frames
                start = (total - window) * clip // max(num_clips - 1, 1)
            else:
                start = rng.randint(0, total - window + 1)
            indices[:] = np.arange(start, start + window)
        else:
            begin = 0 if test else rng.randint(0, window - total + 1)
            indices[begin : begin + total] = np.arange(total)
        clips.append(indices)
    return np.stack(clips)


def used_frames(clip: np.ndarray) -> int:
    """The frames of a zero-padded ``(C, T, V, M)`` clip up to its last non-zero one (at
    least 1): the length to sample from in data stored padded to a fixed length."""
    moving = np.flatnonzero(np.abs(clip).reshape(clip.shape[0], clip.shape[1], -1).max(axis=(0, 2)))
    return int(moving[-1]) + 1 if len(moving) else 1


def take_frames(clip: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``clip`` ``(C, T, V, M)`` at ``indices`` ``(K, L)``: float32 ``(K, C, L, V, M)``,
    zeros where an index is -1 (padding)."""
    taken = np.moveaxis(clip[:, np.clip(indices, 0, None)], 1, 0).astype(np.float32)
    padded = indices < 0
    if padded.any():
        taken[np.broadcast_to(padded[:, None, :, None, None], taken.shape)] = 0
    return taken


def fit_clip(
    clip: np.ndarray,
    frames: int,
    *,
    train: bool,
    sampling: str = "uniform",
    num_clips: int = 1,
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """A clip ``(C, T, V, M)`` of any length made ``frames`` long: float32
    ``(num_clips, C, frames, V, M)``.

    ``sampling="uniform"`` takes frames spread over the whole clip
    (:func:`uniform_indices`, looping a shorter clip); ``"window"`` a run of consecutive
    frames (:func:`window_indices`, zero-padding a shorter clip). Training draws at
    random (from ``rng``, else numpy's generator the trainer seeds); validation
    (``train=False``) is the same every time. The glue between a reader giving clips
    of their own lengths and a DataLoader stacking samples of one shape.
    """
    total = clip.shape[1]
    if sampling == "uniform":
        indices = uniform_indices(total, frames, num_clips, test=not train, rng=rng)
    elif sampling == "window":
        indices = window_indices(total, frames, num_clips, test=not train, rng=rng)
    else:
        raise ValueError(f"sampling {sampling!r}: expected 'uniform' or 'window'")
    return take_frames(clip, indices)
