"""``build``, ``read_sample`` and ``read_named_clip`` of the kinetics dataset record.

``--data-path`` is either a folder of converted arrays (``train_data.npy``,
``train_label.pkl``, ``val_data.npy``, ``val_label.pkl``) or a release tree
(``kinetics_train/``, ``kinetics_val/`` and their label files), told apart by the
release tree's names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stgcn.errors import StgcnError, first_line
from stgcn.records import BuildRequest, NamedClipRequest, SampleRequest
from stgcn_data_kinetics.arrays import open_converted_split
from stgcn_data_kinetics.classes import CLASS_NAMES, NUM_CLASS
from stgcn_data_kinetics.clip import CHANNELS, NUM_JOINT, ClipError, read_clip
from stgcn_data_kinetics.clips import ClipSource, KineticsClips
from stgcn_data_kinetics.options import RAW_ONLY, parse_options
from stgcn_data_kinetics.release import SPLITS, is_release_tree, read_release_split
from stgcn_data_kinetics.release_clips import ReleaseClips


def build(request: BuildRequest) -> KineticsClips:
    """One split of Kinetics-skeleton, from converted arrays or a release tree; random
    windows and moves only where the request is for ``training``."""
    split, data_path = request.split, request.data_path
    if split not in SPLITS:
        raise StgcnError(f"kinetics dataset: unknown split {split!r}; splits: train, val")
    if data_path is None:
        raise StgcnError("dataset 'kinetics' needs --data-path")
    settings, given = parse_options(request.options)
    data_path = Path(data_path)
    train = request.training
    if is_release_tree(data_path):
        release = read_release_split(data_path, split)
        if not release.names:
            raise StgcnError(f"{data_path}: the {split} split has no clip with skeletons")
        source: ClipSource = ReleaseClips(
            release.paths, release.labels, settings.clip_shape, str(data_path / f"kinetics_{split}")
        )
        labels = np.array(release.labels, dtype=np.int64)
        return KineticsClips(source, labels, settings, train, CLASS_NAMES, release.names)
    raw_only = sorted(given & set(RAW_ONLY))
    if raw_only:
        raise StgcnError(
            f"kinetics dataset: option {raw_only[0]} applies to release trees only; "
            f"{data_path} holds converted arrays"
        )
    source, names, labels = open_converted_split(data_path, split, NUM_CLASS)
    return KineticsClips(source, labels, settings, train, CLASS_NAMES, names)


def read_sample(request: SampleRequest) -> np.ndarray:
    """One clip for prediction: a release ``.json`` clip (converted with the reference
    defaults: 300 frames, 2 persons) or a ``.npy`` sample float ``(3, T, 18, M)``."""
    path = Path(request.path)
    if not path.is_file():
        raise StgcnError(f"{path} not found")
    if path.suffix == ".json":
        try:
            return read_clip(path).data
        except ClipError as error:
            raise StgcnError(str(error)) from None
    if path.suffix == ".npy":
        try:
            sample = np.load(path, mmap_mode="r", allow_pickle=False)  # shape first
        except OSError:
            raise
        except Exception as error:
            raise StgcnError(
                f"{path} is not a readable .npy array ({first_line(error)[:120]})"
            ) from None
        shape = getattr(sample, "shape", None)
        if (
            not isinstance(sample, np.ndarray)
            or sample.ndim != 4
            or sample.shape[0] != CHANNELS
            or sample.shape[2] != NUM_JOINT
            or sample.dtype.kind not in "fiu"
        ):
            raise StgcnError(
                f"{path} holds an array of shape {shape}; a sample is (3, frames, 18, persons)"
            )
        sample = np.array(sample, dtype=np.float32)
        if not np.isfinite(sample).all():
            raise StgcnError(f"{path} holds non-finite values")
        return sample
    raise StgcnError(f"{path}: a Kinetics sample is a release .json clip or a .npy array")


def read_named_clip(request: NamedClipRequest) -> np.ndarray:
    """The clip ``request.clip`` (its id in ``SPLIT_label.pkl``) of a converted split's
    ``SPLIT_data.npy`` (``stgcn predict --input val_data.npy#CLIP_ID``), as the split's
    evaluation reads it."""
    path, clip = Path(request.path), request.clip
    split = path.name.removesuffix("_data.npy")
    if split not in SPLITS or split == path.name:
        raise StgcnError(
            f"{path.name}: a named clip is read from a converted folder's train_data.npy "
            "or val_data.npy"
        )
    clips = build(BuildRequest(split, path.parent, request.options, training=False))
    where = {name: index for index, name in enumerate(clips.sample_names)}
    if clip not in where:
        shown = ", ".join(clips.sample_names[:3])
        raise StgcnError(f"{path} has no clip {clip!r} (its label file names {shown}, ...)")
    sample, _ = clips[where[clip]]
    return np.asarray(sample, dtype=np.float32)
