"""Property tests of the PYSKL annotation reader: whatever an annotation pickle holds
(odd shapes, dtypes and numbers, wrong types, missing keys, odd split lists) or whatever
its bytes became, reading it gives packed clips of finite values or one StgcnError line,
and ``stgcn data inspect`` prints its summary or one ``stgcn: error:`` line.

Their settings are :mod:`stgcn.testing.properties`.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from stgcn_data_pyskl.annotations import Annotations, read, read_single
from stgcn_data_pyskl.dataset import sample_frames
from stgcn_data_pyskl.options import PysklOptions
from stgcn_data_pyskl.sample_files import make_annotations

from stgcn.errors import StgcnError
from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import PROPERTY, mutated, refused_in_one_line

numbers = st.integers(-3, 5) | st.sampled_from([2**63, 2**70, -(2**70), 10**9]) | st.floats()
oddities = st.none() | st.text(max_size=3) | numbers | st.lists(st.integers(0, 3), max_size=2)
keypoint_dtypes = st.sampled_from(["<f4", "<f2", "<f8", "<i4", "|u1", "|b1"])


@st.composite
def annotation(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """One annotation, mostly well formed, with a few of its values replaced by odd ones."""
    persons = draw(st.integers(0, 3))
    frames = draw(st.integers(0, 4))
    joints = draw(st.sampled_from([17, 17, 25, 0, 3]))
    dims = draw(st.sampled_from([2, 2, 3, 1]))
    shape = (persons, frames, joints, dims)
    ann: dict[str, Any] = {
        "frame_dir": name,
        "label": draw(st.integers(0, 4)),
        "total_frames": frames,
        "keypoint": draw(hnp.arrays(keypoint_dtypes, shape)),
        "keypoint_score": draw(hnp.arrays(keypoint_dtypes, shape[:3])),
        "img_shape": draw(
            st.sampled_from([(1080, 1920), (0, 10), (float("inf"), 1.0), "ab"]) | oddities
        ),
    }
    for key in draw(st.sets(st.sampled_from(sorted(ann)), max_size=2)):
        if draw(st.booleans()):
            del ann[key]
        else:
            ann[key] = draw(oddities)
    return ann


@st.composite
def annotation_files(draw: st.DrawFn) -> Any:
    count = draw(st.integers(1, 3))
    names = [draw(st.sampled_from(["a", "b", "c", "ü/😀", ""])) for _ in range(count)]
    annotations: list[Any] = [draw(annotation(name)) for name in names]
    members = st.lists(st.sampled_from(names) | oddities, max_size=3)
    split = draw(
        st.dictionaries(
            st.sampled_from(["xsub_train", "xsub_val"]) | st.none() | st.integers(0, 2),
            members,
            max_size=2,
        )
        | oddities
    )
    return draw(st.just({"split": split, "annotations": annotations}) | oddities)


def _one(keypoint: np.ndarray, **extra: Any) -> dict[str, Any]:
    frames = keypoint.shape[1]
    ann = {"frame_dir": "a", "label": 0, "total_frames": frames, "keypoint": keypoint, **extra}
    return {"split": {"xsub_train": ["a"]}, "annotations": [ann]}


def _check(annotations: Annotations) -> None:
    assert np.isfinite(annotations.frames).all()
    for index in range(len(annotations.names)):
        clip = annotations.clip(index)
        assert clip.shape[0] <= 2 and clip.shape[-1] == 3
        sample = sample_frames(clip, PysklOptions(clip_len=4), 1, test=True)
        assert sample.shape == (1, 3, 4, annotations.joints, 2)


@PROPERTY
@given(document=annotation_files())
@example(document=_one(np.zeros((0, 2, 17, 3), np.float32))).via("a clip of no person")
@example(
    document={**_one(np.zeros((1, 2, 17, 3), np.float32)), "split": {"xsub_train": [["a"]]}}
).via("a split naming a list")
@example(document=_one(np.zeros((1, 2, 17, 3), np.float32), label=2**70)).via("a huge label")
@example(document=_one(np.zeros((1, 2, 17, 3), np.float32), label=10**9)).via("a far label")
def test_an_annotation_file_reads_or_is_refused_in_one_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.pkl"
        path.write_bytes(pickle.dumps(document, protocol=4))
        try:
            annotations = read(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
        _check(annotations)
        assert annotations.num_class <= 1_000_000
        try:
            clip = read_single(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    assert np.isfinite(clip).all()


@PROPERTY
@given(
    protocol=st.sampled_from([2, 4, 5]),
    cut=st.integers(0, 20_000),
    flips=st.lists(st.tuples(st.integers(0), st.integers(1, 255)), max_size=3),
)
def test_a_cut_or_corrupted_annotation_pickle_is_read_or_refused_in_one_line(
    protocol: int, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = mutated(pickle.dumps(make_annotations(3, seed=5), protocol=protocol), cut, flips)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.pkl"
        path.write_bytes(data)
        try:
            annotations = read(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    _check(annotations)


@settings(PROPERTY, max_examples=12)
@given(document=annotation_files())
def test_stgcn_data_inspect_prints_a_summary_or_one_error_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.pkl"
        path.write_bytes(pickle.dumps(document, protocol=4))
        ran = stgcn_in_process("data", "inspect", str(path), "--json")
    if ran.returncode == 0:
        assert ran.stderr == "" and ran.stdout.count("\n") == 1, ran
        return
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
