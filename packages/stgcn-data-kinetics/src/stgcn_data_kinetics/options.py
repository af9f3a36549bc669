"""The ``--data-option KEY=VALUE`` settings of the kinetics dataset.

Values arrive as strings from the command line, or as numbers and booleans from a
config file's ``data_options`` table; both are accepted, anything else is refused
in one line that names the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from stgcn.errors import StgcnError
from stgcn.plugins.settings import parse_bool
from stgcn_data_kinetics.clip import MAX_FRAME, NUM_PERSON_IN, NUM_PERSON_OUT, ClipShape


@dataclass(frozen=True)
class KineticsOptions:
    """How clips are read and augmented.

    ``window``, ``random_choose``, ``random_move`` and ``random_shift`` shape training
    samples (evaluation always sees whole clips); ``max_frame`` and ``num_person_in``
    apply when the data path is a release tree, whose clips are converted on the fly.
    """

    window: int = 150
    random_choose: bool = True
    random_move: bool = True
    random_shift: bool = False
    max_frame: int = MAX_FRAME
    num_person_in: int = NUM_PERSON_IN

    @property
    def clip_shape(self) -> ClipShape:
        return ClipShape(self.max_frame, self.num_person_in, NUM_PERSON_OUT)


RAW_ONLY = ("max_frame", "num_person_in")
KNOWN = tuple(f.name for f in fields(KineticsOptions))


def _count(key: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise StgcnError(f"kinetics dataset: option {key} expects a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise StgcnError(
            f"kinetics dataset: option {key} expects a whole number, got {value!r}"
        ) from None
    if number < least:
        raise StgcnError(f"kinetics dataset: option {key} must be at least {least}, got {number}")
    return number


def parse_options(options: Mapping[str, Any] | None) -> tuple[KineticsOptions, set[str]]:
    """The options and the set of keys the user gave; unknown keys are refused."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(KNOWN))
    if unknown:
        raise StgcnError(
            f"kinetics dataset: unknown option {unknown[0]!r}; known: {', '.join(KNOWN)}"
        )
    values: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("random_choose", "random_move", "random_shift"):
            values[key] = parse_bool(value, f"kinetics dataset: option {key}")
        else:
            values[key] = _count(key, value, 2 if key == "num_person_in" else 1)
    return KineticsOptions(**values), set(options)
