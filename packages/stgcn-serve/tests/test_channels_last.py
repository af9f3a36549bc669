"""``stgcn serve`` stores a checkpoint's network channels-last (faster for batches of
clips) only where the network computes the same logits so; a network whose reshapes
need the contiguous layout is put back as it was and still answers."""

from __future__ import annotations

import numpy as np
import torch
from stgcn_export.engines import TorchEngine

from stgcn import STGCN


class FlattensItsFeatures(STGCN):
    """An ST-GCN whose head views its features flat first: a view that the
    channels-last layout does not allow (channels are not the slowest axis there)."""

    def head(self, features: torch.Tensor, persons: int) -> torch.Tensor:
        flat = features.view(features.shape[0], -1)
        return super().head(flat.view(features.shape), persons)


def probe_clip(frames: int = 16) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((3, frames, 18, 2), dtype=np.float32)


def conv_weights_channels_last(network: torch.nn.Module) -> list[bool]:
    """Whether each (9, 1) temporal convolution's weight is stored channels-last (a 1x1
    kernel's storage is both layouts at once)."""
    return [
        module.weight.is_contiguous(memory_format=torch.channels_last)
        and not module.weight.is_contiguous()
        for module in network.modules()
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (9, 1)
    ]


def test_the_layout_is_kept_where_the_logits_stay() -> None:
    torch.manual_seed(0)
    engine = TorchEngine(STGCN(num_class=5).eval(), None)
    clips = np.stack([probe_clip(12), probe_clip(12)[::-1].copy()])
    before = engine.logits_batch(clips)
    assert engine.lay_out_channels_last(probe_clip())
    assert all(conv_weights_channels_last(engine.network))
    np.testing.assert_allclose(engine.logits_batch(clips), before, rtol=1e-4, atol=1e-6)


def test_a_network_that_needs_the_contiguous_layout_is_put_back() -> None:
    torch.manual_seed(0)
    engine = TorchEngine(FlattensItsFeatures(num_class=5).eval(), None)
    clip = probe_clip(12)
    before = engine.logits(clip)
    assert not engine.lay_out_channels_last(probe_clip())
    assert not any(conv_weights_channels_last(engine.network))
    np.testing.assert_array_equal(engine.logits(clip), before)
