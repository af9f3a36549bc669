"""The ``--data-option KEY=VALUE`` settings of the pyskl dataset.

Values arrive as strings from the command line, or as numbers from a config file's
``data_options`` table; anything else is refused in one line naming the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stgcn.errors import StgcnError
from stgcn.plugins.settings import Settings, option

SAMPLINGS = ("uniform", "window")


@dataclass(frozen=True)
class PysklOptions(Settings):
    """Which splits, which skeleton, and how frames are sampled.

    ``split=xsub`` names the pair ``xsub_train`` / ``xsub_val``; ``train_split`` and
    ``val_split`` name any two; a file whose splits include ``train`` and ``val`` (as
    ``stgcn data extract`` writes) needs neither. ``sampling=uniform`` is PYSKL's
    ``UniformSampleFrames`` (``clip_len`` frames spread over the whole clip);
    ``sampling=window`` is the reference ST-GCN's: a random ``window`` of frames for
    training, the first ``window`` for validation, zero-padded where the clip is
    shorter. ``num_clips`` clips of each validation sample are scored and averaged
    (PYSKL tests with 10).
    """

    family: ClassVar[str] = "pyskl dataset"

    split: str | None = option(None, "the split pair NAME_train / NAME_val")
    train_split: str | None = option(None, "the training split's name")
    val_split: str | None = option(None, "the validation split's name")
    layout: str | None = option(None, "the skeleton layout (default: from the joint count)")
    classes: str | None = option(None, "a file of class names, one a line")
    sampling: str = option("uniform", "how frames are sampled", choices=SAMPLINGS)
    clip_len: int = option(100, "frames of a uniformly sampled clip", least=1)
    window: int = option(300, "frames of a window", least=1)
    num_clips: int = option(1, "clips of each validation sample, averaged", least=1)

    def split_names(self, available: list[str]) -> tuple[str, str]:
        train = self.train_split or (f"{self.split}_train" if self.split else None)
        val = self.val_split or (f"{self.split}_val" if self.split else None)
        if not (train or val or self.split) and {"train", "val"} <= set(available):
            # a file split in plain train/val (``stgcn data extract`` writes such) needs
            # no naming
            train, val = "train", "val"
        if train is None or val is None:
            known = ", ".join(sorted(available)) or "none"
            raise StgcnError(
                "pyskl dataset: name the splits with --data-option split=NAME (for NAME_train "
                f"and NAME_val) or train_split= and val_split=; the file has: {known}"
            )
        return train, val


KNOWN = tuple(PysklOptions.keys())


def parse_options(options: Mapping[str, Any] | None) -> PysklOptions:
    """The options; an unknown key or a bad value is refused."""
    return PysklOptions.parse(options)
