"""The temporal convolution through the discrete Fourier transform, as matrix products.

A 9-tap convolution over frames costs 9 multiply-adds per input channel, output channel
and output frame. In the frequency domain it is one complex product (4 real ones) per
frequency, and a real signal of length L has about L/2 of them: about 2 real products per
frame instead of 9 (3.4x fewer multiply-adds, transforms included, for the 38-frame,
256-channel blocks of a 150-frame clip). The transforms themselves are small real
matrices (2F x T), so with frames first in memory the whole convolution is three plain
GEMMs: transform, one product per frequency, inverse. On a CPU without native bf16 the
convolutions are the time, and fp32 GEMMs run near peak there.

The transforms over a whole clip grow with its frames squared, so long clips of fewer
channels (64 channels at 150 frames) are cut into overlapping blocks instead (overlap-save:
each block of ``BLOCK_OUTPUTS + taps - 1`` frames gives ``BLOCK_OUTPUTS`` outputs), which
keeps the transforms' cost per frame constant; the same three products then run over all
blocks at once.

The result is the same function as the direct convolution to float rounding (about 2e-6
relative in fp32). It pays only where the channel products outweigh the transforms: many
channels, stride 1, enough frames (``method``); the backends decide where to use it.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: Below these the transforms cost as much as they save (measured on a 2-core AVX2 CPU).
MIN_CHANNELS = 128
MIN_FRAMES = 16
#: The transforms grow with frames squared: beyond half the direct convolution's
#: multiply-adds the measured time was no better (64 channels at 150 frames: 0.77 of the
#: multiply-adds, the same time; 128 at 75: 0.38, 0.6-0.75 of the time).
MAX_RELATIVE_COST = 0.5
#: Outputs per overlap-save block, and the fewest channels for which blocks paid: a
#: 64-channel layer of 150 frames (0.44 of the multiply-adds) took 94-96 ms forward and
#: backward against 124-146 directly, while the whole-clip transforms there (0.77) saved
#: nothing; for 128 channels at 75 frames and 256 at 38 the whole clip stayed faster
#: (141 against 154 ms, 207 against 343), so blocks are the second choice.
BLOCK_OUTPUTS = 25
MIN_BLOCKED_CHANNELS = 64
#: the temporal_conv methods: transforms over the whole clip, or over blocks of it
METHODS = ("whole", "blocked")


def padded_length(frames: int, taps: int) -> int:
    """The shortest circular length with no wrap-around into the first ``frames``
    outputs: the fewest frequency bins. (The transforms are matrices, not FFTs, so
    lengths with small prime factors buy nothing.)"""
    return frames + taps // 2


@functools.lru_cache(maxsize=32)
def transforms(
    frames: int, length: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``forward (2F, T)``: real and imaginary rows of the DFT of a zero-padded signal,
    interleaved per frequency; ``inverse (T, 2F)``: the real inverse, first T frames."""
    bins = length // 2 + 1
    t = torch.arange(frames, dtype=torch.float64)
    f = torch.arange(bins, dtype=torch.float64)
    angle = 2 * math.pi * torch.outer(f, t) / length  # (F, T)
    cos, sin = torch.cos(angle), torch.sin(angle)
    forward = torch.stack([cos, -sin], 1).reshape(2 * bins, frames)
    # a real signal's spectrum counts each bin but DC (and Nyquist) twice
    weight = torch.full((bins, 1), 2.0, dtype=torch.float64)
    weight[0] = 1.0
    if length % 2 == 0:
        weight[-1] = 1.0
    inverse = torch.stack([cos * weight, -sin * weight], 1).reshape(2 * bins, frames).t()
    inverse = inverse / length
    return (
        forward.to(dtype=dtype, device=device).contiguous(),
        inverse.to(dtype=dtype, device=device).contiguous(),
    )


@functools.lru_cache(maxsize=32)
def block_transforms(
    block: int, length: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``forward (2F, length)`` over a whole block, ``inverse (block, 2F)``: its first
    ``block`` frames, the ones the circular correlation computes without wrapping."""
    forward, inverse = transforms(length, length, dtype, device)
    return forward, inverse[:block].contiguous()


def kernel_blocks(weight: torch.Tensor, length: int, lag: int | None = None) -> torch.Tensor:
    """``(F, 2*O, 2*C)``: per frequency, the complex ``O x C`` product as a real block
    matrix ``[[Re, -Im], [Im, Re]]`` acting on stacked real and imaginary parts.

    ``weight`` is ``(O, C, K)`` and correlates (as convolutions do in PyTorch). Tap
    ``lag`` is the one at lag 0: the centre tap (the default) for a clip padded in place,
    the last for blocks whose output ``u`` reads frames ``u .. u + K - 1``. So it becomes
    the circular kernel ``h[j] = w[lag - j]``.
    """
    taps = weight.shape[-1]
    lag = taps // 2 if lag is None else lag
    kernel = F.pad(weight.flip(-1), (0, length - taps)).roll(-lag, -1)
    spectrum = torch.fft.rfft(kernel, dim=-1).permute(2, 0, 1)  # (F, O, C)
    real, imag = spectrum.real, spectrum.imag
    return torch.cat([torch.cat([real, -imag], 2), torch.cat([imag, real], 2)], 1)


class _SpectralProduct(torch.autograd.Function):
    """Frames-first ``(T, C*P)`` -> ``(T_out, O*P)``: transform, one product per
    frequency, inverse. Backward by the transposed products; the spectrum is the one
    tensor kept for it."""

    @staticmethod
    def forward(
        ctx: Any,
        signal: torch.Tensor,
        blocks: torch.Tensor,
        forward: torch.Tensor,
        inverse: torch.Tensor,
    ) -> torch.Tensor:
        bins, outputs, inputs = blocks.shape[0], blocks.shape[1] // 2, blocks.shape[2] // 2
        columns = signal.shape[1] // inputs
        spectrum = torch.mm(forward, signal).view(bins, 2 * inputs, columns)
        product = torch.bmm(blocks, spectrum).view(2 * bins, outputs * columns)
        ctx.save_for_backward(spectrum, blocks, forward, inverse)
        return torch.mm(inverse, product)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        spectrum, blocks, forward, inverse = ctx.saved_tensors
        bins, outputs, columns = blocks.shape[0], blocks.shape[1] // 2, spectrum.shape[2]
        grad_product = torch.mm(inverse.t(), grad).view(bins, 2 * outputs, columns)
        grad_signal = grad_blocks = None
        if ctx.needs_input_grad[0]:
            grad_spectrum = torch.bmm(blocks.transpose(1, 2), grad_product)
            grad_signal = torch.mm(forward.t(), grad_spectrum.view(2 * bins, -1))
        if ctx.needs_input_grad[1]:
            grad_blocks = torch.bmm(grad_product, spectrum.transpose(1, 2))
        return grad_signal, grad_blocks, None, None


def temporal_conv(x: torch.Tensor, conv: nn.Conv2d, how: str | None = None) -> torch.Tensor:
    """``conv(x)`` for a ``(K, 1)`` stride-1 'same' convolution, through the DFT: over
    the whole clip or in blocks (``how``; by default as ``method`` plans, the whole clip
    where it plans neither).

    (Stride 2 works the same way as a correlation of the even and the odd frames over
    half the frames; measured, it saved 10% on the 256-channel block and lost 7% on the
    128-channel one, so it is left to the direct convolution.)
    """
    how = how or method(x.shape[2], conv.kernel_size[0], conv.in_channels, conv.out_channels)
    if how == "blocked":
        return _blocked_conv(x, conv)
    if how not in (None, "whole"):
        raise ValueError(f"unknown method {how!r}; known: {', '.join(METHODS)}")
    n, c, frames, v = x.shape
    length = padded_length(frames, conv.kernel_size[0])
    forward, inverse = transforms(frames, length, x.dtype, x.device)
    blocks = kernel_blocks(conv.weight[..., 0], length)
    signal = x.permute(2, 1, 0, 3).reshape(frames, c * n * v)
    y = _SpectralProduct.apply(signal, blocks, forward, inverse)
    y = y.view(frames, -1, n, v).permute(2, 1, 0, 3).contiguous()
    return y if conv.bias is None else y + conv.bias.view(1, -1, 1, 1)


class _BlockFrames(torch.autograd.Function):
    """``(n, c, T, v)`` -> ``(length, c*count*n*v)``: the overlapping blocks of the
    zero-padded clip, block frames first. Backward adds each block's overlap back onto
    the frames it was read from (autograd's own ``unfold`` backward took 26 ms a layer
    there, a quarter of what the blocks save)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, block: int, length: int, before: int) -> torch.Tensor:
        frames = x.shape[2]
        count = -(-frames // block)
        padded = F.pad(x, (0, 0, before, count * block + length - block - before - frames))
        blocks = padded.unfold(2, length, block)  # (n, c, count, v, length), a view
        ctx.shape, ctx.layout = x.shape, (block, length, before, count)
        return blocks.permute(4, 1, 2, 0, 3).reshape(length, -1)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        n, c, frames, v = ctx.shape
        block, length, before, count = ctx.layout
        grad = grad.reshape(length, c, count, n, v).permute(3, 1, 2, 0, 4)  # (n, c, count, L, v)
        # one row of blocks more, so that every block's overlap lands in the next row
        padded = grad.new_zeros(n, c, count + 1, block, v)
        padded[:, :, :count] = grad[:, :, :, :block]
        padded[:, :, 1:, : length - block] += grad[:, :, :, block:]
        padded = padded.view(n, c, (count + 1) * block, v)
        return padded[:, :, before : before + frames], None, None, None


def _blocked_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Overlap-save: block ``b`` reads padded frames ``b*B .. b*B + B + K - 2`` and gives
    outputs ``b*B .. b*B + B - 1`` (``B = BLOCK_OUTPUTS``); the last block's surplus
    outputs, past the clip's end, are dropped."""
    n, _, frames, v = x.shape
    taps, block = conv.kernel_size[0], BLOCK_OUTPUTS
    length, count = block + taps - 1, -(-frames // block)
    forward, inverse = block_transforms(block, length, x.dtype, x.device)
    kernel = kernel_blocks(conv.weight[..., 0], length, lag=taps - 1)
    signal = _BlockFrames.apply(x, block, length, taps // 2)  # (length, c*count*n*v)
    y = _SpectralProduct.apply(signal, kernel, forward, inverse)  # (block, o*count*n*v)
    y = y.view(block, -1, count, n, v).permute(3, 1, 2, 0, 4).reshape(n, -1, count * block, v)
    y = y[:, :, :frames].contiguous()
    return y if conv.bias is None else y + conv.bias.view(1, -1, 1, 1)


def applies(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether the DFT path computes ``conv(x)`` exactly (to rounding) and well: a full
    precision 'same' convolution over frames alone, outside autocast (whose bf16 or fp16
    spectra would round far more than the direct convolution does)."""
    taps, width = conv.kernel_size
    return (
        width == 1
        and taps % 2 == 1
        and conv.stride == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding == (taps // 2, 0)
        and conv.padding_mode == "zeros"
        and x.dim() == 4
        and x.dtype in (torch.float32, torch.float64)
        and x.dtype == conv.weight.dtype
        and not torch.is_autocast_enabled(x.device.type)
    )


def relative_cost(frames: int, taps: int, inputs: int, outputs: int) -> float:
    """Multiply-adds of the DFT path over those of the direct convolution (forward)."""
    length = padded_length(frames, taps)
    bins = length // 2 + 1
    transformed = 2 * bins * frames * (inputs + outputs)  # forward and inverse
    products = bins * 2 * outputs * 2 * inputs
    return (transformed + products) / (taps * frames * inputs * outputs)


def blocked_relative_cost(frames: int, taps: int, inputs: int, outputs: int) -> float:
    """Multiply-adds of the blocked DFT path over those of the direct convolution
    (forward), the last block's surplus outputs counted as work."""
    block = BLOCK_OUTPUTS
    length, count = block + taps - 1, -(-frames // block)
    bins = length // 2 + 1
    per_block = 2 * bins * (length * inputs + block * outputs) + bins * 2 * outputs * 2 * inputs
    return count * per_block / (taps * frames * inputs * outputs)


def method(frames: int, taps: int, inputs: int, outputs: int) -> str | None:
    """How the DFT path is faster than the direct convolution for this layer, or None
    where it is not: the whole clip for wide layers (``MIN_CHANNELS``), blocks for
    long clips of 64 channels or more, each while it costs at most ``MAX_RELATIVE_COST``
    of the direct multiply-adds."""
    channels = min(inputs, outputs)
    if (
        channels >= MIN_CHANNELS
        and frames >= MIN_FRAMES
        and relative_cost(frames, taps, inputs, outputs) <= MAX_RELATIVE_COST
    ):
        return "whole"
    if (
        channels >= MIN_BLOCKED_CHANNELS
        and blocked_relative_cost(frames, taps, inputs, outputs) <= MAX_RELATIVE_COST
    ):
        return "blocked"
    return None


def pays_off(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether it is faster than the direct convolution here (``method``)."""
    taps = conv.kernel_size[0]
    return method(x.shape[2], taps, conv.in_channels, conv.out_channels) is not None
