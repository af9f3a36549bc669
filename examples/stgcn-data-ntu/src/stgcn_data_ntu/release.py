"""A folder of raw ``.skeleton`` files: which ones belong to a benchmark's split."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from stgcn.errors import StgcnError
from stgcn_data_ntu.benchmarks import Benchmark
from stgcn_data_ntu.classes import NUM_CLASS
from stgcn_data_ntu.sample_name import SUFFIX, SampleName, parse_sample_name


def skeleton_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{SUFFIX}"))


def read_ignore_list(path: str | Path | None) -> frozenset[str]:
    """Sample names to leave out, one a line (the release's list of samples whose
    skeletons are missing); blank lines and ``#`` comments are skipped."""
    if path is None:
        return frozenset()
    file = Path(path)
    if not file.is_file():
        raise StgcnError(f"ignore list {file} not found")
    names = (line.split("#", 1)[0].strip() for line in file.read_text().splitlines())
    return frozenset(name.removesuffix(SUFFIX) for name in names if name)


def split_samples(
    files: Iterable[Path], benchmark: Benchmark, split: str, ignored: frozenset[str]
) -> list[tuple[Path, SampleName]]:
    """The files of ``split`` under ``benchmark``, in name order, ignored ones left out."""
    chosen = []
    for path in files:
        sample = parse_sample_name(path.name, NUM_CLASS)
        if sample.name in ignored:
            continue
        if benchmark.split_of(sample) == split:
            chosen.append((path, sample))
    return chosen


def release_split(
    folder: Path, benchmark: Benchmark, split: str, ignored: frozenset[str]
) -> list[tuple[Path, SampleName]]:
    files = skeleton_files(folder)
    if not files:
        raise StgcnError(f"{folder}: no .skeleton files and no converted arrays")
    chosen = split_samples(files, benchmark, split, ignored)
    if not chosen:
        raise StgcnError(
            f"{folder}: none of the {len(files)} .skeleton files is in the "
            f"{benchmark.name} {split} split"
        )
    return chosen
