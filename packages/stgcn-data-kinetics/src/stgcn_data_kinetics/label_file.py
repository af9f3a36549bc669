"""The ``{train,val}_label.pkl`` files: a pickle of ``(sample_names, labels)``.

Label files come from elsewhere (the reference conversion, a colleague, a download),
and an ordinary ``pickle.load`` runs whatever code the file names. These are read
with an unpickler that resolves no global at all except the three that numpy's
integer scalars need (its scalar constructor, ``numpy.dtype`` and the ``_codecs``
bytes helper of protocol 2), each wrapped so that it only builds integers. Lists,
tuples, strings and Python ints need no global, so a genuine label file loads and
anything else is refused before any of its code could run.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError, first_line

PICKLE_PROTOCOL = 4
_SCALAR_MODULES = ("numpy.core.multiarray", "numpy._core.multiarray")


class _Refused(pickle.UnpicklingError):
    """The pickle names a global that label files have no use for."""


def _integer_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str):
        raise _Refused(f"numpy.dtype({spec!r})")
    dtype = np.dtype(spec)
    if dtype.kind not in "iu":
        raise _Refused(f"a numpy {dtype} value (labels must be integers)")
    return np.dtype(spec, bool(align), bool(copy))


def _integer_scalar(dtype: Any, data: Any = None) -> int:
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iu" or dtype.fields is not None:
        raise _Refused(f"a numpy scalar of type {dtype!r}")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise _Refused("a numpy integer scalar with malformed data")
    return int(np.frombuffer(data, dtype=dtype)[0])


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"_codecs.encode({type(text).__name__}, {encoding!r})")
    return codecs.encode(text, "latin1")


class LabelUnpickler(pickle.Unpickler):
    """Resolves only the globals that numpy integer labels need; refuses every other."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _SCALAR_MODULES and name == "scalar":
            return _integer_scalar
        if module == "numpy" and name == "dtype":
            return _integer_dtype
        if module == "_codecs" and name == "encode":
            return _latin1_bytes
        raise _Refused(f"{module}.{name}")


def read_label_file(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Sample names and int64 labels from a label pickle, or a one-line StgcnError."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    try:
        payload = path.read_bytes()
        loaded = LabelUnpickler(io.BytesIO(payload)).load()
    except _Refused as refused:
        raise StgcnError(
            f"{path}: refused to load: it asks for {refused}, and a label file may hold only "
            "lists of sample names and integer labels"
        ) from None
    except OSError:
        raise
    except Exception as error:  # truncated or not a pickle at all: the file's problem
        raise StgcnError(
            f"{path} is not a readable label pickle ({type(error).__name__}: "
            f"{first_line(error)[:120]})"
        ) from None
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
