"""The ``{train,val}_label.pkl`` files: a pickle of ``(sample_names, labels)``.

Label files come from elsewhere (the reference conversion, a colleague, a download),
and an ordinary ``pickle.load`` runs whatever code the file names. They are read with
the core's restricted unpickler, admitting numpy integer scalars and nothing else that
needs a global: lists, tuples, strings and Python ints need none, so a genuine label
file loads and anything else is refused before any of its code could run.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.data.pickles import restricted_load
from stgcn.errors import StgcnError

PICKLE_PROTOCOL = 4


def read_label_file(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Sample names and int64 labels from a label pickle, or a one-line StgcnError."""
    path = Path(path)
    loaded = restricted_load(
        path,
        what="label pickle",
        holds="lists of sample names and integer labels",
        kinds="iu",
        arrays=False,
    )
    return _validated(path, loaded)


def _validated(path: Path, loaded: Any) -> tuple[list[str], np.ndarray]:
    if not isinstance(loaded, (tuple, list)) or len(loaded) != 2:
        raise StgcnError(
            f"{path}: expected a pair (sample names, labels), found {type(loaded).__name__}"
        )
    names, labels = loaded
    if not isinstance(names, (list, tuple)) or not isinstance(labels, (list, tuple)):
        raise StgcnError(f"{path}: sample names and labels must both be lists")
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise StgcnError(f"{path}: sample name {index} is a {type(name).__name__}, not text")
    for index, label in enumerate(labels):
        if not isinstance(label, int) or isinstance(label, bool):
            raise StgcnError(f"{path}: label {index} is a {type(label).__name__}, not an integer")
    if len(names) != len(labels):
        raise StgcnError(f"{path}: {len(names)} sample names but {len(labels)} labels")
    try:
        array = np.array(labels, dtype=np.int64).reshape(len(labels))
    except OverflowError:
        raise StgcnError(f"{path}: a label does not fit in 64 bits") from None
    return list(names), array


def write_label_file(
    path: str | os.PathLike[str], names: Sequence[str], labels: Sequence[int]
) -> None:
    """Write ``(names, labels)`` in the reference's layout: a tuple of two plain lists."""
    with open(path, "wb") as stream:
        pickle.dump(
            (list(names), [int(label) for label in labels]), stream, protocol=PICKLE_PROTOCOL
        )
