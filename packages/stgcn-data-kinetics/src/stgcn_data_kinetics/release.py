"""The release tree of Kinetics-skeleton: which clips a split holds, and their labels.

A release tree holds ``kinetics_train/`` and ``kinetics_val/`` (one JSON file per
clip) and ``kinetics_{train,val}_label.json``, which maps each clip id to
``{"has_skeleton": bool, "label": name, "label_index": k}``. As in the reference
conversion the clips of a split are the ``.json`` files of its folder, each looked
up in the label file, and those without skeletons are left out; the order here is
the sorted file names, so that every conversion of a tree gives the same arrays.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stgcn.errors import StgcnError, first_line
from stgcn_data_kinetics.classes import NUM_CLASS

SPLITS = ("train", "val")


def clip_folder(root: Path, split: str) -> Path:
    return root / f"kinetics_{split}"


def label_file(root: Path, split: str) -> Path:
    return root / f"kinetics_{split}_label.json"


def is_release_tree(root: Path) -> bool:
    """Whether ``root`` looks like a release tree rather than a folder of converted arrays."""
    return any(
        clip_folder(root, split).is_dir() or label_file(root, split).is_file() for split in SPLITS
    )


@dataclass(frozen=True)
class ReleaseSplit:
    """The clips of one split that have skeletons, in sorted file-name order."""

    split: str
    label_file: Path
    names: list[str]
    paths: list[Path]
    labels: list[int]
    without_skeleton: int


def read_release_split(
    root: str | os.PathLike[str], split: str, num_class: int = NUM_CLASS
) -> ReleaseSplit:
    """List a split's clips, checked against its label file (labels in ``[0,
    num_class)``); problems are one-line errors."""
    root = Path(root)
    folder, labels_path = clip_folder(root, split), label_file(root, split)
    if not folder.is_dir():
        raise StgcnError(f"{folder} not found (a release tree holds kinetics_{split}/)")
    entries = _read_label_json(labels_path)
    names = sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.name.endswith(".json") and not entry.is_dir()
    )
    kept: list[str] = []
    labels: list[int] = []
    for name in names:
        clip_id = name[: -len(".json")]
        entry = entries.get(clip_id)
        if not isinstance(entry, dict):
            problem = "has no entry" if entry is None else "has a malformed entry"
            raise StgcnError(f"{labels_path} {problem} for clip {clip_id!r} ({folder / name})")
        has_skeleton = entry.get("has_skeleton")
        if not isinstance(has_skeleton, bool):
            raise StgcnError(f"{labels_path}: clip {clip_id!r} has no has_skeleton true/false")
        if not has_skeleton:
            continue
        label = entry.get("label_index")
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < num_class:
            raise StgcnError(
                f"{labels_path}: clip {clip_id!r} has label_index {label!r}, "
                f"outside [0, {num_class})"
            )
        kept.append(name)
        labels.append(label)
    return ReleaseSplit(
        split, labels_path, kept, [folder / name for name in kept], labels, len(names) - len(kept)
    )


def _read_label_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    try:
        with path.open("rb") as stream:
            entries = json.load(stream)
    except (ValueError, RecursionError) as error:
        raise StgcnError(f"{path} is not valid JSON ({first_line(error)})") from None
    if not isinstance(entries, dict):
        raise StgcnError(f"{path}: expected an object mapping clip ids to labels")
    return entries
