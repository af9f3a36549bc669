"""Which names a model's classes are shown with.

Names come from the checkpoint (stored at training time) or the dataset record, and are
used only when they name every class: a list of another length belongs to other data.
Evaluation's scores file, the run report and the export package's commands all choose
the names this way, so one model's classes read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence


def class_names(num_class: int, *candidates: Sequence[str] | None) -> list[str] | None:
    """The first of ``candidates`` with exactly ``num_class`` names; None if none has."""
    for names in candidates:
        if names is not None and len(names) == num_class:
            return list(names)
    return None


def class_names_or_numbers(num_class: int, *candidates: Sequence[str] | None) -> list[str]:
    """:func:`class_names`, else ``class 0``, ``class 1``, ...: a name for every class."""
    found = class_names(num_class, *candidates)
    return found if found is not None else [f"class {index}" for index in range(num_class)]
