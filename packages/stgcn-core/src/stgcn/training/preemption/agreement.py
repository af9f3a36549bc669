"""Every rank stops, and checkpoints, at the same step.

A signal may reach one rank and not another (a user's ``kill``), and only rank 0's
clock decides a time-based checkpoint. After every step the ranks exchange two
flags, combined by maximum: "stop" (any rank asked) and "checkpoint" (rank 0 says
one is due). The exchange runs on a gloo group of its own, on the host, so that an
accelerator's queue is never waited for.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from stgcn.training.distributed import World


class Agreement:
    """The ranks' shared decisions; a world of one decides alone, for free."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.group = dist.new_group(backend="gloo") if world.distributed else None

    def decide(self, stop: bool, checkpoint: bool) -> tuple[bool, bool]:
        """(stop, checkpoint) as every rank will act on them."""
        checkpoint = checkpoint and self.world.is_main
        if self.group is None:
            return stop, checkpoint
        flags = torch.tensor([int(stop), int(checkpoint)], dtype=torch.int64)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.group)
        return bool(flags[0]), bool(flags[1])

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order (on every rank)."""
        if self.group is None:
            return [value]
        values: list[Any] = [None] * self.world.size
        dist.all_gather_object(values, value, group=self.group)
        return values
