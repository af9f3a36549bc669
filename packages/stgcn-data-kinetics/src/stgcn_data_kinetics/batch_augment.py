"""``random_choose`` and ``random_move`` on a whole collated batch ``(N, C, T, V, M)``.

For converted arrays, whose clips all have the same length (300 frames, at least the
window): a clip shorter than the window is padded at frame 0 by the per-clip path
once random_choose is off there, so its random padding offset is not drawn here.

Per clip in numpy (:mod:`stgcn_data_kinetics.augment`) the two cost a few Python
calls and array copies per sample in the loader; at an accelerator's training rate
that is what a data pipeline runs out of first. Here every draw for the batch is made
at once and the arithmetic runs as a few tensor operations on whatever device the
batch is on. The semantics are the per-clip ones (REFERENCE §3): same candidates,
same window rule, same linear interpolation, so that for the same draws the result
equals the per-clip functions; the tests check exactly that.

Draws come from a CPU ``torch.Generator`` seeded from torch's global generator, so a
run seeded with ``--seed`` (and a resume, which restores that generator) draws the same
windows and moves again, on every device alike. On an accelerator the draws then travel
as one pinned, non-blocking copy each (:func:`to_device`): a blocking copy from ordinary
host memory first waits for everything queued on the device (torch_npu's
``copy_between_host_and_device`` synchronises the stream; CUDA's pageable copies do
too), which would stall every step behind the previous one's backward pass.

The arithmetic is float64 on the CPU, as the per-clip functions compute, and float32 on
accelerators: an NPU has no float64 (torch_npu turns ``.double()`` into float32 with a
warning) and a GPU runs it slowly. The float32 result stays within 1e-6 of the float64
one for skeleton coordinates (the tests check it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from stgcn.errors import StgcnError
from stgcn.records import AugmentRequest
from stgcn_data_kinetics.augment import ANGLES_DEGREES, SCALES, SHIFTS
from stgcn_data_kinetics.options import parse_options

#: Data options that hand both augmentations from the per-clip path to this module.
PER_CLIP_OFF: Mapping[str, Any] = {"random_choose": False, "random_move": False}


def batch_generator() -> torch.Generator:
    """A CPU generator seeded from torch's global one (so ``--seed`` reproduces it)."""
    return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,)).item()))


def compute_dtype(device: torch.device) -> torch.dtype:
    """float64 on the CPU (the per-clip arithmetic), float32 on an accelerator."""
    return torch.float64 if device.type == "cpu" else torch.float32


def to_device(values: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host draws on ``device`` without waiting for it: copied from pinned memory with
    ``non_blocking=True``, which queues the copy behind the device's work instead of
    synchronising with it first. The pinned block stays the host allocator's until the
    copy is done (torch's and torch_npu's caching host allocators record the copy's
    stream), so it is safe to let go of here."""
    if device.type == "cpu":
        return values
    return values.pin_memory().to(device, non_blocking=True)


def draw_offsets(count: int, frames: int, window: int, generator: torch.Generator) -> torch.Tensor:
    """Per clip: the window's first frame (longer clips) or the padding offset (shorter)."""
    span = abs(frames - window)
    return torch.randint(0, span + 1, (count,), generator=generator)


def choose_windows(data: torch.Tensor, window: int, offsets: torch.Tensor) -> torch.Tensor:
    """``window`` frames of each clip from its offset; a shorter clip zero-padded at it."""
    count, channels, frames, joints, persons = data.shape
    if frames == window:
        return data
    positions = torch.arange(window, device=data.device)[None, :]
    offsets = to_device(offsets, data.device)[:, None]
    source = positions + offsets if frames > window else positions - offsets
    valid = (source >= 0) & (source < frames)
    index = source.clamp(0, frames - 1)[:, None, :, None, None]
    index = index.expand(count, channels, window, joints, persons)
    chosen = data.gather(2, index)
    if frames > window:
        return chosen
    return chosen * valid[:, None, :, None, None].to(chosen.dtype)


def random_choose(
    data: torch.Tensor, window: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Batched ``augment.random_choose``: an independent window (or padding) per clip."""
    generator = generator or batch_generator()
    offsets = draw_offsets(data.shape[0], data.shape[2], window, generator)
    return choose_windows(data, window, offsets)


@dataclass(frozen=True)
class Moves:
    """The draws of ``random_move`` for a batch: each ``(N, 2)`` (clip start, clip end),
    shifts ``(N, 2, 2)`` (end, axis)."""

    angles_degrees: torch.Tensor
    scales: torch.Tensor
    shifts: torch.Tensor


def _pick(
    candidates: tuple[float, ...], size: tuple[int, ...], generator: torch.Generator | None
) -> torch.Tensor:
    """Candidates drawn uniformly, on the host, in float64."""
    table = torch.tensor(candidates, dtype=torch.float64)
    return table[torch.randint(0, len(candidates), size, generator=generator)]


def draw_moves(count: int, generator: torch.Generator) -> Moves:
    """Every clip's move, drawn on the host in float64 (so that the CPU path is exact)."""
    return Moves(
        _pick(ANGLES_DEGREES, (count, 2), generator),
        _pick(SCALES, (count, 2), generator),
        _pick(SHIFTS, (count, 2, 2), generator),
    )


def _linspace(ends: torch.Tensor, frames: int) -> torch.Tensor:
    """Row-wise ``numpy.linspace(start, stop, frames)``, the same float64 arithmetic:
    start + i * step, the last value exactly ``stop``."""
    start, stop = ends[:, :1], ends[:, 1:]
    if frames == 1:
        return start.clone()
    step = (stop - start) / (frames - 1)
    values = start + torch.arange(frames, dtype=ends.dtype, device=ends.device) * step
    values[:, -1] = stop[:, 0]
    return values


def apply_moves(data: torch.Tensor, moves: Moves, dtype: torch.dtype | None = None) -> torch.Tensor:
    """x and y of every joint rotated, scaled and shifted, per frame, in ``dtype``
    (:func:`compute_dtype` of the batch's device unless given). The draws are packed
    into one ``(N, 8)`` host tensor of that dtype, converted on the host, so that they
    reach the device in one non-blocking copy and no float64 tensor exists there."""
    frames, count = data.shape[2], data.shape[0]
    dtype = dtype or compute_dtype(data.device)
    packed = torch.cat(
        [moves.angles_degrees, moves.scales, moves.shifts.reshape(count, 4)], dim=1
    ).to(dtype)
    packed = to_device(packed, data.device)
    shifts = packed[:, 4:].reshape(count, 2, 2)
    angle = torch.deg2rad(_linspace(packed[:, 0:2], frames))
    scale = _linspace(packed[:, 2:4], frames)
    shift_x = _linspace(shifts[:, :, 0], frames)[:, :, None, None]
    shift_y = _linspace(shifts[:, :, 1], frames)[:, :, None, None]
    cos = (torch.cos(angle) * scale)[:, :, None, None]
    sin = (torch.sin(angle) * scale)[:, :, None, None]
    x, y = data[:, 0].to(dtype), data[:, 1].to(dtype)
    moved = data.clone()
    moved[:, 0] = cos * x - sin * y + shift_x
    moved[:, 1] = sin * x + cos * y + shift_y
    return moved


def random_move(data: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Batched ``augment.random_move``: one independent move per clip."""
    generator = generator or batch_generator()
    return apply_moves(data, draw_moves(data.shape[0], generator))


def augment_batch(request: AugmentRequest) -> torch.Tensor:
    """The training augmentation of the request's options on a batch built with
    :data:`PER_CLIP_OFF`: window (or padding), then move, as the per-clip path orders them."""
    data = request.batch
    settings, _ = parse_options(request.options)
    if settings.random_shift:
        raise StgcnError("kinetics: random_shift has no batched form; keep it per clip")
    generator = batch_generator()
    if settings.random_choose:
        data = random_choose(data, settings.window, generator)
    elif data.shape[2] < settings.window:
        at_start = torch.zeros(data.shape[0], dtype=torch.long, device=data.device)
        data = choose_windows(data, settings.window, at_start)
    if settings.random_move:
        data = random_move(data, generator)
    return data
