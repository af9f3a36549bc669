"""Property tests of the Kinetics-skeleton readers and converter: whatever a clip file or
a label pickle holds (odd numbers, wrong types, missing keys, negative or far frame
indices, bytes cut off or flipped), reading it gives a clip of finite values or one
line, and ``stgcn data convert kinetics`` either writes its four files or refuses in one
``stgcn: error:`` line, leaving the files already in its output folder as they were.

Their settings and strategies are :mod:`stgcn.testing.properties`.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stgcn_data_kinetics.clip import ClipError, ClipShape, clip_array, read_clip
from stgcn_data_kinetics.label_file import read_label_file, write_label_file

from stgcn.errors import StgcnError
from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import (
    PROPERTY,
    json_documents,
    lists_of,
    mutated,
    refused_in_one_line,
    values,
)

clips = st.fixed_dictionaries(
    {
        "data": st.lists(
            st.fixed_dictionaries(
                {
                    "frame_index": st.integers(-2, 12) | st.sampled_from([10**6, 10**40]) | values,
                    "skeleton": st.lists(
                        st.fixed_dictionaries(
                            {
                                "pose": st.sampled_from([36, 36, 34]).flatmap(lists_of),
                                "score": st.sampled_from([18, 18, 19]).flatmap(lists_of),
                            }
                        )
                        | json_documents,
                        max_size=3,
                    ),
                }
            )
            | json_documents,
            max_size=4,
        )
    },
    optional={"label": st.text(max_size=5), "label_index": values},
)
SHAPE = ClipShape(max_frame=10, num_person_in=3, num_person_out=2)


def _good_clip(frames: int = 4, label_index: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(frames)
    return {
        "data": [
            {
                "frame_index": t,
                "skeleton": [
                    {
                        "pose": np.round(rng.uniform(0, 1, 36), 3).tolist(),
                        "score": np.round(rng.uniform(0, 1, 18), 3).tolist(),
                    }
                ],
            }
            for t in range(frames)
        ],
        "label": "a",
        "label_index": label_index,
    }


@PROPERTY
@given(document=clips | json_documents)
@example(
    document={
        "data": [{"frame_index": 0, "skeleton": [{"pose": [10**400] * 36, "score": [1] * 18}]}]
    }
).via("an int too large for a float")
def test_a_clip_converts_or_is_refused_in_one_line(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        try:
            clip = read_clip(path, SHAPE)
        except ClipError as error:
            refused_in_one_line(error)
            return
    assert clip.data.shape == SHAPE.array_shape and clip.data.dtype == np.float32
    assert np.isfinite(clip.data).all()
    assert clip.label_index is None or isinstance(clip.label_index, int)
    assert np.array_equal(clip_array(document, SHAPE), clip.data)


@PROPERTY
@given(
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0), st.integers(1, 255)), max_size=4),
)
def test_a_cut_or_corrupted_clip_converts_or_is_refused_in_one_line(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    data = mutated(json.dumps(_good_clip()).encode(), cut, flips)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.json"
        path.write_bytes(data)
        try:
            clip = read_clip(path, SHAPE)
        except ClipError as error:
            refused_in_one_line(error)
            return
    assert np.isfinite(clip.data).all()


label_contents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=8,
) | st.tuples(
    st.lists(st.text(max_size=4) | st.integers(), max_size=3),
    st.lists(st.integers() | st.sampled_from([2**64, True, 1.5]), max_size=3),
)


@PROPERTY
@given(content=label_contents, protocol=st.sampled_from([2, 4]))
def test_a_label_pickle_reads_or_is_refused_in_one_line(content: Any, protocol: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train_label.pkl"
        path.write_bytes(pickle.dumps(content, protocol=protocol))
        try:
            names, labels = read_label_file(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    assert len(names) == len(labels) and labels.dtype == np.int64
    assert all(isinstance(name, str) for name in names)


@PROPERTY
@given(
    cut=st.integers(0, 200),
    flips=st.lists(st.tuples(st.integers(0), st.integers(1, 255)), max_size=3),
)
def test_a_cut_or_corrupted_label_pickle_is_read_or_refused_in_one_line(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train_label.pkl"
        write_label_file(path, ["clip_a", "clip_b", "clip_c"], [3, 0, 399])
        path.write_bytes(mutated(path.read_bytes(), cut, flips))
        try:
            names, labels = read_label_file(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    assert len(names) == len(labels)


def _release_tree(root: Path, train_clip: Any) -> None:
    for split, document in (("train", train_clip), ("val", _good_clip(3))):
        folder = root / f"kinetics_{split}"
        folder.mkdir(parents=True)
        (folder / "clip0.json").write_text(json.dumps(document), encoding="utf-8")
        entry = {"has_skeleton": True, "label": "a", "label_index": 0}
        (root / f"kinetics_{split}_label.json").write_text(json.dumps({"clip0": entry}))


@settings(PROPERTY, max_examples=6)
@given(train_clip=clips)
@example(
    train_clip={
        "data": [{"frame_index": 0, "skeleton": [{"pose": [10**400] * 36, "score": [1] * 18}]}]
    }
).via("an int too large for a float, read in a worker process")
def test_convert_writes_all_four_files_or_refuses_and_keeps_the_old_ones(train_clip: Any) -> None:
    """Through the real ``stgcn data convert kinetics --overwrite`` over an output folder
    that already holds a conversion: refused, the old files are untouched and no
    temporary file is left; accepted, four new files."""
    with tempfile.TemporaryDirectory() as folder:
        root, output = Path(folder) / "raw", Path(folder) / "out"
        _release_tree(root, train_clip)
        output.mkdir()
        old = {
            name: f"old {name}".encode()
            for name in ("train_data.npy", "train_label.pkl", "val_data.npy", "val_label.pkl")
        }
        for name, content in old.items():
            (output / name).write_bytes(content)
        ran = stgcn_in_process(
            "data",
            "convert",
            "kinetics",
            "--input",
            str(root),
            "--output",
            str(output),
            "--max-frame",
            "10",
            "--workers",
            "1",
            "--overwrite",
        )
        left = sorted(path.name for path in output.iterdir())
        assert left == sorted(old), left  # no temporary file either way
        if ran.returncode == 0:
            assert all((output / name).read_bytes() != content for name, content in old.items())
            return
        # the progress bar may come first; the error is one line, the last
        lines = [line for line in ran.stderr.replace("\r", "\n").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("stgcn: error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], ran.stderr
        assert "Traceback" not in ran.stderr
        assert all((output / name).read_bytes() == content for name, content in old.items())
