"""What every file-reading dataset plugin needs: a checked ``--data-path`` and a file
handle opened lazily in each DataLoader worker.

A dataset reads a folder (converted arrays, a release tree) or a single file (an
annotation pickle, an HDF5 file). :func:`check_data_path` turns the three ways a user
gets the path wrong (left out, missing, a folder where a file is read or the other
way round) into one :class:`~stgcn.errors.StgcnError` line each.

:class:`WorkerHandle` is for formats read through an open handle (h5py, zarr, a
memory map): a handle opened before the DataLoader starts its workers is either
pickled with the dataset (a memory map carries every clip; h5py refuses) or shared by
forked processes (HDF5 is not safe across a fork). The handle is opened on first use
in each process instead, and pickles as the way to open it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from stgcn.errors import StgcnError

HandleT = TypeVar("HandleT")

#: what a dataset's ``--data-path`` must be
PathKind = Literal["folder", "file", "either"]


def check_data_path(
    data_path: str | os.PathLike[str] | None,
    dataset: str,
    expect: PathKind = "either",
    usage: str = "",
) -> Path:
    """``data_path`` as a Path once it is given, exists and is what ``expect`` says.

    ``usage`` follows ``--data-path`` in the error for a path left out (``" FILE.pkl"``).
    The errors, one line each: ``dataset 'NAME' needs --data-path``, ``PATH not found``,
    ``PATH is a file; dataset 'NAME' reads a folder`` (and the reverse).
    """
    if data_path is None or str(data_path) == "":
        raise StgcnError(f"dataset {dataset!r} needs --data-path{usage}")
    path = Path(data_path)
    if not path.exists():
        raise StgcnError(f"{path} not found")
    if expect == "folder" and not path.is_dir():
        raise StgcnError(f"{path} is a file; dataset {dataset!r} reads a folder")
    if expect == "file" and path.is_dir():
        raise StgcnError(f"{path} is a folder; dataset {dataset!r} reads a file")
    return path


class WorkerHandle(Generic[HandleT]):
    """An open file (or any handle) for one process, opened on first :meth:`get`.

    ``WorkerHandle(h5py.File, path, "r")`` calls ``h5py.File(path, "r")`` the first time
    each process asks for it: the DataLoader's worker processes each open their own,
    whether they were forked (the parent's handle is left alone, never used) or
    spawned (the pickle holds ``opener`` and ``args`` only, which must pickle: a
    module-level function or class and plain values). :meth:`close` closes this
    process's handle where it has a ``close`` method; the next :meth:`get` opens again.
    """

    def __init__(self, opener: Callable[..., HandleT], *args: Any) -> None:
        self.opener = opener
        self.args = args
        self._handle: HandleT | None = None
        self._pid: int | None = None

    def get(self) -> HandleT:
        """This process's handle, opened now if it has none yet."""
        if self._handle is None or self._pid != os.getpid():
            self._handle = self.opener(*self.args)
            self._pid = os.getpid()
        return self._handle

    @property
    def is_open(self) -> bool:
        """Whether this process has opened the handle (a forked copy has not)."""
        return self._handle is not None and self._pid == os.getpid()

    def close(self) -> None:
        """Close this process's handle, if open; a handle inherited by a fork is dropped
        without closing (it belongs to the parent)."""
        handle, owned = self._handle, self.is_open
        self._handle, self._pid = None, None
        close = getattr(handle, "close", None)
        if owned and close is not None:
            close()

    def __enter__(self) -> HandleT:
        return self.get()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"opener": self.opener, "args": self.args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["opener"], *state["args"])  # type: ignore[misc]

    def __repr__(self) -> str:
        state = "open" if self.is_open else "not open"
        name = getattr(self.opener, "__qualname__", repr(self.opener))
        return f"WorkerHandle({name}, {', '.join(map(repr, self.args))}; {state})"
