"""Checkpoints: written atomically, read without running pickled code.

A checkpoint holds only tensors, numbers, strings, lists and dicts, so that
``torch.load(..., weights_only=True)`` accepts it and a tampered file cannot run
code. It is written to a temporary file in the same folder and renamed over the
old one: a run killed at any moment leaves either the old or the new file whole.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from stgcn.errors import StgcnError, first_line

FORMAT = "stgcn-checkpoint"
FORMAT_VERSION = 1


def _atomic_write(
    path: Path, write: Callable[[BinaryIO], object], keep_previous: Path | None = None
) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``; with
    ``keep_previous``, the old ``path`` is renamed there first. A failure (a full disk)
    removes the temporary file and leaves the old files as they were, and is one line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if keep_previous is not None and path.exists():
            os.replace(path, keep_previous)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        earlier = path.exists() or (keep_previous is not None and keep_previous.exists())
        kept = " (the previous one is kept)" if earlier else ""
        raise StgcnError(f"cannot write {path}: {error.strerror or error}{kept}") from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def previous_of(path: Path) -> Path:
    """Where the checkpoint that ``path`` replaced is kept: ``latest.prev.pth.tar``."""
    path = Path(path)
    stem = path.name.removesuffix(".pth.tar")
    return path.with_name(f"{stem}.prev.pth.tar")


def atomic_save(obj: Any, path: Path, keep_previous: bool = False) -> None:
    """``torch.save`` that never leaves a half-written file at ``path``; with
    ``keep_previous`` the checkpoint it replaces stays beside it (:func:`previous_of`),
    for a resume whose latest file turns out unreadable."""
    previous = previous_of(path) if keep_previous else None
    _atomic_write(path, lambda stream: torch.save(obj, stream), previous)


def load_latest(path: Path) -> Any:
    """The checkpoint at ``path``, or, where it is missing or unreadable (truncated by a
    full disk, a killed copy), the previous one with a warning line."""
    path = Path(path)
    previous = previous_of(path)
    try:
        return safe_load(path)
    except StgcnError as error:
        if not previous.is_file():
            raise
        state = safe_load(previous)
        print(
            f"stgcn: warning: {first_line(error)}; resuming from {previous} "
            f"(epoch {state.get('epoch', '?') if isinstance(state, dict) else '?'})",
            file=sys.stderr,
        )
        return state


def atomic_write_text(text: str, path: Path) -> None:
    _atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


def safe_load(path: str | os.PathLike[str]) -> Any:
    """Load a checkpoint or state_dict file; refuse anything that needs code to unpickle."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # whatever fails to parse is that file's problem, not a bug
        raise StgcnError(
            f"{path} is not a readable checkpoint ({first_line(error)[:160]})"
        ) from None


def is_stgcn_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def rng_state() -> dict[str, Any]:
    """Every random generator the trainer touches, in weights_only-safe types."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": _listify(random.getstate()),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached"],
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def _listify(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_listify(item) for item in value]
    return value
