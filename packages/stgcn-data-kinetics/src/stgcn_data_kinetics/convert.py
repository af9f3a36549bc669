"""``stgcn data convert kinetics``: a release tree into the four files training reads.

Output: ``{train,val}_data.npy``, float32 ``(N, 3, max_frame, 18, num_person_out)``, and
``{train,val}_label.pkl``, a pickle of ``(sample_names, labels)``, with the values of the
reference conversion (see :mod:`stgcn_data_kinetics.clip`). The whole tree is listed and
checked before anything is written. The arrays are created at full size under temporary
names in the output folder, filled in place by a pool of processes (one per core), and
only when all four files are complete and on disk are they renamed to their final names:
an interrupted or failed conversion leaves no file that looks like finished output.
"""

from __future__ import annotations

import errno
import math
import multiprocessing
import os
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from stgcn.errors import StgcnError, first_line
from stgcn.system.cores import available_cores
from stgcn_data_kinetics.clip import REFERENCE_SHAPE, ClipError, ClipShape
from stgcn_data_kinetics.convert_worker import Row, ignore_interrupts, write_rows
from stgcn_data_kinetics.label_file import write_label_file
from stgcn_data_kinetics.release import SPLITS, ReleaseSplit, read_release_split

TEMPORARY_SUFFIX = ".incomplete"
_MAX_CHUNK = 256


def data_name(split: str) -> str:
    return f"{split}_data.npy"


def label_name(split: str) -> str:
    return f"{split}_label.pkl"


def output_names() -> list[str]:
    return [name for split in SPLITS for name in (data_name(split), label_name(split))]


@dataclass(frozen=True)
class Conversion:
    """What a conversion wrote: clips per split, clips left out for lack of skeletons, and
    how many worker processes converted them."""

    output: Path
    clips: dict[str, int]
    without_skeleton: dict[str, int]
    workers: int


def convert_release(
    input_root: str | os.PathLike[str],
    output_root: str | os.PathLike[str],
    shape: ClipShape = REFERENCE_SHAPE,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Conversion:
    """Convert a release tree; every problem is a one-line StgcnError and leaves no output."""
    problem = shape.problem()
    if problem:
        raise StgcnError(f"kinetics convert: {problem}")
    if workers is not None and workers < 1:
        raise StgcnError(f"kinetics convert: workers must be at least 1, got {workers}")
    input_root, output_root = Path(input_root), Path(output_root)
    if not input_root.is_dir():
        raise StgcnError(f"{input_root} not found (expected a Kinetics-skeleton release tree)")
    releases = [read_release_split(input_root, split) for split in SPLITS]
    for release in releases:
        if not release.names:
            raise StgcnError(f"{input_root}: the {release.split} split has no clip with skeletons")
    finals = [output_root / name for name in output_names()]
    existing = [final for final in finals if final.exists()]
    if existing and not overwrite:
        raise StgcnError(f"{existing[0]} already exists; pass --overwrite to replace it")
    output_root.mkdir(parents=True, exist_ok=True)
    _check_room(output_root, releases, shape)

    workers = min(workers or available_cores(), sum(len(release.names) for release in releases))
    temporaries: list[Path] = []
    try:
        arrays = []
        for release in releases:
            temporary = _temporary(output_root, data_name(release.split))
            temporaries.append(temporary)
            _create_array(temporary, (len(release.names), *shape.array_shape))
            arrays.append(temporary)
        _fill(releases, arrays, shape, workers, progress)
        for release in releases:
            temporary = _temporary(output_root, label_name(release.split))
            temporaries.append(temporary)
            write_label_file(temporary, release.names, release.labels)
        for temporary in temporaries:
            _sync(temporary)
        for final in existing:  # no mix of old and new files if the renames are cut short
            final.unlink()
        for temporary in temporaries:
            os.replace(temporary, temporary.with_name(temporary.name[: -len(TEMPORARY_SUFFIX)]))
        _sync(output_root)
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    return Conversion(
        output_root,
        {release.split: len(release.names) for release in releases},
        {release.split: release.without_skeleton for release in releases},
        workers,
    )


def _temporary(folder: Path, name: str) -> Path:
    return folder / f"{name}{TEMPORARY_SUFFIX}"


def _array_bytes(count: int, shape: ClipShape) -> int:
    return count * math.prod(shape.array_shape) * np.dtype(np.float32).itemsize


def _check_room(folder: Path, releases: list[ReleaseSplit], shape: ClipShape) -> None:
    needed = sum(_array_bytes(len(release.names), shape) for release in releases)
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise StgcnError(
            f"{folder} has {free / 1e9:.2f} GB free; the converted arrays need "
            f"{needed / 1e9:.2f} GB"
        )


def _create_array(path: Path, shape: tuple[int, ...]) -> None:
    """A zero ``.npy`` of ``shape`` with its disk blocks reserved where the file system can,
    so that a full disk fails here rather than in a worker writing through a memory map."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    del array
    if not hasattr(os, "posix_fallocate"):
        return
    with open(path, "r+b") as stream:
        try:
            os.posix_fallocate(stream.fileno(), 0, os.fstat(stream.fileno()).st_size)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise StgcnError(f"no room left on the disk of {path.parent}") from None
            # file systems without fallocate: the free-space check has to do


def _chunks(release: ReleaseSplit, workers: int) -> Iterator[list[Row]]:
    size = max(1, min(_MAX_CHUNK, math.ceil(len(release.names) / (4 * workers))))
    rows = [
        (row, str(path), label)
        for row, (path, label) in enumerate(zip(release.paths, release.labels, strict=True))
    ]
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _fill(
    releases: list[ReleaseSplit],
    arrays: list[Path],
    shape: ClipShape,
    workers: int,
    progress: bool,
) -> None:
    context = multiprocessing.get_context(_start_method())
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=ignore_interrupts
    )
    finished = False
    try:
        for release, array in zip(releases, arrays, strict=True):
            futures = [
                pool.submit(write_rows, str(array), rows, shape)
                for rows in _chunks(release, workers)
            ]
            with tqdm(
                total=len(release.names),
                desc=f"kinetics {release.split}",
                unit="clip",
                disable=not progress,
            ) as bar:
                for future in as_completed(futures):
                    bar.update(future.result())
        finished = True
    except ClipError as error:
        raise StgcnError(str(error)) from None
    except BrokenProcessPool as error:
        raise StgcnError(f"a conversion worker process died ({first_line(error)})") from None
    finally:
        if not finished:
            _stop_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now: after a failure or Ctrl-C their rows are not wanted, and a worker
    stuck on an unreadable file would otherwise keep the command from exiting."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14 and later
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _start_method() -> str:
    """Fork on Linux: the workers then inherit the imports instead of starting a fresh
    interpreter each, which re-imports the command's module and so torch (seconds per
    worker). The parent has started no thread when the pool forks (all workers start at
    the first submit, before the executor's own thread) and the workers never touch torch.
    Elsewhere fork is unsafe or missing, and spawn is used."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _sync(path: Path) -> None:
    """Flush a file (or a folder's entries) to the disk; best effort for folders."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        if not path.is_dir():
            raise
    finally:
        os.close(descriptor)
