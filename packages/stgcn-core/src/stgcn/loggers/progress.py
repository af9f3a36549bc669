"""Progress of an epoch: a redrawn bar on a terminal, plain lines anywhere else.

A log written to a file (Slurm, nohup, ``> run.log``) is read later, by people and by
grep: there a bar is a stream of carriage-return frames. When stderr is not a terminal
a line is printed every 10 % of the epoch or every 30 seconds, whichever comes first.
``stgcn --quiet`` (``STGCN_QUIET=1``, inherited by worker processes) prints neither,
nor the per-epoch lines: only warnings, errors and the final summary.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tqdm import tqdm

QUIET_VARIABLE = "STGCN_QUIET"
#: a plain progress line at least this often (seconds) and every this share of an epoch
LINE_SECONDS = 30.0
LINE_SHARE = 0.1
#: a terminal bar's loss and rate are refreshed at most this often (seconds)
BAR_SECONDS = 2.0


def quiet() -> bool:
    return os.environ.get(QUIET_VARIABLE, "") not in ("", "0")


def say(line: str, enabled: bool = True) -> None:
    """One line of the run's story (an epoch's results), unless quiet."""
    if enabled and not quiet():
        tqdm.write(line)


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at each write (it may be swapped while a bar is drawn,
    as :func:`stgcn.pose.video.native_stderr_aside` does), for tqdm's ``file``."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class Progress:
    """Steps of one epoch with their loss, lr and rate (or other units of work: the
    frames of a video, the videos of an extraction)."""

    def __init__(self, total: int, desc: str, enabled: bool = True, unit: str = "steps") -> None:
        self.total, self.desc, self.unit = total, desc, unit
        on = enabled and not quiet()
        self.bar = None
        self.plain = False
        if on and sys.stderr.isatty():
            self.bar = tqdm(
                total=total,
                desc=desc,
                leave=False,
                dynamic_ncols=True,
                unit=unit.rstrip("s"),
                file=_CurrentStderr(),
            )
        else:
            self.plain = on
        self.done = 0
        self.last_line = time.monotonic()
        self.last_postfix = 0.0
        self.next_share = LINE_SHARE

    def shows_next(self) -> bool:
        """Whether the next :meth:`update` will be seen: a plain line, or a bar's postfix
        due a redraw (every ``BAR_SECONDS``). The loop reads the loss from the device
        only then, so a progress display costs no synchronisation per step."""
        if self.bar is not None:
            return time.monotonic() - self.last_postfix >= BAR_SECONDS
        if not self.plain:
            return False
        share = (self.done + 1) / max(self.total, 1)
        return share + 1e-9 >= self.next_share or time.monotonic() - self.last_line >= LINE_SECONDS

    def update(self, **postfix: Any) -> None:
        self.done += 1
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
                self.last_postfix = time.monotonic()
            self.bar.update(1)
            return
        if not self.plain:
            return
        share = self.done / max(self.total, 1)
        now = time.monotonic()
        if share + 1e-9 >= self.next_share or now - self.last_line >= LINE_SECONDS:
            while self.next_share <= share + 1e-9:
                self.next_share += LINE_SHARE
            self.last_line = now
            values = "  ".join(f"{key} {value}" for key, value in postfix.items())
            line = f"{self.desc}: {self.done}/{self.total} {self.unit} ({share:.0%})  {values}"
            print(
                line.rstrip(),
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
