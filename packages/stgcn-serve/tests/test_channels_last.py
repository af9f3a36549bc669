"""``stgcn serve`` runs its batches of several clips on a copy of a checkpoint's network
stored channels-last (faster for batches), only where that copy computes the same
logits; a network whose reshapes need the contiguous layout gets no copy. The network
itself is left as it is: a lone clip is classified exactly as ``stgcn predict`` does."""

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


def test_a_copy_laid_out_for_batches_computes_the_same() -> None:
    torch.manual_seed(0)
    engine = TorchEngine(STGCN(num_class=5).eval(), None)
    clips = np.stack([probe_clip(12), probe_clip(12)[::-1].copy()])
    copied = engine.channels_last_copy(probe_clip())
    assert copied is not None and copied.network is not engine.network
    assert all(conv_weights_channels_last(copied.network))
    assert not any(conv_weights_channels_last(engine.network))
    assert copied.class_names == engine.class_names and copied.num_class == engine.num_class
    np.testing.assert_allclose(
        copied.logits_batch(clips), engine.logits_batch(clips), rtol=1e-4, atol=1e-6
    )


def test_a_network_that_needs_the_contiguous_layout_gets_no_copy() -> None:
    torch.manual_seed(0)
    engine = TorchEngine(FlattensItsFeatures(num_class=5).eval(), None)
    clip = probe_clip(12)
    before = engine.logits(clip)
    assert engine.channels_last_copy(probe_clip()) is None
    assert not any(conv_weights_channels_last(engine.network))
    np.testing.assert_array_equal(engine.logits(clip), before)
