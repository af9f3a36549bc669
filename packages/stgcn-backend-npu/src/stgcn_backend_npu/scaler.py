"""Loss scaling for fp16 training: torch's dynamic GradScaler, or a fixed scale.

The original Ascend recipe trained with a static loss scale of 64. torch's GradScaler
cannot hold its scale still through its constructor (it insists on a growth factor
above 1 and a backoff factor below 1), but its ``update(new_scale)`` accepts a value.
So a static scale is a GradScaler whose ``update`` always puts the same value back:
everything else (scaling the loss, unscaling the gradients, skipping the optimizer
step when a gradient is inf or NaN, its checkpoint state) is torch's own code.
"""

from __future__ import annotations

from typing import Any

import torch


class StaticLossScaler(torch.amp.GradScaler):
    """A GradScaler whose scale never changes, not even after a skipped step."""

    def __init__(self, device: str, scale: float) -> None:
        super().__init__(device, init_scale=scale)
        self.static_scale = float(scale)

    def update(self, new_scale: float | torch.Tensor | None = None) -> None:
        super().update(self.static_scale)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resuming keeps the scale asked for now, whatever the checkpoint's scaler used."""
        super().load_state_dict({**state_dict, "scale": self.static_scale})


def loss_scaler(device: str, loss_scale: float | None) -> torch.amp.GradScaler:
    """Dynamic scaling (torch's defaults) for None, else a fixed ``loss_scale``."""
    if loss_scale is None:
        return torch.amp.GradScaler(device)
    return StaticLossScaler(device, loss_scale)
