"""Label pickles load without running code: plain lists of names and integer labels only."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from stgcn_data_kinetics.label_file import read_label_file, write_label_file

from stgcn.errors import StgcnError


class _Payload:
    """Unpickling this calls os.system: it would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _MakeFile:
    """Unpickling this calls pathlib.Path.touch through a method of a class."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_written_files_round_trip_as_plain_lists(tmp_path: Path) -> None:
    path = tmp_path / "train_label.pkl"
    write_label_file(path, ["a.json", "b.json"], np.array([3, 399]))
    with path.open("rb") as stream:
        raw = pickle.load(stream)
    assert raw == (["a.json", "b.json"], [3, 399])
    assert all(type(label) is int for label in raw[1])
    names, labels = read_label_file(path)
    assert names == ["a.json", "b.json"]
    assert labels.dtype == np.int64 and labels.tolist() == [3, 399]


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.int8])
def test_numpy_integer_labels_are_accepted(tmp_path: Path, protocol: int, dtype) -> None:
    path = tmp_path / "labels.pkl"
    labels = [dtype(7), dtype(0), dtype(120)]
    path.write_bytes(pickle.dumps((["x", "y", "z"], labels), protocol=protocol))
    names, loaded = read_label_file(path)
    assert names == ["x", "y", "z"] and loaded.tolist() == [7, 0, 120]


def test_lists_or_tuples_either_way(tmp_path: Path) -> None:
    path = tmp_path / "labels.pkl"
    path.write_bytes(pickle.dumps([("x",), (np.int64(2),)]))
    assert read_label_file(path)[1].tolist() == [2]


@pytest.mark.parametrize("payload", [_Payload, _MakeFile])
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_code_in_a_pickle_never_runs(tmp_path: Path, payload, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "train_label.pkl"
    path.write_bytes(pickle.dumps((["a.json"], [payload(marker)]), protocol=protocol))
    with pytest.raises(StgcnError, match="refused to load") as caught:
        read_label_file(path)
    assert not marker.exists(), "the pickle's payload ran"
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert any(name in message for name in ("system", "touch", "getattr")), message


@pytest.mark.parametrize(
    "labels",
    [
        [np.float64(1.0)],  # numpy scalar of a non-integer type
        [np.array([1, 2])],  # a whole array needs numpy's array reconstruction
        [{"label": 1}],  # a dict is not a label
        [1.5],
        [True],
        ["3"],
    ],
)
def test_anything_but_integer_labels_is_refused(tmp_path: Path, labels) -> None:
    path = tmp_path / "val_label.pkl"
    path.write_bytes(pickle.dumps((["a"] * len(labels), labels)))
    with pytest.raises(StgcnError, match=str(path)):
        read_label_file(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (pickle.dumps(["a", "b", "c"]), "expected a pair"),
        (pickle.dumps((["a"], [1, 2])), "1 sample names but 2 labels"),
        (pickle.dumps(([1], [1])), "sample name 0"),
        (pickle.dumps(("ab", [1, 2])), "must both be lists"),
        (pickle.dumps((["a"], [2**70])), "64 bits"),
        (pickle.dumps((["a", "b"], [1, 2]))[:-7], "not a readable label pickle"),
        (b"", "not a readable label pickle"),
        (b"\x93NUMPY garbage", "not a readable label pickle"),
    ],
)
def test_malformed_label_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "train_label.pkl"
    path.write_bytes(content)
    with pytest.raises(StgcnError) as caught:
        read_label_file(path)
    assert problem in str(caught.value) and str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StgcnError, match="not found"):
        read_label_file(tmp_path / "nope.pkl")
