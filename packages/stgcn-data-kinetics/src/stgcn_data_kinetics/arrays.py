"""Converted Kinetics-skeleton: ``{split}_data.npy`` read memory-mapped, ``{split}_label.pkl``.

The full training array is about 31 GB, so it is never read whole: opening maps it, and
each item copies out one clip. Everything that can be checked without reading the clips
is checked when the split is opened (the files exist, the array is a readable ``.npy`` of
rank 5 with 3 channels and 18 joints, as many clips as labels, labels in range), each
failure one line naming the file; non-finite values are found clip by clip as they are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stgcn.data import WorkerHandle
from stgcn.errors import StgcnError, first_line
from stgcn_data_kinetics.clip import CHANNELS, NUM_JOINT
from stgcn_data_kinetics.label_file import read_label_file


class MappedArray:
    """The clips of a converted ``.npy`` file, mapped rather than read.

    The map is a :class:`stgcn.data.WorkerHandle`: opened (and checked) here, and again
    on first use in each DataLoader worker; pickling (workers started by spawn or
    forkserver receive the dataset pickled) carries the path only, where a pickled
    ``numpy.memmap`` would carry every clip.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.handle = WorkerHandle(open_data_file, path)
        self.handle.get()

    @property
    def array(self) -> np.ndarray:
        return self.handle.get()

    def __len__(self) -> int:
        return len(self.array)

    def read(self, index: int) -> np.ndarray:
        return np.array(self.array[index], dtype=np.float32)


def open_data_file(path: Path) -> np.ndarray:
    """``path`` memory-mapped, checked to be a float array ``(N, 3, T, 18, M)`` with N >= 1."""
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError:
        raise
    except Exception as error:  # numpy's many ways of saying "not an .npy file"
        raise StgcnError(
            f"{path} is not a readable .npy array, truncated or corrupt "
            f"({first_line(error)[:120]}); convert it again"
        ) from None
    if not isinstance(array, np.ndarray):  # an .npz archive
        raise StgcnError(f"{path} is an .npz archive, not an .npy array")
    if array.ndim != 5:
        raise StgcnError(
            f"{path} has rank {array.ndim} (shape {array.shape}); expected rank 5: "
            "(clips, 3 channels, frames, 18 joints, persons)"
        )
    clips, channels, frames, joints, persons = array.shape
    if channels != CHANNELS:
        raise StgcnError(f"{path} has {channels} channels (shape {array.shape}); expected 3")
    if joints != NUM_JOINT:
        raise StgcnError(
            f"{path} has {joints} joints (shape {array.shape}); the openpose layout has 18"
        )
    if clips == 0 or frames == 0 or persons == 0:
        raise StgcnError(f"{path} holds no clips (shape {array.shape})")
    if array.dtype.kind != "f":
        raise StgcnError(f"{path} holds {array.dtype} values; expected float32")
    return array


def open_converted_split(
    folder: Path, split: str, num_class: int
) -> tuple[MappedArray, list[str], np.ndarray]:
    """The mapped clips, sample names and labels of one split, checked against each other."""
    data_path, label_path = folder / f"{split}_data.npy", folder / f"{split}_label.pkl"
    for path in (data_path, label_path):
        if not path.is_file():
            raise StgcnError(
                f"{path} not found (a converted Kinetics-skeleton folder holds "
                "train_data.npy, train_label.pkl, val_data.npy and val_label.pkl)"
            )
    source = MappedArray(data_path)
    names, labels = read_label_file(label_path)
    if len(source) != len(labels):
        raise StgcnError(
            f"{data_path} holds {len(source)} clips but {label_path} has {len(labels)} labels"
        )
    check_labels(label_path, labels, num_class)
    return source, names, labels


def check_labels(path: Path, labels: np.ndarray, num_class: int) -> None:
    outside = np.flatnonzero((labels < 0) | (labels >= num_class))
    if outside.size:
        index = int(outside[0])
        raise StgcnError(
            f"{path}: sample {index} has label {int(labels[index])}, outside [0, {num_class})"
        )
