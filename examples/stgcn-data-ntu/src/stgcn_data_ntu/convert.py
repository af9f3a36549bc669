"""Converting a raw folder into ``OUT/<benchmark>/{train,val}_data.npy`` and ``_label.pkl``.

Every file is written under a temporary name and renamed into place only when all of
a benchmark's files are complete, so an interrupted or failed conversion leaves what
was there before untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError
from stgcn_data_ntu.benchmarks import BENCHMARKS
from stgcn_data_ntu.dataset import data_file, label_file
from stgcn_data_ntu.label_file import write_label_file
from stgcn_data_ntu.release import read_ignore_list, release_split
from stgcn_data_ntu.skeleton_file import CHANNELS, NUM_JOINT, NUM_PERSON, read_skeleton_file

SPLITS = ("train", "val")


@dataclass
class Conversion:
    output: Path
    samples: dict[str, int] = field(default_factory=dict)


def convert_release(
    input_folder: str | Path,
    output_folder: str | Path,
    benchmarks: Iterable[str] = ("xsub", "xview"),
    ignore: str | Path | None = None,
    max_frames: int = 300,
    overwrite: bool = False,
) -> Conversion:
    source, output = Path(input_folder), Path(output_folder)
    if not source.is_dir():
        raise StgcnError(f"{source} is not a folder")
    ignored = read_ignore_list(ignore)
    result = Conversion(output)
    for name in benchmarks:
        benchmark = BENCHMARKS[name]
        folder = output / name
        targets = [path(folder, split) for split in SPLITS for path in (data_file, label_file)]
        present = [target for target in targets if target.exists()]
        if present and not overwrite:
            raise StgcnError(f"{present[0]} exists; pass --overwrite to replace it")
        chosen = {split: release_split(source, benchmark, split, ignored) for split in SPLITS}
        folder.mkdir(parents=True, exist_ok=True)
        written: list[tuple[Path, Path]] = []
        try:
            for split, samples in chosen.items():
                temporary = folder / f".{split}_data.npy.partial"
                array = np.lib.format.open_memmap(
                    temporary,
                    mode="w+",
                    dtype=np.float32,
                    shape=(len(samples), CHANNELS, max_frames, NUM_JOINT, NUM_PERSON),
                )
                for index, (path, _) in enumerate(samples):
                    array[index] = read_skeleton_file(path, max_frames)
                array.flush()
                del array
                written.append((temporary, data_file(folder, split)))
                labels = folder / f".{split}_label.pkl.partial"
                write_label_file(
                    labels, [s.name for _, s in samples], [s.label for _, s in samples]
                )
                written.append((labels, label_file(folder, split)))
                result.samples[f"{name} {split}"] = len(samples)
        except BaseException:
            for temporary, _ in written:
                temporary.unlink(missing_ok=True)
            for split in SPLITS:
                (folder / f".{split}_data.npy.partial").unlink(missing_ok=True)
            raise
        for temporary, final in written:
            os.replace(temporary, final)
    return result
