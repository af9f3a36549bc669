"""The ``--data-option KEY=VALUE`` settings of the kinetics dataset.

Values arrive as strings from the command line, or as numbers and booleans from a
config file's ``data_options`` table; both are accepted, anything else is refused
in one line that names the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stgcn.plugins.settings import Settings, option
from stgcn_data_kinetics.clip import MAX_FRAME, NUM_PERSON_IN, NUM_PERSON_OUT, ClipShape


@dataclass(frozen=True)
class KineticsOptions(Settings):
    """How clips are read and augmented.

    ``window``, ``random_choose``, ``random_move`` and ``random_shift`` shape training
    samples (evaluation always sees whole clips); ``max_frame`` and ``num_person_in``
    apply when the data path is a release tree, whose clips are converted on the fly.
    """

    family: ClassVar[str] = "kinetics dataset"

    window: int = option(150, "frames of a training sample", least=1)
    random_choose: bool = option(True, "a random window of each training clip")
    random_move: bool = option(True, "random affine moves of training clips")
    random_shift: bool = option(False, "pad training clips at a random offset")
    max_frame: int = option(MAX_FRAME, "frames kept of a raw clip (release tree)", least=1)
    num_person_in: int = option(
        NUM_PERSON_IN, "persons read of a raw clip's frames (release tree)", least=2
    )

    @property
    def clip_shape(self) -> ClipShape:
        return ClipShape(self.max_frame, self.num_person_in, NUM_PERSON_OUT)


RAW_ONLY = ("max_frame", "num_person_in")
KNOWN = tuple(KineticsOptions.keys())


def parse_options(options: Mapping[str, Any] | None) -> tuple[KineticsOptions, set[str]]:
    """The options and the set of keys the user gave; unknown keys are refused."""
    return KineticsOptions.parse(options), set(options or {})
