"""Reading pickles that came from elsewhere without running any of their code.

Annotation and label pickles are downloaded, shared between colleagues, written by
other toolkits; an ordinary ``pickle.load`` calls whatever global such a file names.
:class:`RestrictedUnpickler` resolves no global but the few that plain containers of
numbers, strings and numeric numpy arrays need, each replaced by a wrapper that builds
only those: numpy's scalar constructor, ``numpy.dtype`` (no object or structured
dtypes), numpy's two array reconstructors (``_reconstruct`` before protocol 5,
``_frombuffer`` from it) and the ``_codecs.encode`` bytes helper of protocol 2. Lists,
dicts, tuples, strings and Python numbers need no global at all. A pickle naming any
other global is refused when the unpickler meets that name, before the call it would
make, so its code never runs.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError, first_line

#: dtype kinds a caller may admit: bool, signed and unsigned ints, floats, bytes, text
NUMERIC_KINDS = "biuf"
TEXT_KINDS = "SU"
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names (or builds) something this reader does not admit."""


class _ArrayClass:
    """Stands for ``numpy.ndarray`` inside a pickle: usable only as the first argument of
    the array reconstructor, never called."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RefusedGlobal("numpy.ndarray(...) called directly")


class RestrictedUnpickler(pickle.Unpickler):
    """Admits scalars and dtypes of ``kinds`` and, with ``arrays``, numpy arrays of them."""

    def __init__(self, file: Any, *, kinds: str = NUMERIC_KINDS, arrays: bool = True) -> None:
        super().__init__(file)
        self.kinds = kinds
        self.arrays = arrays

    def find_class(self, module: str, name: str) -> Any:
        if module in _NUMPY_CORE and name == "scalar":
            return self._scalar
        if module == "numpy" and name == "dtype":
            return self._dtype
        if module == "_codecs" and name == "encode":
            return _latin1_bytes
        if self.arrays:
            if module in _NUMPY_CORE and name == "_reconstruct":
                return self._reconstruct
            if module == "numpy" and name == "ndarray":
                return _ArrayClass
            if module in _NUMPY_NUMERIC and name == "_frombuffer":
                return self._frombuffer
        raise RefusedGlobal(f"{module}.{name}")

    def _checked_dtype(self, dtype: Any) -> np.dtype:
        if not isinstance(dtype, np.dtype) or dtype.fields is not None:
            raise RefusedGlobal(f"a numpy value of type {dtype!r}")
        if dtype.kind not in self.kinds:
            raise RefusedGlobal(f"a numpy {dtype} value")
        return dtype

    def _dtype(self, spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
        if not isinstance(spec, str):
            raise RefusedGlobal(f"numpy.dtype({spec!r})")
        self._checked_dtype(np.dtype(spec))
        return np.dtype(spec, bool(align), bool(copy))

    def _scalar(self, dtype: Any, data: Any = None) -> Any:
        dtype = self._checked_dtype(dtype)
        if not isinstance(data, bytes) or len(data) != dtype.itemsize:
            raise RefusedGlobal("a numpy scalar with malformed data")
        return np.frombuffer(data, dtype=dtype)[0].item()

    def _reconstruct(self, cls: Any, shape: Any, dtype_code: Any) -> np.ndarray:
        # the array's real dtype and data arrive afterwards, through __setstate__ with
        # a dtype that only self._dtype can have built
        if cls is not _ArrayClass or not isinstance(dtype_code, bytes | str):
            raise RefusedGlobal("numpy's array reconstructor with other arguments")
        return np.ndarray.__new__(np.ndarray, (0,), np.uint8)

    def _frombuffer(self, buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
        dtype = self._checked_dtype(dtype)
        if not isinstance(buffer, bytes | bytearray | memoryview):
            raise RefusedGlobal("numpy's _frombuffer with other arguments")
        if order not in ("C", "F") or not isinstance(shape, tuple):
            raise RefusedGlobal("numpy's _frombuffer with other arguments")
        array = np.frombuffer(buffer, dtype=dtype)
        return array.reshape(shape, order=order)


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise RefusedGlobal(f"_codecs.encode({type(text).__name__}, {encoding!r})")
    return codecs.encode(text, "latin1")


def restricted_load(
    path: str | os.PathLike[str],
    *,
    what: str,
    holds: str,
    kinds: str = NUMERIC_KINDS,
    arrays: bool = True,
) -> Any:
    """The object in the pickle at ``path``, or one StgcnError line.

    ``what`` names the kind of file in errors ("label pickle"); ``holds`` says what such
    a file may hold, for the refusal ("lists of sample names and integer labels").
    """
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    try:
        with path.open("rb") as stream:
            unpickler = RestrictedUnpickler(io.BufferedReader(stream), kinds=kinds, arrays=arrays)
            try:
                return unpickler.load()
            finally:
                # the memo holds every object read (and the unpickler's own bound methods,
                # a reference cycle): without this the whole file stays in memory until
                # the cyclic collector runs, however much of it the caller drops
                unpickler.memo.clear()
    except RefusedGlobal as refused:
        article = "an" if what[:1] in "aeiou" else "a"
        raise StgcnError(
            f"{path}: refused to load: it asks for {refused}, and {article} {what} may hold "
            f"only {holds}"
        ) from None
    except OSError:
        raise
    except MemoryError:
        raise StgcnError(f"{path}: not enough memory to load this {what}") from None
    except Exception as error:  # truncated or not a pickle at all: the file's problem
        raise StgcnError(
            f"{path} is not a readable {what} ({type(error).__name__}: {first_line(error)[:120]})"
        ) from None
