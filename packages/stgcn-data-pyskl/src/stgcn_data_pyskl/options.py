"""The ``--data-option KEY=VALUE`` settings of the pyskl dataset.

Values arrive as strings from the command line, or as numbers from a config file's
``data_options`` table; anything else is refused in one line naming the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from stgcn.errors import StgcnError

SAMPLINGS = ("uniform", "window")


@dataclass(frozen=True)
class PysklOptions:
    """Which splits, which skeleton, and how frames are sampled.

    ``split=xsub`` names the pair ``xsub_train`` / ``xsub_val``; ``train_split`` and
    ``val_split`` name any two. ``sampling=uniform`` is PYSKL's ``UniformSampleFrames``
    (``clip_len`` frames spread over the whole clip); ``sampling=window`` is the reference
    ST-GCN's: a random ``window`` of frames for training, the first ``window`` for
    validation, zero-padded where the clip is shorter. ``num_clips`` clips of each
    validation sample are scored and averaged (PYSKL tests with 10).
    """

    split: str | None = None
    train_split: str | None = None
    val_split: str | None = None
    layout: str | None = None
    classes: str | None = None
    sampling: str = "uniform"
    clip_len: int = 100
    window: int = 300
    num_clips: int = 1

    def split_names(self, available: list[str]) -> tuple[str, str]:
        train = self.train_split or (f"{self.split}_train" if self.split else None)
        val = self.val_split or (f"{self.split}_val" if self.split else None)
        if train is None or val is None:
            known = ", ".join(sorted(available)) or "none"
            raise StgcnError(
                "pyskl dataset: name the splits with --data-option split=NAME (for NAME_train "
                f"and NAME_val) or train_split= and val_split=; the file has: {known}"
            )
        return train, val


KNOWN = tuple(f.name for f in fields(PysklOptions))
_COUNTS = {"clip_len": 1, "window": 1, "num_clips": 1}


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise StgcnError(f"pyskl dataset: option {key} expects a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise StgcnError(
            f"pyskl dataset: option {key} expects a whole number, got {value!r}"
        ) from None
    if number < _COUNTS[key]:
        raise StgcnError(f"pyskl dataset: option {key} must be at least {_COUNTS[key]}")
    return number


def parse_options(options: Mapping[str, Any] | None) -> PysklOptions:
    """The options; an unknown key or a bad value is refused."""
    given = dict(options or {})
    unknown = sorted(set(given) - set(KNOWN))
    if unknown:
        raise StgcnError(f"pyskl dataset: unknown option {unknown[0]!r}; known: {', '.join(KNOWN)}")
    values: dict[str, Any] = {}
    for key, value in given.items():
        if key in _COUNTS:
            values[key] = _count(key, value)
        else:
            values[key] = str(value)
    parsed = PysklOptions(**values)
    if parsed.sampling not in SAMPLINGS:
        raise StgcnError(
            f"pyskl dataset: option sampling must be one of {', '.join(SAMPLINGS)}, "
            f"not {parsed.sampling!r}"
        )
    return parsed
