"""Which joints drove a label: a gradient-weighted class activation map over joints.

Why this and not the last layer's feature magnitude per joint (what the original demo
drew): a feature's magnitude is the same whatever class is asked about, so it shows
where the network is busy, not what made it say *this* class. Weighting each feature
channel by the gradient of the class's logit with respect to it (Grad-CAM) keeps the
channels that raise that logit and lets those that lower it cancel out, and it reads
the same network the label came from, with no retraining. The last ST-GCN block's
output ``(N*M, C, T', V)`` keeps the joint axis at full resolution, so the map is
summed over its frames and persons into one number per joint of the model's layout,
scaled so the most important joint is 1 (all zeros where nothing raises the logit).

It needs the PyTorch model: an ONNX export holds no gradients (``stgcn predict
--explain`` asks for ``--checkpoint``).
"""

from __future__ import annotations

import numpy as np
import torch

from stgcn.model.contract import SkeletonModel, as_module


def joint_importance(model: SkeletonModel, sample: np.ndarray, class_index: int) -> np.ndarray:
    """Float64 ``(V,)`` in [0, 1]: each joint's share in class ``class_index``'s logit
    for one clip ``(C, T, V, M)``; persons whose slot is empty (all zeros) count for
    nothing."""
    x = torch.from_numpy(np.ascontiguousarray(sample, dtype=np.float32))[None]
    persons = x.shape[4]
    module = as_module(model)
    was_training = module.training
    module.eval()
    try:
        with torch.enable_grad():
            features = model.features(x)
            logit = model.head(features, persons)[0, class_index]
            (gradient,) = torch.autograd.grad(logit, features)
        weights = gradient.mean(dim=(2, 3), keepdim=True)  # (M, C, 1, 1): a channel's pull
        cam = torch.relu((weights * features).sum(dim=1)).detach()  # (M, T', V)
    finally:
        module.train(was_training)
    present = x[0].abs().sum(dim=(0, 1, 2)) > 0  # (M,)
    per_joint = cam[present].sum(dim=(0, 1)).double().numpy()
    top = float(per_joint.max()) if per_joint.size else 0.0
    return per_joint / top if top > 0 else np.zeros(x.shape[3])
