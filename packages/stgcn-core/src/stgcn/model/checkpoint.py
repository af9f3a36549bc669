"""Checkpoints: one record type, written atomically, read without running pickled code.

:class:`Checkpoint` is what a checkpoint holds; :meth:`Checkpoint.write` is its one
writer and :meth:`Checkpoint.from_file` its one reader (which also takes the
reference's bare state_dicts), so no other module knows the file's keys.

On disk a checkpoint is a dict of tensors, numbers, strings, lists and dicts only, so
that ``torch.load(..., weights_only=True)`` accepts it and a tampered file cannot run
code. It is written to a temporary file in the same folder and renamed over the
old one: a run killed at any moment leaves either the old or the new file whole.

``format_version`` promises: a reader accepts every checkpoint of its own major
version or an older one (keys added later are optional, read with a default), and
refuses one of a newer major version with one line naming both versions. Adding an
optional key keeps the version; changing what an existing key means raises it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from stgcn.errors import StgcnError, first_line

FORMAT = "stgcn-checkpoint"
FORMAT_VERSION = 1

#: where the checkpoints of other codebases (mmcv's and mmengine's, as PYSKL and
#: mmaction2 write them: ``{"meta": ..., "state_dict": ...}``; PyTorch Lightning's) keep
#: the network's tensors beside their own records: read as a bare state_dict
NESTED_STATE_DICT = "state_dict"

#: the key of the dataset's facts (stgcn.data.facts.facts_of) in the file
DATA_FACTS_KEY = "data_facts"
#: the key in ``data_facts`` holding the frames of the clips the model was trained on,
#: so that ``stgcn info`` counts the model's own sample (absent in older checkpoints)
CLIP_FRAMES_KEY = "clip_frames"


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """What a checkpoint holds: the model, its data, the run, and where the run stood.

    A bare state_dict (the reference's released models) is a Checkpoint with
    ``weights`` alone and ``model_config`` None (:attr:`is_bare`): its configuration is
    recognised from its tensors by a model plugin (:mod:`stgcn.networks.loading`).
    """

    #: the network's state_dict (no wrapper prefix)
    weights: dict[str, Any]
    #: what rebuilds the network (its ``config()``: stgcn.model.contract); None for a
    #: bare state_dict
    model_config: dict[str, Any] | None = None
    #: the registered model that built it (None in files written before models were
    #: plugins, which are ST-GCN's)
    model_name: str | None = None
    #: the run's configuration (RunConfig.to_dict())
    run_config: dict[str, Any] = field(default_factory=dict)
    #: the dataset's name, its facts (stgcn.data.facts.facts_of) and class names
    dataset: str | None = None
    data_facts: dict[str, Any] | None = None
    class_names: list[str] | None = None
    #: what a resume restores: the optimizer, the precision (loss scaler), the generators
    optimizer: dict[str, Any] | None = None
    precision_state: dict[str, Any] | None = None
    rng: dict[str, Any] | None = None
    #: epochs done, the best validation top-1 so far
    epoch: int | None = None
    best_top1: float | None = None
    #: a step checkpoint's place in its epoch (EpochPosition.to_dict()); None at an epoch's end
    position: dict[str, Any] | None = None
    format_version: int = FORMAT_VERSION

    @property
    def is_bare(self) -> bool:
        """A state_dict without stgcn's record of the model and the run."""
        return self.model_config is None

    @property
    def run_dataset(self) -> str | None:
        """The dataset the run was configured with (its ``--dataset``)."""
        return self.run_config.get("dataset")

    def at(self, position: dict[str, Any]) -> Checkpoint:
        """This checkpoint as a step checkpoint at ``position``."""
        return replace(self, position=position)

    def to_dict(self) -> dict[str, Any]:
        """The dict on disk (its keys and their order are the file format)."""
        saved: dict[str, Any] = {
            "format": FORMAT,
            "format_version": self.format_version,
            "model": self.weights,
            "model_config": self.model_config,
            "optimizer": self.optimizer,
            "scaler": self.precision_state,
            "epoch": self.epoch,
            "best_top1": self.best_top1,
            "config": self.run_config,
            "dataset": self.dataset,
            "class_names": self.class_names,
            DATA_FACTS_KEY: self.data_facts,
            "rng": self.rng,
        }
        if self.position is not None:
            saved["position"] = self.position
        if self.model_name is not None:  # absent: ST-GCN, as in files from before
            saved["model_name"] = self.model_name
        return saved

    def write(self, path: Path, keep_previous: bool = False) -> None:
        """Save atomically (:func:`atomic_save`); with ``keep_previous`` the file it
        replaces stays beside it (:func:`previous_of`)."""
        atomic_save(self.to_dict(), path, keep_previous=keep_previous)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """A stgcn checkpoint or a bare state_dict (also one nested under
        ``state_dict``), loaded without running pickled code."""
        return cls.from_object(safe_load(path), str(path))

    @classmethod
    def from_object(cls, obj: Any, source: str) -> Checkpoint:
        """The record of what ``torch.load`` read from ``source`` (named in errors)."""
        if is_stgcn_checkpoint(obj):
            return cls._from_saved(obj, source)
        if isinstance(obj, Mapping) and isinstance(obj.get(NESTED_STATE_DICT), Mapping):
            obj = obj[NESTED_STATE_DICT]  # mmcv's, mmengine's, Lightning's checkpoints
        if isinstance(obj, Mapping) and all(isinstance(key, str) for key in obj):
            return cls(weights=strip_prefix(obj))
        raise StgcnError(f"{source} holds neither a stgcn checkpoint nor a state_dict")

    @classmethod
    def _from_saved(cls, saved: Mapping[str, Any], source: str) -> Checkpoint:
        version = saved.get("format_version", 1)
        if _major(version) > FORMAT_VERSION:
            raise StgcnError(
                f"{source} is a checkpoint of format version {version}, newer than this "
                f"stgcn reads ({FORMAT_VERSION}); upgrade stgcn to read it"
            )
        epoch, best = saved.get("epoch"), saved.get("best_top1")
        names = saved.get("class_names")
        return cls(
            weights=saved["model"],
            model_config=dict(saved["model_config"]),
            model_name=saved.get("model_name"),
            run_config=dict(saved.get("config") or {}),
            dataset=saved.get("dataset"),
            data_facts=saved.get(DATA_FACTS_KEY),
            class_names=list(names) if names is not None else None,
            optimizer=saved.get("optimizer"),
            precision_state=saved.get("scaler"),
            rng=saved.get("rng"),
            epoch=int(epoch) if epoch is not None else None,
            best_top1=float(best) if best is not None else None,
            position=saved.get("position") or None,
            format_version=version,
        )


def _major(version: Any) -> int:
    """The major part of a format version (an int today; "2.1" would be major 2)."""
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return FORMAT_VERSION + 1  # not a version this reader knows: refused as newer


def strip_prefix(state_dict: Mapping[str, Any], prefix: str = "module.") -> dict[str, Any]:
    """Drop the wrapper prefix that DataParallel/DistributedDataParallel add to keys."""
    if state_dict and all(key.startswith(prefix) for key in state_dict):
        return {key[len(prefix) :]: value for key, value in state_dict.items()}
    return dict(state_dict)


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


def load_latest(path: Path) -> Checkpoint:
    """The checkpoint at ``path``, or, where it is missing or unreadable (truncated by a
    full disk, a killed copy), the previous one with a warning line."""
    path = Path(path)
    previous = previous_of(path)
    try:
        return Checkpoint.from_file(path)
    except StgcnError as error:
        if not previous.is_file():
            raise
        state = Checkpoint.from_file(previous)
        epoch = "?" if state.epoch is None else state.epoch
        print(
            f"stgcn: warning: {first_line(error)}; resuming from {previous} (epoch {epoch})",
            file=sys.stderr,
        )
        return state


def atomic_write_text(text: str, path: Path) -> None:
    _atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


def safe_load(path: str | os.PathLike[str]) -> Any:
    """Load a checkpoint or state_dict file; refuse anything that needs code to unpickle.

    A file that is not one is refused in one whole line saying what it is instead
    (:func:`not_a_checkpoint`); torch's warning about a pickle protocol it did not
    write is not shown, since the refusal says all there is to say."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings(), _admitting_numpy_values():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # whatever fails to parse is that file's problem, not a bug
        raise StgcnError(not_a_checkpoint(path, error)) from None


#: the modules numpy's scalar and array reconstructors are named by in a pickle: numpy 1
#: wrote ``numpy.core.multiarray`` (mmcv-era files), numpy 2 writes ``numpy._core``
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
#: the numpy dtypes a checkpoint's values may have: bool, ints, floats, complex, text
_NUMPY_KINDS = "?bhilqpBHILQPefdgFDGSU"


def numpy_values() -> list[Any]:
    """What ``torch.load(weights_only=True)`` must admit, beyond tensors and plain data,
    to read numpy scalars and arrays of numbers or text, and nothing else: numpy's scalar
    and array reconstructors, ``numpy.ndarray``, ``numpy.dtype`` and the dtype classes of
    those kinds (which the pickle rebuilds from their state).

    mmcv's ``save_checkpoint`` (PYSKL's and mmaction2's files) leaves such values in
    ``meta``: a hook's best score is a ``numpy.float64``. Object and structured dtypes
    stay refused (their classes are not admitted), and so does every other global; these
    are admitted for the one ``torch.load`` of :func:`safe_load`, never process-wide."""
    multiarray: Any = getattr(np, "_core", None)  # numpy 2
    multiarray = (multiarray if multiarray is not None else np.core).multiarray
    admitted: list[Any] = [np.ndarray, np.dtype]
    for module in _NUMPY_CORE:
        admitted.append((multiarray.scalar, f"{module}.scalar"))
        admitted.append((multiarray._reconstruct, f"{module}._reconstruct"))
    admitted.extend({type(np.dtype(code)) for code in _NUMPY_KINDS})
    return admitted


def _torch_release() -> tuple[int, int]:
    """This torch's major and minor version (``2.13.0+cpu`` is ``(2, 13)``)."""
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int("".join(filter(str.isdigit, minor)) or 0)


def _admitting_numpy_values() -> contextlib.AbstractContextManager[Any]:
    """:func:`numpy_values` admitted for the duration of a load, where this torch can
    scope them under numpy 1's names too (``safe_globals`` taking ``(value, name)``
    pairs: 2.6 and later); an older torch refuses such files as before."""
    scoped = getattr(torch.serialization, "safe_globals", None)
    if scoped is None or _torch_release() < (2, 6):
        return contextlib.nullcontext()
    return scoped(numpy_values())


#: how every file ``torch.save`` writes in its legacy (non-zip) format begins: the pickled
#: magic number (protocol 2)
_LEGACY_TORCH_START = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def not_a_checkpoint(path: Path, error: BaseException) -> str:
    """The one line for a file ``torch.load(weights_only=True)`` refused: what the file
    is, as far as its first bytes tell, rather than torch's advice to load it with
    ``weights_only=False`` (which would run whatever code it holds)."""
    return f"{path} is not a readable checkpoint: {_what_file(path, error)}"


def _what_file(path: Path, error: BaseException) -> str:
    with path.open("rb") as stream:
        start = stream.read(len(_LEGACY_TORCH_START))
    if not start:
        return "the file is empty"
    torch_file = start == _LEGACY_TORCH_START
    if start.startswith(b"PK\x03\x04"):  # a zip archive, which is what torch.save writes
        if not zipfile.is_zipfile(path):
            return "a damaged or truncated zip archive (as PyTorch writes), not one stgcn can read"
        with zipfile.ZipFile(path) as archive:
            torch_file = any(name.endswith("data.pkl") for name in archive.namelist())
        if not torch_file:
            return "a zip archive (an .npz, say), not a stgcn or PyTorch checkpoint"
    if torch_file and isinstance(error, pickle.UnpicklingError):
        return (
            "a PyTorch file holding Python objects besides tensors and plain data (a whole "
            "pickled model, say), not a stgcn checkpoint or a state_dict; stgcn does not "
            "unpickle those, since that could run code"
        )
    if torch_file:
        return "a damaged or truncated PyTorch file, not a checkpoint stgcn can read"
    if start.startswith(b"\x80"):
        return (
            "a Python pickle, not a stgcn or PyTorch checkpoint; stgcn does not unpickle "
            "other files, since that could run code"
        )
    return "not a stgcn or PyTorch checkpoint (nor any other file torch.save writes)"


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
