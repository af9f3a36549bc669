"""What ``STGCN_COLLECTIVE_TIMEOUT_MIN`` becomes on HCCL, so that it means what it says.

ProcessGroupHCCL (torch_npu/csrc/distributed/ProcessGroupHCCL.cpp) reads the timeout of
``init_process_group`` its own way:

- a timeout equal to its DEFAULT_TIMEOUT (30 minutes, also stgcn's default) counts as
  "not set" and is replaced by HCCL_EXEC_TIMEOUT + 1800 s (an hour by default);
- a timeout at or below HCCL_EXEC_TIMEOUT (1836 s when unset) draws a warning that the
  plog, Ascend's device log, may not be written, since the watchdog would tear the group
  down before HCCL itself reports the stuck collective.

So a requested timeout of exactly 30 minutes is passed as 30 minutes and 1 second, and,
where the user has not set HCCL_EXEC_TIMEOUT, HCCL's own timeout is set a minute (at
least) below the requested one, rounded down to the 68 s steps the 910A counts in: HCCL
then reports the collective that hangs, and the watchdog ends the job at the time asked
for. HCCL_EXEC_TIMEOUT on the Atlas training series (910A) takes (0, 17340] s, so a
longer request is clamped to 17340 s (HCCL's own timeout then fires earlier than the
watchdog, which still ends the job at the time asked for). A HCCL_EXEC_TIMEOUT set by the
user is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from datetime import timedelta

#: ProcessGroupHCCL's DEFAULT_TIMEOUT, which it treats as "no timeout given".
HCCL_DEFAULT_TIMEOUT = timedelta(minutes=30)
#: HCCL_EXEC_TIMEOUT's step on the Atlas training series (910A); 910B takes any second.
EXEC_STEP_S = 68
#: how much earlier than the watchdog HCCL's own timeout should fire
MARGIN_S = 60
#: the largest HCCL_EXEC_TIMEOUT the Atlas training series (910A) takes: 255 steps of 68 s
#: (CANN's HCCL_EXEC_TIMEOUT reference: "(0, 17340]" s on Atlas training products)
EXEC_MAX_S = 17340


def exec_timeout_for(requested: timedelta) -> int:
    """HCCL_EXEC_TIMEOUT, in seconds, a margin below ``requested``, within the 910A's
    range: 68 s at least, 17340 s at most."""
    seconds = int(requested.total_seconds()) - MARGIN_S
    return min(EXEC_MAX_S, max(EXEC_STEP_S, seconds // EXEC_STEP_S * EXEC_STEP_S))


def hccl_timeout(
    requested: timedelta, environ: MutableMapping[str, str] | None = None
) -> timedelta:
    """The timeout to pass to ``init_process_group("hccl")``; sets HCCL_EXEC_TIMEOUT."""
    environ = os.environ if environ is None else environ
    if not environ.get("HCCL_EXEC_TIMEOUT"):
        environ["HCCL_EXEC_TIMEOUT"] = str(exec_timeout_for(requested))
    if requested == HCCL_DEFAULT_TIMEOUT:
        return requested + timedelta(seconds=1)
    return requested
