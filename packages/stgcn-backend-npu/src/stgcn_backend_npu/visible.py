"""How torch_npu reads ``ASCEND_RT_VISIBLE_DEVICES``, so that stgcn can say it.

torch_npu does not split the variable on commas and parse each id: its
``_parse_visible_devices`` (torch_npu/npu/__init__.py, :409-422 at
v26.2.0-0day-pytorch2.13.0) keeps only the text before the first character that is not
a digit or a comma, and stops at the first empty id. ``"0, 1, 2, 3"`` is therefore the
one NPU 0, and ``" 3"`` or ``"+3"`` is none. ``_device_count_ascend_hal`` (:455-461)
then counts the ids up to the first one the host does not have, and sees nothing at all
when they do not ascend. A user who wrote four ids and gets one card deserves to be
told why, in the words of what torch_npu did.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

VARIABLE = "ASCEND_RT_VISIBLE_DEVICES"


def torch_npu_ids(value: str) -> list[int]:
    """The ids torch_npu's ``_parse_visible_devices`` reads from ``value``."""
    end = 0
    while end < len(value) and (value[end].isdigit() or value[end] == ","):
        end += 1
    ids: list[int] = []
    for part in value[:end].split(","):
        if not part:
            break
        ids.append(int(part))
    return ids


def written_ids(value: str) -> list[str]:
    """What the user meant to list: the comma-separated items, stripped, non-empty."""
    return [item.strip() for item in value.split(",") if item.strip()]


def reading(value: str, count: int) -> str:
    """``value`` and torch_npu's reading of it, for a message about ``count`` NPUs."""
    ids = ", ".join(map(str, torch_npu_ids(value))) or "none"
    return (
        f"{VARIABLE}={value!r} shows {count} NPU(s): torch_npu reads the ids [{ids}] from "
        "it (it stops at the first character that is not a digit or a comma, and counts "
        "ids only while they ascend and the host has them)"
    )


def surprising_reading(count: int, environ: Mapping[str, str] | None = None) -> str | None:
    """:func:`reading` where torch_npu sees fewer NPUs than the variable lists, else None."""
    value = (os.environ if environ is None else environ).get(VARIABLE)
    if value is None or count >= len(written_ids(value)):
        return None
    return reading(value, count)


#: what this process has said already: one line however many backends ask
_said: set[str] = set()


def warn_if_surprising(count: int) -> None:
    """Say :func:`surprising_reading` once per process, on rank 0 (or outside a
    launched job)."""
    said = surprising_reading(count)
    if said is None or said in _said or os.environ.get("RANK", "0") != "0":
        return
    _said.add(said)
    print(f"stgcn: warning: {said}", file=sys.stderr)
