"""Joint importance by a gradient-weighted class activation map: in [0, 1], one number
per joint, where the class's evidence is."""

from __future__ import annotations

import numpy as np
import torch

from stgcn.model.explain import joint_importance
from stgcn.model.network import STGCN


def test_joint_importance_follows_the_class_evidence() -> None:
    torch.manual_seed(0)
    model = STGCN(4, "openpose").eval()
    rng = np.random.default_rng(0)
    sample = np.zeros((3, 16, 18, 2), np.float32)
    sample[:, :, :, 0] = rng.normal(0, 0.2, (3, 16, 18))
    with torch.no_grad():
        logits = model(torch.from_numpy(sample)[None])[0]
    top = int(logits.argmax())
    importance = joint_importance(model, sample, top)
    assert importance.shape == (18,) and importance.max() == 1.0 and importance.min() >= 0
    assert not model.training
    # the map is of the class asked about: another class weighs the joints otherwise
    other = joint_importance(model, sample, int(logits.argmin()))
    assert not np.allclose(importance, other)
    # the head the map differentiates is the forward pass itself
    with torch.no_grad():
        features = model.features(torch.from_numpy(sample)[None])
        torch.testing.assert_close(model.head(features, 2)[0], logits)
    # nobody in the clip: nothing to explain
    assert not joint_importance(model, np.zeros_like(sample), top).any()
