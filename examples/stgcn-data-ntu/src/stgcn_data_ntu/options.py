"""The ``--data-option`` keys of the ntu datasets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stgcn.errors import StgcnError
from stgcn_data_ntu.skeleton_file import MAX_FRAMES

KEYS = ("max_frames", "ignore")


@dataclass(frozen=True)
class NtuOptions:
    #: frames per sample: longer clips are cut, shorter ones zero-padded
    max_frames: int = MAX_FRAMES
    #: a file of sample names to leave out (raw folders only; a conversion already did)
    ignore: str | None = None


def parse_options(options: Mapping[str, Any] | None) -> NtuOptions:
    options = dict(options or {})
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        raise StgcnError(f"ntu: unknown data option {unknown[0]!r}; known: {', '.join(KEYS)}")
    max_frames = MAX_FRAMES
    if "max_frames" in options:
        try:
            max_frames = int(options["max_frames"])
        except ValueError:
            max_frames = 0
        if max_frames < 1:
            raise StgcnError(
                f"ntu: max_frames must be a positive integer, got {options['max_frames']!r}"
            )
    return NtuOptions(max_frames, options.get("ignore"))
