"""The ``kinetics-json`` dataset: a Kinetics-skeleton release tree of *your* classes.

The tree is the release's (``kinetics_train/``, ``kinetics_val/``, one JSON clip per
video, and ``kinetics_{train,val}_label.json``), as ``stgcn data extract`` writes it
from class folders of videos. Its classes are not Kinetics-400's: they are read from
the two label files (``label_index`` -> ``label``), so the dataset registers
``num_class=0`` and describes itself from the data (``Dataset.describe``). Clips are read and
converted exactly as the ``kinetics`` dataset reads a release tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError
from stgcn.records import BuildRequest, DataFacts, DescribeRequest, SampleRequest
from stgcn_data_kinetics.clip import ClipError, read_clip
from stgcn_data_kinetics.clips import KineticsClips
from stgcn_data_kinetics.options import parse_options
from stgcn_data_kinetics.release import SPLITS, label_file, read_release_split
from stgcn_data_kinetics.release_clips import ReleaseClips


def _tree(data_path: Path | None) -> Path:
    if data_path is None:
        raise StgcnError(
            "dataset 'kinetics-json' needs --data-path (a folder from stgcn data extract)"
        )
    root = Path(data_path)
    if not all(label_file(root, split).is_file() for split in SPLITS):
        raise StgcnError(
            f"{root} is not a Kinetics-skeleton tree: it needs kinetics_train_label.json and "
            "kinetics_val_label.json (stgcn data extract writes them)"
        )
    return root


def class_names(root: Path) -> list[str]:
    """The classes named in the label files, by ``label_index``; an index no clip uses is
    named ``class K``; two names for one index are refused."""
    names: dict[int, str] = {}
    for split in SPLITS:
        path = label_file(root, split)
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise StgcnError(f"{path} is not valid JSON ({error})") from None
        if not isinstance(entries, dict):
            raise StgcnError(f"{path}: expected an object mapping clip ids to labels")
        for clip_id, entry in entries.items():
            index = entry.get("label_index") if isinstance(entry, dict) else None
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise StgcnError(f"{path}: clip {clip_id!r} has no label_index >= 0")
            label = str(entry.get("label") or f"class {index}")
            if names.setdefault(index, label) != label:
                raise StgcnError(
                    f"{path}: label_index {index} is both {names[index]!r} and {label!r}"
                )
    if not names:
        raise StgcnError(f"{root}: the label files name no clips")
    return [names.get(index, f"class {index}") for index in range(max(names) + 1)]


def describe(request: DescribeRequest) -> DataFacts:
    """Classes from the label files; the layout is the release's (openpose, 18 joints)."""
    parse_options(request.options)
    names = class_names(_tree(request.data_path))
    return DataFacts(num_class=len(names), class_names=names, layout="openpose")


def build(request: BuildRequest) -> KineticsClips:
    """One split of the tree's clips; random windows and moves only for ``training``."""
    split = request.split
    if split not in SPLITS:
        raise StgcnError(f"kinetics-json dataset: unknown split {split!r}; splits: train, val")
    root = _tree(request.data_path)
    settings, _ = parse_options(request.options)
    names = class_names(root)
    release = read_release_split(root, split, len(names))
    if not release.names:
        raise StgcnError(f"{root}: the {split} split has no clip with skeletons")
    source = ReleaseClips(
        release.paths, release.labels, settings.clip_shape, str(root / f"kinetics_{split}")
    )
    labels = np.array(release.labels, dtype=np.int64)
    return KineticsClips(source, labels, settings, request.training, names, release.names)


def read_sample(request: SampleRequest) -> np.ndarray:
    """One JSON clip (a ``stgcn predict --save-skeleton`` file, say), read with the
    model's ``max_frame`` and ``num_person_in``."""
    settings, _ = parse_options(request.options)
    path = Path(request.path)
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    if path.suffix.lower() != ".json":
        raise StgcnError(f"{path}: a kinetics-json sample is a Kinetics-skeleton .json clip")
    try:
        return read_clip(path, settings.clip_shape).data
    except ClipError as error:
        raise StgcnError(str(error)) from None
