"""The score file: one ``.npz`` per evaluated model.

Arrays: ``sample_ids`` (str, N), ``labels`` (int64, N), ``scores`` (float32, N x
num_class: softmax probabilities, averaged over clips where a dataset tests several)
and ``class_names`` (str, num_class), and ``modality`` (the stream: joint, bone, ...;
optional in files from elsewhere). Written and read without pickles, so a score file
from anyone can be opened safely.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError, first_line

ARRAYS = ("sample_ids", "labels", "scores", "class_names")


@dataclass(frozen=True)
class ScoreFile:
    path: str
    sample_ids: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    class_names: np.ndarray
    modality: str | None = None

    @property
    def num_class(self) -> int:
        return int(self.scores.shape[1])


def scores_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a score file's name, refused unless it ends in .npz (numpy would add
    the suffix itself, and the file would not be where the user looks)."""
    target = Path(path)
    if target.suffix != ".npz":
        raise StgcnError(f"--save-scores needs a .npz file name, got {path}")
    return target


def save_scores(
    path: str | os.PathLike[str],
    sample_ids: Sequence[str],
    labels: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
    modality: str = "joint",
) -> None:
    """Write the arrays to ``path`` through a temporary file, so a crash leaves no half file."""
    target = scores_path(path)
    temporary = target.with_name(f".{target.name}.partial.npz")
    try:
        np.savez(
            temporary,
            sample_ids=np.asarray(list(sample_ids), dtype=np.str_),
            labels=np.asarray(labels, dtype=np.int64),
            scores=np.asarray(scores, dtype=np.float32),
            class_names=np.asarray(list(class_names), dtype=np.str_),
            modality=np.asarray(modality, dtype=np.str_),
        )
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise StgcnError(f"cannot write {path}: {error.strerror or error}") from None


def load_scores(path: str | os.PathLike[str]) -> ScoreFile:
    """Read and check one score file; any problem is one line naming the file."""
    name = str(path)
    try:
        arrays, modality = _read_arrays(path)
    except FileNotFoundError:
        raise StgcnError(f"score file not found: {name}") from None
    except StgcnError:
        raise
    except Exception as error:
        # numpy's and zipfile's many ways of saying "not an intact .npz": BadZipFile,
        # a bad CRC, zlib.error, NotImplementedError for an unknown compression method,
        # RuntimeError for an encrypted member, ValueError for an object array
        raise StgcnError(
            f"{name} is not a readable .npz score file ({first_line(error)[:120]})"
        ) from None
    ids, labels, scores, names = (arrays[key] for key in ARRAYS)
    if scores.ndim != 2 or not np.issubdtype(scores.dtype, np.floating):
        raise StgcnError(f"{name}: scores must be a float array of samples x classes")
    if scores.shape[1] == 0:
        raise StgcnError(f"{name}: scores has no class column")
    if ids.ndim != 1 or labels.ndim != 1 or len(ids) != len(scores) or len(labels) != len(ids):
        raise StgcnError(f"{name}: sample_ids, labels and scores differ in length")
    if not np.issubdtype(labels.dtype, np.integer) or ids.dtype.kind != "U":
        raise StgcnError(f"{name}: labels must be integers and sample_ids strings")
    if len(np.unique(ids)) != len(ids):
        raise StgcnError(f"{name}: a sample id occurs twice")
    if not np.isfinite(scores).all():
        raise StgcnError(f"{name}: scores hold non-finite values")
    return ScoreFile(name, ids, labels.astype(np.int64), scores.astype(np.float64), names, modality)


def _read_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], str | None]:
    """The score arrays and the modality of the archive at ``path``, read in full (every
    member is decompressed and checked here, inside :func:`load_scores`'s handler)."""
    name = str(path)
    with open(path, "rb") as stream:
        loaded = np.load(stream, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise StgcnError(f"{name} is a single .npy array, not an .npz score file")
        with loaded as archive:
            missing = [key for key in ARRAYS if key not in archive.files]
            if missing:
                raise StgcnError(f"{name} is not a stgcn score file: no {missing[0]!r} array")
            arrays = {key: archive[key] for key in ARRAYS}
            modality = str(archive["modality"]) if "modality" in archive.files else None
    return arrays, modality
