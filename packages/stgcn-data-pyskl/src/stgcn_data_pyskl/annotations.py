"""One annotation pickle, read safely, checked, and packed into a few flat arrays.

The file is ``{"split": {name: [frame_dir, ...]}, "annotations": [ann, ...]}`` with each
``ann`` holding ``frame_dir``, ``total_frames``, ``label`` and ``keypoint``
``[M, T, V, C]`` (C = 2 or 3), and for 2D also ``keypoint_score`` ``[M, T, V]`` and
``img_shape`` (height, width). It is read with the core's restricted unpickler, so a
file naming any global beyond numeric numpy arrays is refused before its code runs.

Clips are packed, once, into one float32 array of frames (the first two persons of each
clip, as PYSKL's ``FormatGCNInput(num_person=2)`` keeps them) with an offset table,
after every annotation has been checked.
The Python objects of the pickle are dropped as soon as that is done: a few large
numpy arrays are what DataLoader workers forked afterwards share copy-on-write, where
a list of 100,000 small arrays would have its pages copied into every worker as soon
as reference counts were touched. Each process loads a file once (:func:`load`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.data.coordinates import PYSKL, normalise_keypoints
from stgcn.data.pickles import NUMERIC_KINDS, TEXT_KINDS, restricted_load
from stgcn.errors import StgcnError
from stgcn.system.allocator import release_freed_memory

#: persons kept per clip: PYSKL's FormatGCNInput(num_person=2) keeps the first two in the
#: annotation's order and zero-pads clips with fewer
PERSONS = 2
REQUIRED = ("frame_dir", "label", "keypoint", "total_frames")
REQUIRED_2D = ("keypoint_score", "img_shape")
#: how 2D pixels become model input here (stgcn.data.coordinates): PYSKL's own
#: PreNormalize2D, [-1, 1] about the image centre; the dataset record declares it, so
#: that checkpoints record it and predicting a video gives the model the same values
COORDINATES = PYSKL
#: labels are class indices: one of a million or more is a broken file, not a class
#: (the model would need a million-row last layer, and the class list that many names)
MAX_LABEL = 999_999


@dataclass(frozen=True)
class Annotations:
    """Every clip of one file, packed.

    ``frames[offsets[i] : offsets[i] + persons[i] * lengths[i]]`` is clip ``i`` as
    ``(persons[i], lengths[i], joints, 3)``: x, y and the score (2D, x and y normalised
    by the image size in the :data:`COORDINATES` convention) or x, y, z (3D).
    """

    path: Path
    names: tuple[str, ...]
    labels: np.ndarray
    lengths: np.ndarray
    persons: np.ndarray
    persons_in_file: np.ndarray
    offsets: np.ndarray
    frames: np.ndarray
    splits: Mapping[str, np.ndarray]
    dims: int
    joints: int

    @property
    def num_class(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def clip(self, index: int) -> np.ndarray:
        """Clip ``index`` as ``(persons, T, V, 3)`` (a view; never written)."""
        start = int(self.offsets[index])
        count, length = int(self.persons[index]), int(self.lengths[index])
        return self.frames[start : start + count * length].reshape(count, length, self.joints, 3)

    def split(self, name: str) -> np.ndarray:
        """The indices of split ``name``, refused in one line if the file has none."""
        if name not in self.splits:
            known = ", ".join(sorted(self.splits)) or "none"
            raise StgcnError(f"{self.path}: no split {name!r} in the file (it has: {known})")
        indices = self.splits[name]
        if len(indices) == 0:
            raise StgcnError(f"{self.path}: split {name!r} is empty")
        return indices


def _problem(path: Path, index: int, ann: Mapping[str, Any] | None, message: str) -> StgcnError:
    where = f"annotation {index}"
    if ann is not None and isinstance(ann.get("frame_dir"), str):
        where += f" ({ann['frame_dir']})"
    return StgcnError(f"{path}: {where}: {message}")


def _array(path: Path, index: int, ann: Mapping[str, Any], key: str) -> np.ndarray:
    value = ann[key]
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
        raise _problem(path, index, ann, f"{key} is a {type(value).__name__}, not a numeric array")
    return value


def _whole(path: Path, index: int, ann: Mapping[str, Any], key: str) -> int:
    value = ann[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _problem(path, index, ann, f"{key} is {value!r}, not a whole number")
    return value


def _image_size(path: Path, index: int, ann: Mapping[str, Any]) -> tuple[float, float]:
    shape = ann["img_shape"]
    try:
        height, width = (float(side) for side in shape)
    except (TypeError, ValueError):
        raise _problem(path, index, ann, f"img_shape is {shape!r}, not (height, width)") from None
    if not (height > 0 and width > 0):
        raise _problem(path, index, ann, f"img_shape {shape!r} is not a positive size")
    return height, width


class _Packer:
    """Checks every annotation (a first pass), then writes each one's first two persons
    into one preallocated array (a second pass), freeing the annotation as it goes: the
    peak memory is about the larger of the pickle's arrays and the packed ones, not
    their sum."""

    def __init__(self, path: Path, count: int) -> None:
        self.path = path
        self.names: list[str] = []
        self.labels = np.empty(count, np.int64)
        self.lengths = np.empty(count, np.int64)
        self.persons = np.empty(count, np.int64)
        self.persons_in_file = np.empty(count, np.int64)
        self.offsets = np.zeros(count, np.int64)
        self.rows = 0
        self.dims: int | None = None
        self.joints: int | None = None
        self.frames: np.ndarray | None = None

    def check(self, index: int, ann: Any) -> None:
        """Every rule of the format for one annotation; its place in the packed array."""
        path = self.path
        if not isinstance(ann, Mapping):
            raise _problem(path, index, None, f"is a {type(ann).__name__}, not a dict")
        missing = [key for key in REQUIRED if key not in ann]
        if missing:
            raise _problem(path, index, ann, f"has no {', '.join(map(repr, missing))}")
        name = ann["frame_dir"]
        if not isinstance(name, str):
            raise _problem(path, index, ann, f"frame_dir is {name!r}, not text")
        label = _whole(path, index, ann, "label")
        if label < 0:
            raise _problem(path, index, ann, f"label {label} is negative")
        if label > MAX_LABEL:
            raise _problem(path, index, ann, f"label {label} is beyond any class ({MAX_LABEL})")
        keypoint = _array(path, index, ann, "keypoint")
        if keypoint.ndim != 4 or keypoint.shape[-1] not in (2, 3):
            raise _problem(
                path, index, ann, f"keypoint has shape {keypoint.shape}, not [M, T, V, 2 or 3]"
            )
        persons, length, joints, dims = keypoint.shape
        if length == 0:
            raise _problem(path, index, ann, "keypoint has no frames")
        total = _whole(path, index, ann, "total_frames")
        if total != length:
            raise _problem(path, index, ann, f"total_frames is {total} but keypoint has {length}")
        if self.dims is None:
            self.dims, self.joints = dims, joints
        if (dims, joints) != (self.dims, self.joints):
            raise _problem(
                path,
                index,
                ann,
                f"keypoint has {joints} joints of {dims}D; the file's first had "
                f"{self.joints} of {self.dims}D",
            )
        if dims == 2:
            for key in REQUIRED_2D:
                if key not in ann:
                    why = " (needed to normalise pixel coordinates)" if key == "img_shape" else ""
                    raise _problem(path, index, ann, f"2D keypoints without {key}{why}")
            score = _array(path, index, ann, "keypoint_score")
            if score.shape != keypoint.shape[:3]:
                raise _problem(
                    path,
                    index,
                    ann,
                    f"keypoint_score has shape {score.shape} but keypoint {keypoint.shape}",
                )
            _image_size(path, index, ann)
        kept = min(persons, PERSONS)
        self.names.append(name)
        self.labels[index] = label
        self.lengths[index] = length
        self.persons[index] = kept
        self.persons_in_file[index] = persons
        self.offsets[index] = self.rows
        self.rows += kept * length

    def fill(self, index: int, ann: Mapping[str, Any]) -> None:
        """Write annotation ``index`` (already checked) into the packed array."""
        if self.frames is None:
            self.frames = np.empty((self.rows, self.joints or 0, 3), np.float32)
        count, length = int(self.persons[index]), int(self.lengths[index])
        start = int(self.offsets[index])
        rows = self.frames[start : start + count * length]
        out = rows.reshape(count, length, self.joints or 0, 3)  # not -1: a clip of no person
        keypoint = ann["keypoint"][:count]
        out[..., : keypoint.shape[-1]] = keypoint
        if self.dims == 2:
            height, width = _image_size(self.path, index, ann)
            out[..., 2] = ann["keypoint_score"][:count]
            out[...] = normalise_keypoints(out, (width, height), COORDINATES)
        if not np.isfinite(out).all() or not np.isfinite(ann["keypoint"]).all():
            raise _problem(self.path, index, ann, "keypoint holds NaN or infinite values")

    def packed(self, splits: Mapping[str, np.ndarray]) -> Annotations:
        joints = self.joints or 0
        frames = self.frames if self.frames is not None else np.zeros((0, joints, 3), np.float32)
        return Annotations(
            path=self.path,
            names=tuple(self.names),
            labels=self.labels,
            lengths=self.lengths,
            persons=self.persons,
            persons_in_file=self.persons_in_file,
            offsets=self.offsets,
            frames=frames,
            splits=splits,
            dims=self.dims or 0,
            joints=joints,
        )


def _splits(path: Path, raw: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    if not isinstance(raw, Mapping):
        raise StgcnError(f"{path}: 'split' is a {type(raw).__name__}, not a dict of lists")
    where = {name: index for index, name in enumerate(names)}
    if len(where) != len(names):
        raise StgcnError(f"{path}: two annotations share one frame_dir")
    result = {}
    for split, members in raw.items():
        if not isinstance(split, str) or not isinstance(members, list | tuple):
            raise StgcnError(f"{path}: split {split!r} is not a list of frame_dir names")
        odd = next((m for m in members if not isinstance(m, str)), None)
        if odd is not None:
            raise StgcnError(f"{path}: split {split!r} names {odd!r}, not a frame_dir name")
        unknown = [m for m in members if m not in where]
        if unknown:
            raise StgcnError(
                f"{path}: split {split!r} names {len(unknown)} clips with no annotation "
                f"(first: {unknown[0]!r})"
            )
        result[split] = np.array([where[m] for m in members], dtype=np.int64)
    return result


def _load_pickle(path: Path) -> Any:
    """The file's object, read by the core's restricted unpickler."""
    return restricted_load(
        path,
        what="annotation pickle",
        holds="dicts, lists, text, numbers and numeric arrays",
        kinds=NUMERIC_KINDS + TEXT_KINDS,
    )


def read(path: str | os.PathLike[str]) -> Annotations:
    """Load, check and pack one annotation file; every problem is one StgcnError line."""
    path = Path(path)
    if path.is_dir():
        raise StgcnError(f"{path} is a folder; give the annotation pickle (.pkl) itself")
    loaded = _load_pickle(path)
    if not isinstance(loaded, Mapping) or "annotations" not in loaded or "split" not in loaded:
        found = sorted(map(str, loaded)) if isinstance(loaded, Mapping) else type(loaded).__name__
        raise StgcnError(
            f"{path}: not a PYSKL annotation file: expected a dict with 'split' and "
            f"'annotations', found {found}"
        )
    annotations = loaded["annotations"]
    if not isinstance(annotations, list):
        raise StgcnError(f"{path}: 'annotations' is a {type(annotations).__name__}, not a list")
    if not annotations:
        raise StgcnError(f"{path}: the file holds no annotations")
    packer = _Packer(path, len(annotations))
    for index, ann in enumerate(annotations):
        packer.check(index, ann)
    splits = _splits(path, loaded["split"], packer.names)
    every = max(len(annotations) // 20, 1)
    for index in range(len(annotations)):
        packer.fill(index, annotations[index])
        annotations[index] = None  # the packed copy is all that is kept
        if index % every == every - 1:
            # the pickle's freed small arrays back to the system, so that it shrinks as the
            # packed array grows (glibc keeps freed heap pages otherwise, and every forked
            # worker would count them in its resident size)
            release_freed_memory()
    del loaded, annotations
    release_freed_memory()
    return packer.packed(splits)


_LOADED: tuple[tuple[str, int, int], Annotations] | None = None


def load(path: str | os.PathLike[str]) -> Annotations:
    """:func:`read` once per process and file: the trainer, its describe step, each split
    and each spawned worker ask again and get the same object. One file is kept (they
    are gigabytes)."""
    global _LOADED
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise StgcnError(f"annotation file not found: {path}") from None
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    if _LOADED is not None and _LOADED[0] == key:
        return _LOADED[1]
    _LOADED = None
    annotations = read(resolved)
    _LOADED = (key, annotations)
    return annotations


def read_single(path: Path) -> np.ndarray:
    """The one clip of a file holding one annotation (a dict, or a PYSKL file whose
    ``annotations`` list has one), packed as training packs it: ``(persons, T, V, 3)``."""
    loaded = _load_pickle(path)
    if isinstance(loaded, Mapping) and "annotations" in loaded:
        loaded = loaded["annotations"]
        if not isinstance(loaded, list) or len(loaded) != 1:
            count = len(loaded) if isinstance(loaded, list) else "no"
            raise StgcnError(f"{path}: holds {count} annotations; stgcn predict takes one clip")
        loaded = loaded[0]
    packer = _Packer(path, 1)
    packer.check(0, loaded)
    packer.fill(0, loaded)
    return packer.packed({}).clip(0)
