"""One training step, the same for the trainer and ``stgcn bench``: what is measured is
what trains."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stgcn.plugins.backend import Precision


def training_step(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    precision: Precision,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Forward, backward and update; returns the (detached) loss, still on the device.

    Nothing here waits for the device: a non-finite loss is found by the loop, which
    checks on the device and reads the result before any checkpoint is written, so a
    poisoned update never reaches one. ``label_smoothing`` (``--label-smoothing``)
    softens the training targets; evaluation's loss stays the plain cross-entropy.
    """
    with precision.forward_context():
        loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    precision.backward(loss)
    precision.optimizer_step(optimizer)
    return loss.detach()
