"""The 400 Kinetics-400 class names, in the order of the release's ``label_index``.

They ship as a plain text file (one name a line) so that evaluation and prediction
can show names without the dataset at hand.
"""

from __future__ import annotations

from importlib import resources


def _read_class_names() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath("class_names.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


CLASS_NAMES: tuple[str, ...] = _read_class_names()
NUM_CLASS = 400
if len(CLASS_NAMES) != NUM_CLASS:  # a damaged installation, not a user error
    raise RuntimeError(f"class_names.txt holds {len(CLASS_NAMES)} names, not {NUM_CLASS}")
