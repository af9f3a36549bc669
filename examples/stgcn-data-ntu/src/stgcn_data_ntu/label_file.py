"""``{split}_label.pkl``: a pickle of ``(sample_names, labels)``, read without running code.

A pickle can name any importable callable, so loading one from a downloaded folder
could execute anything. The label file needs none: plain lists, strings and ints
unpickle without ``find_class``, and this reader refuses every class it is asked for.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from stgcn.errors import StgcnError


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def write_label_file(path: Path, names: list[str], labels: list[int]) -> None:
    with path.open("wb") as stream:
        pickle.dump((list(names), [int(label) for label in labels]), stream, protocol=4)


def read_label_file(path: Path, num_class: int) -> tuple[list[str], list[int]]:
    try:
        with path.open("rb") as stream:
            loaded = _PlainUnpickler(stream).load()
    except OSError:
        raise
    except Exception as error:  # pickle's many ways of saying "not this kind of file"
        raise StgcnError(f"{path}: not a label file of plain names and labels ({error})") from None
    if not (
        isinstance(loaded, tuple | list)
        and len(loaded) == 2
        and all(isinstance(name, str) for name in loaded[0])
        and all(isinstance(label, int) for label in loaded[1])
        and len(loaded[0]) == len(loaded[1])
    ):
        raise StgcnError(f"{path}: expected a pair (sample names, integer labels) of equal length")
    names, labels = list(loaded[0]), list(loaded[1])
    for index, label in enumerate(labels):
        if not 0 <= label < num_class:
            raise StgcnError(f"{path}: sample {index} has label {label}, outside [0, {num_class})")
    return names, labels
