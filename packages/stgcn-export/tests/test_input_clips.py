"""What ``predict --input`` reads: a ``.npy`` clip as the model's input as it is (the
dataset's reader never sees it), a file through its dataset's ``read_sample``, and
``FILE#CLIP`` through its dataset's ``read_named_clip``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from stgcn_export.samples import read_clip, split_clip_name

from stgcn.errors import StgcnError
from stgcn.records import Dataset, NamedClipRequest

CLIPS = {"walk": np.full((3, 4, 18, 2), 1.0, np.float32), "run": np.full((3, 4, 18, 2), 2.0)}


def _named(request: NamedClipRequest) -> np.ndarray:
    if request.clip not in CLIPS:
        raise StgcnError(f"{request.path} has no clip {request.clip!r}")
    return CLIPS[request.clip] * float(request.options.get("gain", 1))


def _refuse(*args: object) -> np.ndarray:
    raise AssertionError("the dataset's reader must not see a .npy input")


CONTAINER = Dataset(
    name="container", num_class=2, build=_refuse, read_sample=_refuse, read_named_clip=_named
)
PLAIN = Dataset(name="plain", num_class=2, build=_refuse, read_sample=_refuse)


def test_a_clip_is_named_after_the_last_hash(tmp_path: Path) -> None:
    assert split_clip_name("a/b.h5#clip_00000") == (Path("a/b.h5"), "clip_00000")
    assert split_clip_name("x#y.pkl#S001C001") == (Path("x#y.pkl"), "S001C001")
    assert split_clip_name("plain.npy") == (Path("plain.npy"), None)
    odd = tmp_path / "take#2.npy"  # a file whose own name holds '#' is read whole
    odd.touch()
    assert split_clip_name(odd) == (odd, None)
    with pytest.raises(StgcnError, match="expected FILE#CLIP"):
        split_clip_name("file.pkl#")


def test_a_named_clip_is_read_by_its_dataset_with_the_models_options(tmp_path: Path) -> None:
    container = tmp_path / "clips.bin"
    container.write_bytes(b"")
    options = {"gain": "3", "modality": "bone"}  # the core's modality is not the plugin's
    sample = read_clip(f"{container}#run", CONTAINER, "container", options)
    assert sample.dtype == np.float32 and np.all(sample == 6.0)
    with pytest.raises(StgcnError, match="has no clip 'jump'"):
        read_clip(f"{container}#jump", CONTAINER, "container", options)
    with pytest.raises(StgcnError, match="dataset 'plain' cannot read a clip named inside a file"):
        read_clip(f"{container}#run", PLAIN, "plain", {})
    with pytest.raises(StgcnError, match="input not found"):
        read_clip(f"{tmp_path / 'missing.bin'}#run", CONTAINER, "container", {})


def test_a_npy_input_is_the_models_input_as_it_is(tmp_path: Path) -> None:
    clip = np.random.default_rng(0).normal(size=(3, 5, 18, 2)).astype(np.float32)
    path = tmp_path / "clip.npy"
    np.save(path, clip)
    assert np.array_equal(read_clip(path, PLAIN, "plain", {"gain": "3"}), clip)
    with pytest.raises(StgcnError, match="cannot read a clip named inside a file"):
        read_clip(f"{path}#0", PLAIN, "plain", {})
