"""The part of the conversion that runs in the worker processes: read clips, write rows.

Each worker opens the output array (a ``.npy`` file already created at full size)
memory-mapped for writing and fills the rows it is given, so that converted clips go
straight to the file instead of through a pipe to the parent. Rows never overlap
between tasks. Only numpy and the clip reader are imported here, so that where workers
start as fresh interpreters (spawn, off Linux) they do not import torch.
"""

from __future__ import annotations

import signal

import numpy as np

from stgcn_data_kinetics.clip import ClipError, ClipShape, read_clip

#: One task's rows: (row in the output array, clip file, label index from the label file).
Row = tuple[int, str, int]

_open_arrays: dict[str, np.ndarray] = {}


def ignore_interrupts() -> None:
    """Leave Ctrl-C to the parent, which stops the workers and removes the partial files;
    otherwise every idle worker would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_rows(data_file: str, rows: list[Row], shape: ClipShape) -> int:
    """Convert each clip into its row of ``data_file``; returns how many were written."""
    array = _open_arrays.get(data_file)
    if array is None:
        array = np.load(data_file, mmap_mode="r+")
        _open_arrays[data_file] = array
    for row, path, label in rows:
        clip = read_clip(path, shape)
        if clip.label_index is not None and clip.label_index != label:
            raise ClipError(
                f"{path}: label_index {clip.label_index} differs from {label} in the label file"
            )
        array[row] = clip.data
    return len(rows)
