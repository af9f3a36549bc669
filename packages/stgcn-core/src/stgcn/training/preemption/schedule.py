"""``--checkpoint-every``: a number of steps, or of minutes or seconds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stgcn.errors import StgcnError

_FORM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(steps?|min|m|s)?\s*$")


@dataclass(frozen=True)
class CheckpointEvery:
    """When a step checkpoint is due: every ``steps`` training steps (counted through
    the run, across epochs), or every ``seconds`` of wall time since the last one."""

    steps: int | None = None
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str | None, what: str = "checkpoint_every") -> CheckpointEvery:
        """``500`` or ``500steps``: steps; ``10m`` or ``10min``: minutes; ``90s``: seconds.
        ``what`` names the setting in a refusal (with where it was written)."""
        if text is None or str(text).strip() in ("", "0"):
            return cls()
        match = _FORM.match(str(text))
        if not match:
            raise StgcnError(
                f"{what}: expected STEPS, or MINUTES with m, or SECONDS with s "
                f"(500, 10m, 90s), got {text!r}"
            )
        number, unit = float(match.group(1)), match.group(2) or "steps"
        if number <= 0:
            raise StgcnError(f"{what} must be positive, got {text!r}")
        if unit.startswith("step"):
            if not number.is_integer():
                raise StgcnError(f"{what}: a step count is whole, got {text!r}")
            return cls(steps=int(number))
        return cls(seconds=number * 60 if unit in ("m", "min") else number)

    @property
    def enabled(self) -> bool:
        return self.steps is not None or self.seconds is not None

    def due(self, global_step: int, seconds_since_last: float) -> bool:
        """Whether a checkpoint is due after ``global_step`` steps of the run."""
        if self.steps is not None:
            return global_step % self.steps == 0
        if self.seconds is not None:
            return seconds_since_last >= self.seconds
        return False
