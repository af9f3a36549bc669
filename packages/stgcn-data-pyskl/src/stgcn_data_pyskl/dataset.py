"""The ``pyskl`` dataset: splits of an annotation file as stgcn samples.

A sample is float32 ``(3, frames, joints, 2)``: channels x, y, score (2D) or x, y, z
(3D), the first two persons of the clip (zeros where it has fewer). With
``num_clips=K > 1`` a validation sample is ``(K, 3, frames, joints, 2)``, whose scores
the core's evaluation averages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from stgcn.data import fit_clip
from stgcn.errors import StgcnError
from stgcn.plugins.layouts import layout_names, layouts_with_joints, resolve_layout
from stgcn.records import (
    BuildRequest,
    DataFacts,
    DescribeRequest,
    Layout,
    NamedClipRequest,
    SampleRequest,
)
from stgcn_data_pyskl.annotations import PERSONS, Annotations, load
from stgcn_data_pyskl.options import PysklOptions, parse_options

#: the layout PYSKL's pickles of a joint count are in where more than one registered
#: layout has that count (25 joints: ``ntu-rgb+d`` and ``openpose-body25``: NTU RGB+D,
#: PYSKL's; 17: ``coco``, 18: ``openpose``, also where a plugin brings another of that
#: count); ``layout=`` names another. Any other count means the one registered layout of it
LAYOUT_FOR_JOINTS = {17: "coco", 18: "openpose", 25: "ntu-rgb+d"}


def _annotation_path(data_path: Path | None) -> Path:
    if data_path is None:
        raise StgcnError("dataset 'pyskl' needs --data-path FILE.pkl")
    return Path(data_path)


def layout_of(annotations: Annotations, options: PysklOptions) -> str | Layout:
    """``layout=`` (a registered layout's name or a .json file of num_node, edges,
    center), else the one the joint count means; it must have the file's joint count."""
    known = layout_names()
    chosen: str | Layout
    if options.layout is None:
        chosen = _layout_for_joints(annotations)
    elif options.layout in known:
        chosen = options.layout
    else:
        chosen = _layout_file(Path(options.layout), known)
    joints = resolve_layout(chosen).num_node
    if joints != annotations.joints:
        raise StgcnError(
            f"layout {options.layout!r} has {joints} joints; {annotations.path} has "
            f"{annotations.joints}"
        )
    return chosen


def _layout_for_joints(annotations: Annotations) -> str:
    """PYSKL's layout of the file's joint count, else the one registered layout of it."""
    joints = annotations.joints
    fitting = [layout.name for layout in layouts_with_joints(joints)]
    if joints in LAYOUT_FOR_JOINTS and LAYOUT_FOR_JOINTS[joints] in fitting:
        return LAYOUT_FOR_JOINTS[joints]
    if len(fitting) == 1:
        return fitting[0]
    which = f"fits the layouts {', '.join(fitting)}" if fitting else "has no default layout"
    raise StgcnError(
        f"{annotations.path}: {joints} joints {which}; "
        "name one with --data-option layout=NAME or layout=FILE.json"
    )


def _layout_file(path: Path, known: list[str]) -> Layout:
    if path.suffix.lower() != ".json" or not path.is_file():
        raise StgcnError(
            f"layout {str(path)!r} is neither one of {', '.join(known)} nor a .json file"
        )
    try:
        return resolve_layout(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StgcnError(f"layout file {path}: {error}") from None


def class_names(annotations: Annotations, options: PysklOptions) -> list[str]:
    """``classes=FILE`` (one name a line), else "class N" for labels 0 .. max."""
    if options.classes is None:
        return [f"class {index}" for index in range(annotations.num_class)]
    path = Path(options.classes)
    if not path.is_file():
        raise StgcnError(f"classes file not found: {path}")
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [name for name in names if name]
    if len(names) < annotations.num_class:
        raise StgcnError(
            f"{path} names {len(names)} classes but {annotations.path} has labels up to "
            f"{annotations.num_class - 1}"
        )
    return names


def describe(request: DescribeRequest) -> DataFacts:
    """Classes, layout and channels from the file (``Dataset.describe``)."""
    parsed = parse_options(request.options)
    annotations = load(_annotation_path(request.data_path))
    names = class_names(annotations, parsed)
    return DataFacts(
        num_class=len(names),
        class_names=names,
        layout=layout_of(annotations, parsed),
        in_channels=3,
        num_person=PERSONS,
        score_channel=annotations.dims == 2,
    )


def sample_frames(
    clip: np.ndarray, options: PysklOptions, num_clips: int, test: bool
) -> np.ndarray:
    """``(persons, T, V, 3)`` to float32 ``(num_clips, 3, frames, V, 2)``."""
    persons, total = clip.shape[:2]
    full = np.zeros((3, total, clip.shape[2], PERSONS), dtype=np.float32)
    full[..., :persons] = clip.transpose(3, 1, 2, 0)
    frames = options.clip_len if options.sampling == "uniform" else options.window
    return fit_clip(full, frames, train=not test, sampling=options.sampling, num_clips=num_clips)


class PysklSplit(TorchDataset[tuple[torch.Tensor, int]]):
    """One split of an annotation file. Pickled (for spawned DataLoader workers) as its
    file, split and options: each worker process loads the file once itself, while
    workers forked on Linux share the parent's packed arrays."""

    def __init__(self, path: Path, split: str, options: Mapping[str, Any], train: bool) -> None:
        self.path = Path(path)
        self.split_name = split
        self.options = dict(options)
        self.train = train
        self.parsed = parse_options(options)
        self.annotations = load(self.path)
        self.indices = self.annotations.split(split)
        self.num_clips = 1 if train else self.parsed.num_clips

    def __reduce__(self) -> tuple[Any, ...]:
        return (PysklSplit, (self.path, self.split_name, self.options, self.train))

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def sample_names(self) -> list[str]:
        return [self.annotations.names[i] for i in self.indices]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        item = int(self.indices[index])
        clips = sample_frames(
            self.annotations.clip(item), self.parsed, self.num_clips, test=not self.train
        )
        sample = clips if self.num_clips > 1 else clips[0]
        return torch.from_numpy(np.ascontiguousarray(sample)), int(self.annotations.labels[item])


def build(request: BuildRequest) -> PysklSplit:
    """``split`` "train" or "val" of the file at ``data_path``, by the options' names;
    sampled at random only where it is ``training`` (``stgcn eval --split train`` reads
    the training clips as validation clips are read)."""
    parsed = parse_options(request.options)
    annotations = load(_annotation_path(request.data_path))
    layout_of(annotations, parsed)
    train, val = parsed.split_names(list(annotations.splits))
    names = train if request.split == "train" else val
    return PysklSplit(annotations.path, names, request.options, request.training)


def read_sample(request: SampleRequest) -> np.ndarray:
    """One clip for ``stgcn predict``: a file of one annotation (a dict, or a PYSKL file
    whose ``annotations`` list has one), sampled as validation samples are."""
    from stgcn_data_pyskl.annotations import read_single

    parsed = parse_options(request.options)
    clip = read_single(Path(request.path))
    return sample_frames(clip, parsed, 1, test=True)[0]


def read_named_clip(request: NamedClipRequest) -> np.ndarray:
    """The clip whose ``frame_dir`` is ``request.clip`` in the annotation file at
    ``request.path`` (``stgcn predict --input FILE.pkl#FRAME_DIR``), sampled as
    validation samples are."""
    path, clip, options = Path(request.path), request.clip, request.options
    annotations = load(path)
    where = {name: index for index, name in enumerate(annotations.names)}
    if clip not in where:
        shown = ", ".join(annotations.names[:3])
        more = ", ..." if len(annotations.names) > 3 else ""
        raise StgcnError(f"{path} has no clip with frame_dir {clip!r} (it has {shown}{more})")
    return sample_frames(annotations.clip(where[clip]), parse_options(options), 1, test=True)[0]
