"""The temporal convolution through the DFT (stgcn.model.spectral) against the direct one.

The direct convolution (``F.conv2d``) is the oracle: in float64 the two agree to
rounding, so any mistake in the transforms, the kernel's spectrum or the hand-written
backward shows up as an O(1) difference.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stgcn.model import spectral
from stgcn.model.network import STGCN, TemporalConv, set_temporal_algorithm


def conv_and_input(
    channels: int, outputs: int, frames: int, taps: int = 9, seed: int = 0
) -> tuple[TemporalConv, torch.Tensor]:
    torch.manual_seed(seed)
    conv = TemporalConv(channels, outputs, (taps, 1), (1, 1), (taps // 2, 0)).double()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    x = torch.randn(2, channels, frames, 3, dtype=torch.float64, requires_grad=True)
    return conv, x


def gradients(conv: TemporalConv, x: torch.Tensor, y: torch.Tensor, grad: torch.Tensor):
    return torch.autograd.grad(y, (x, conv.weight, conv.bias), grad)


@pytest.mark.parametrize("how", spectral.METHODS)
@pytest.mark.parametrize("frames", [1, 2, 9, 16, 25, 37, 50, 51])
@pytest.mark.parametrize("taps", [9, 3, 1])
def test_the_dft_path_is_the_direct_convolution_and_its_gradients(
    frames: int, taps: int, how: str
) -> None:
    """Blocks of 25 outputs: one block, a block and a part, exactly two, two and one frame."""
    conv, x = conv_and_input(5, 7, frames, taps)
    direct = F.conv2d(x, conv.weight, conv.bias, padding=(taps // 2, 0))
    through_dft = spectral.temporal_conv(x, conv, how)
    assert through_dft.shape == direct.shape
    torch.testing.assert_close(through_dft, direct, rtol=1e-10, atol=1e-10)
    grad = torch.randn_like(direct)
    for got, want in zip(
        gradients(conv, x, through_dft, grad), gradients(conv, x, direct, grad), strict=True
    ):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("how", spectral.METHODS)
def test_in_float32_it_agrees_to_float_rounding(how: str) -> None:
    conv, x = conv_and_input(32, 32, 38)
    conv.float()
    x = x.detach().float()
    with torch.no_grad():
        direct = F.conv2d(x, conv.weight, conv.bias, padding=(4, 0))
        got = spectral.temporal_conv(x, conv, how)
    scale = float(direct.abs().max())
    torch.testing.assert_close(got, direct, rtol=0, atol=1e-5 * scale)


def test_an_unknown_method_is_refused() -> None:
    conv, x = conv_and_input(2, 2, 4)
    with pytest.raises(ValueError, match="unknown method 'fft'; known: whole, blocked"):
        spectral.temporal_conv(x, conv, "fft")


@pytest.mark.parametrize("how", spectral.METHODS)
def test_eval_under_inference_mode(how: str) -> None:
    conv, x = conv_and_input(4, 4, 30)
    with torch.inference_mode():
        got = spectral.temporal_conv(x, conv, how)
        want = conv(x)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def counting(monkeypatch: pytest.MonkeyPatch, methods: list[str] | None = None) -> list[int]:
    """The frames of every layer that takes the DFT path; with ``methods``, also how."""
    calls: list[int] = []
    original, blocked = spectral.temporal_conv, spectral._blocked_conv

    def counted(x: torch.Tensor, conv: TemporalConv, how: str | None = None) -> torch.Tensor:
        calls.append(x.shape[2])
        if methods is not None:
            methods.append("whole")
        return original(x, conv, how)

    def counted_blocks(x: torch.Tensor, conv: TemporalConv) -> torch.Tensor:
        if methods is not None:
            methods[-1] = "blocked"
        return blocked(x, conv)

    monkeypatch.setattr(spectral, "temporal_conv", counted)
    monkeypatch.setattr(spectral, "_blocked_conv", counted_blocks)
    return calls


def test_temporal_conv_takes_the_dft_path_only_where_asked_exact_and_faster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counting(monkeypatch)
    wide = spectral.MIN_CHANNELS
    conv = TemporalConv(wide, wide, (9, 1), (1, 1), (4, 0))
    x = torch.randn(1, wide, spectral.MIN_FRAMES, 2)
    conv(x)
    assert calls == []  # algorithm "direct" is the default
    conv.algorithm = "dft"
    want = F.conv2d(x, conv.weight, conv.bias, padding=(4, 0))
    torch.testing.assert_close(conv(x), want, rtol=1e-4, atol=1e-5)
    assert calls == [spectral.MIN_FRAMES]
    conv(x[:, :, 1:])  # too few frames to pay
    with torch.autocast("cpu", dtype=torch.bfloat16):
        conv(x)  # bf16 spectra would round far more than the direct convolution
    strided = TemporalConv(wide, wide, (9, 1), (2, 1), (4, 0))
    strided.algorithm = "dft"
    strided(x)
    narrow = TemporalConv(wide // 2, wide // 2, (9, 1), (1, 1), (4, 0))
    narrow.algorithm = "dft"
    narrow(x[:, : wide // 2])
    assert calls == [spectral.MIN_FRAMES]


@pytest.mark.parametrize(
    ("frames", "switched"),
    [
        (64, [(32, "whole")] * 2 + [(16, "whole")] * 2),
        (100, [(100, "blocked")] * 4 + [(50, "whole")] * 2 + [(25, "whole")] * 2),
    ],
)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_network_through_the_dft_is_the_same_function(
    mode: str, frames: int, switched: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """64 frames: blocks 5-6 run at 32 frames and 8-9 at 16, so four layers switch; 100
    frames: blocks 0-3 (64 channels) too, in blocks."""
    methods: list[str] = []
    calls = counting(monkeypatch, methods)
    torch.manual_seed(1)
    direct, through_dft = STGCN(5).double(), STGCN(5).double()
    through_dft.load_state_dict(direct.state_dict())
    assert set_temporal_algorithm(through_dft, "dft") == len(through_dft.st_gcn_networks)
    assert through_dft.state_dict().keys() == direct.state_dict().keys()
    x = torch.randn(2, 3, frames, 18, 2, dtype=torch.float64)
    target = torch.tensor([1, 3])
    logits = []
    for model in (direct, through_dft):
        getattr(model, mode)()
        out = model(x)
        F.cross_entropy(out, target).backward()
        logits.append(out)
    assert list(zip(calls, methods, strict=True)) == switched
    torch.testing.assert_close(logits[1], logits[0], rtol=1e-9, atol=1e-11)
    params = dict(through_dft.named_parameters())
    for name, param in direct.named_parameters():
        if mode == "train" and name.endswith((".tcn.2.bias", ".residual.0.bias")):
            continue  # BatchNorm follows: their gradient is zero, up to rounding noise
        scale = float(param.grad.abs().max())
        torch.testing.assert_close(
            params[name].grad, param.grad, rtol=1e-7, atol=1e-9 * scale, msg=name
        )


@pytest.mark.parametrize(
    ("frames", "channels", "cost"),
    [(38, 256, 0.296), (75, 128, 0.376), (150, 64, 0.773), (150, 128, 0.502)],
)
def test_relative_cost_counts_the_multiply_adds(frames: int, channels: int, cost: float) -> None:
    """By hand for 128 channels at 75 frames: length 75 + 4, 40 bins; the transforms
    2*40*75*(128+128), the products 40*256*256, against 9*75*128*128 directly."""
    assert spectral.relative_cost(frames, 9, channels, channels) == pytest.approx(cost, abs=1e-3)


@pytest.mark.parametrize(
    ("frames", "channels", "cost"),
    [(150, 64, 0.439), (100, 64, 0.439), (38, 64, 0.578), (150, 128, 0.371)],
)
def test_blocked_relative_cost_counts_the_multiply_adds(
    frames: int, channels: int, cost: float
) -> None:
    """By hand for 64 channels at 150 frames: six blocks of 33 frames, 17 bins each;
    per block the transforms 2*17*(33*64 + 25*64), the products 17*128*128, against
    9*150*64*64 directly. At 38 frames the second block is half surplus."""
    assert spectral.blocked_relative_cost(frames, 9, channels, channels) == pytest.approx(
        cost, abs=1e-3
    )


@pytest.mark.parametrize(
    ("frames", "channels", "how"),
    [
        (150, 64, "blocked"),
        (75, 64, "blocked"),
        (64, 64, None),
        (38, 64, None),
        (150, 32, None),
        (150, 128, "blocked"),
        (75, 128, "whole"),
        (38, 256, "whole"),
        (8, 256, None),
    ],
)
def test_the_method_is_the_cheaper_one_where_it_measured_faster(
    frames: int, channels: int, how: str | None
) -> None:
    assert spectral.method(frames, 9, channels, channels) == how


def test_long_clips_go_in_blocks_where_the_whole_clip_transforms_outgrow_the_saving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    methods: list[str] = []
    calls = counting(monkeypatch, methods)
    conv = TemporalConv(128, 128, (9, 1), (1, 1), (4, 0))
    conv.algorithm = "dft"
    conv(torch.randn(1, 128, 150, 1))  # whole clip: 0.502 of the direct multiply-adds
    conv(torch.randn(1, 128, 75, 1))
    assert calls == [150, 75] and methods == ["blocked", "whole"]


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown temporal algorithm 'fast'; known: direct, dft"):
        set_temporal_algorithm(STGCN(3), "fast")
