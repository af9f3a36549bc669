"""The epoch's loss, summed on the device so that the loop never waits for it."""

from __future__ import annotations

import torch

from stgcn.errors import StgcnError


class DeviceLossSum:
    """The epoch's summed loss and its first non-finite loss, kept on the device.

    Reading them (:meth:`read_total`) is the one host synchronisation of the loop, done
    every ``log_every`` steps, before a step checkpoint and at the end of the epoch.
    """

    def __init__(self, device: torch.device, epoch: int, start_sum: float = 0.0) -> None:
        # float64 where the device has it cheaply; accelerators sum in float32
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        self.epoch = epoch
        self.total = torch.full((), start_sum, dtype=dtype, device=device)
        self.first_bad = torch.full((), -1, dtype=torch.int64, device=device)
        self.bad_value = torch.zeros((), dtype=torch.float32, device=device)
        self.overflowed = torch.zeros((), dtype=torch.bool, device=device)

    def add(
        self, loss: torch.Tensor, count: int, step: int, overflow: torch.Tensor | None = None
    ) -> None:
        """Add a batch's mean ``loss`` over ``count`` samples; remember ``step`` if it is
        the first non-finite one, or the first whose update ``overflow`` (a device flag
        from the precision part) marks. Nothing here waits for the device."""
        value = loss.float()
        self.total += value.to(self.total.dtype) * count
        bad = ~torch.isfinite(value)
        if overflow is not None:
            bad = bad | overflow
        newly_bad = bad & (self.first_bad < 0)
        self.first_bad = torch.where(newly_bad, step, self.first_bad)
        self.bad_value = torch.where(newly_bad, value, self.bad_value)
        if overflow is not None:
            self.overflowed = torch.where(newly_bad, overflow, self.overflowed)

    def read_total(self) -> float:
        """The summed loss on the host; a non-finite loss so far ends the run in one line."""
        step = int(self.first_bad.item())
        if step >= 0 and bool(self.overflowed.item()):
            raise StgcnError(
                f"the update overflowed at epoch {self.epoch + 1}, step {step} (the device's "
                "overflow status; the loss was still finite); lower --lr or the loss scale"
            )
        if step >= 0:
            raise StgcnError(
                f"the loss became {self.bad_value.item()} at epoch {self.epoch + 1}, step {step}; "
                "check the data for non-finite values or lower --lr"
            )
        return float(self.total.item())
