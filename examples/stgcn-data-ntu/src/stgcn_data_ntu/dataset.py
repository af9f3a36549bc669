"""Building a split from converted arrays or straight from raw ``.skeleton`` files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from stgcn.data import fit_clip, used_frames
from stgcn.errors import StgcnError
from stgcn.records import BuildRequest, SampleRequest
from stgcn_data_ntu.benchmarks import Benchmark
from stgcn_data_ntu.classes import NUM_CLASS
from stgcn_data_ntu.label_file import read_label_file
from stgcn_data_ntu.options import NtuOptions, parse_options
from stgcn_data_ntu.release import read_ignore_list, release_split
from stgcn_data_ntu.skeleton_file import CHANNELS, NUM_JOINT, NUM_PERSON, read_skeleton_file


def data_file(folder: Path, split: str) -> Path:
    return folder / f"{split}_data.npy"


def label_file(folder: Path, split: str) -> Path:
    return folder / f"{split}_label.pkl"


def sampled(clip: np.ndarray, settings: NtuOptions, train: bool) -> np.ndarray:
    """A clip padded to ``max_frames`` as its sample: as it is (``sampling=window``), or
    ``clip_len`` frames sampled uniformly from the frames it really has, ``num_clips``
    of them for validation (a clip axis)."""
    if settings.sampling == "window":
        return clip
    clips = 1 if train else settings.num_clips
    used = clip[:, : used_frames(clip)]
    taken = fit_clip(used, settings.clip_len, train=train, num_clips=clips)
    return taken if clips > 1 else taken[0]


class ConvertedClips(TorchDataset[tuple[torch.Tensor, int]]):
    """Clips of a converted ``.npy`` array, memory-mapped; pickles as its path only."""

    def __init__(
        self,
        folder: Path,
        split: str,
        max_frames: int,
        settings: NtuOptions | None = None,
        train: bool | None = None,
    ) -> None:
        self.folder, self.split, self.max_frames = folder, split, max_frames
        self.settings = settings or NtuOptions(max_frames)
        #: sampled at random (training), or as validation clips (by default: not "train")
        self.train = split == "train" if train is None else train
        self.names, self.labels = read_label_file(label_file(folder, split), NUM_CLASS)
        self.array = _open_array(data_file(folder, split))
        if len(self.array) != len(self.labels):
            raise StgcnError(
                f"{data_file(folder, split)} holds {len(self.array)} samples but "
                f"{label_file(folder, split)} has {len(self.labels)} labels"
            )

    def __getstate__(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "split": self.split,
            "max_frames": self.max_frames,
            "settings": self.settings,
            "train": self.train,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        ConvertedClips.__init__(
            self,
            state["folder"],
            state["split"],
            state["max_frames"],
            state["settings"],
            state["train"],
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        clip = np.array(self.array[index, :, : self.max_frames], dtype=np.float32)
        frames = clip.shape[1]
        if frames < self.max_frames:
            clip = np.pad(clip, ((0, 0), (0, self.max_frames - frames), (0, 0), (0, 0)))
        clip = sampled(clip, self.settings, self.train)
        return torch.from_numpy(np.ascontiguousarray(clip)), self.labels[index]


def _open_array(path: Path) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError:
        raise
    except Exception as error:  # numpy's many ways of saying "not an .npy file"
        raise StgcnError(f"{path}: not a readable .npy array ({error}); convert again") from None
    expected = (CHANNELS, NUM_JOINT, NUM_PERSON)
    if array.ndim != 5 or (array.shape[1], array.shape[3], array.shape[4]) != expected:
        raise StgcnError(f"{path}: shape {array.shape}, expected (N, 3, T, 25, 2)")
    return array


class RawClips(TorchDataset[tuple[torch.Tensor, int]]):
    """Clips read from their ``.skeleton`` files as they are asked for (small sets)."""

    def __init__(
        self,
        files: list[Path],
        labels: list[int],
        max_frames: int,
        settings: NtuOptions | None = None,
        train: bool = False,
    ) -> None:
        self.files, self.labels, self.max_frames = files, labels, max_frames
        self.settings, self.train = settings or NtuOptions(max_frames), train

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        clip = sampled(
            read_skeleton_file(self.files[index], self.max_frames), self.settings, self.train
        )
        return torch.from_numpy(np.ascontiguousarray(clip)), self.labels[index]


def converted_folder(data_path: Path, benchmark: Benchmark) -> Path | None:
    """Where the converted arrays are: ``DIR/<benchmark>/`` (as the converter writes) or
    ``DIR`` itself; None for a folder without them."""
    for folder in (data_path / benchmark.name, data_path):
        if data_file(folder, "train").is_file() or data_file(folder, "val").is_file():
            return folder
    return None


def build(benchmark: Benchmark, request: BuildRequest) -> TorchDataset[tuple[torch.Tensor, int]]:
    """One split of one benchmark (the record binds ``benchmark``), sampled at random
    where the request is for ``training``."""
    split, data_path = request.split, request.data_path
    settings = parse_options(request.options)
    train = request.training
    if data_path is None:
        raise StgcnError(f"ntu-{benchmark.name} needs --data-path")
    if not data_path.is_dir():
        raise StgcnError(f"ntu-{benchmark.name}: {data_path} is not a folder")
    folder = converted_folder(data_path, benchmark)
    if folder is not None:
        for path in (data_file(folder, split), label_file(folder, split)):
            if not path.is_file():
                raise StgcnError(f"{path} not found (run stgcn data convert ntu again)")
        return ConvertedClips(folder, split, settings.max_frames, settings, train)
    ignored = read_ignore_list(settings.ignore)
    chosen = release_split(data_path, benchmark, split, ignored)
    return RawClips(
        [path for path, _ in chosen],
        [s.label for _, s in chosen],
        settings.max_frames,
        settings,
        train,
    )


def read_sample(request: SampleRequest) -> np.ndarray:
    """One raw ``.skeleton`` file for ``stgcn predict``, read to the model's
    ``max_frames`` as its training clips were."""
    return read_skeleton_file(request.path, parse_options(request.options).max_frames)
