"""The ``--data-option`` keys of the ntu datasets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stgcn.errors import StgcnError
from stgcn_data_ntu.skeleton_file import MAX_FRAMES

KEYS = ("max_frames", "ignore", "sampling", "clip_len", "num_clips")
SAMPLINGS = ("window", "uniform")


@dataclass(frozen=True)
class NtuOptions:
    #: frames per sample: longer clips are cut, shorter ones zero-padded
    max_frames: int = MAX_FRAMES
    #: a file of sample names to leave out (raw folders only; a conversion already did)
    ignore: str | None = None
    #: "window": the first max_frames frames, as the reference; "uniform": clip_len
    #: frames spread over the clip, as PYSKL samples (stgcn.data.sampling)
    sampling: str = "window"
    clip_len: int = 100
    #: uniform validation clips per sample, their scores averaged (PYSKL tests with 10)
    num_clips: int = 1


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
    counts = {}
    for key, default in (("clip_len", 100), ("num_clips", 1)):
        try:
            counts[key] = int(options.get(key, default))
        except ValueError:
            counts[key] = 0
        if counts[key] < 1:
            raise StgcnError(f"ntu: {key} must be a positive integer, got {options[key]!r}")
    sampling = str(options.get("sampling", "window"))
    if sampling not in SAMPLINGS:
        raise StgcnError(f"ntu: sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    return NtuOptions(max_frames, options.get("ignore"), sampling, **counts)
