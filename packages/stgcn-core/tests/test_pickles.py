"""The restricted unpickler: plain containers and numeric numpy arrays load, in every
pickle protocol; code, object arrays and other globals are refused before they run."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from stgcn.data.pickles import restricted_load
from stgcn.errors import StgcnError


def _load(path: Path, **kwargs):
    return restricted_load(path, what="annotation file", holds="numbers and arrays", **kwargs)


class _Touch:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_arrays_scalars_and_containers_load(tmp_path: Path, protocol: int) -> None:
    data = {
        "split": {"train": ["a", "b"]},
        "annotations": [
            {
                "frame_dir": "a",
                "label": np.int64(3),
                "total_frames": 4,
                "keypoint": np.arange(24, dtype=np.float16).reshape(1, 4, 2, 3),
                "fortran": np.asfortranarray(np.ones((2, 3), np.float32)),
                "img_shape": (1080, 1920),
                "name": np.str_("x"),
                "valid": np.array([True, False]),
            }
        ],
    }
    path = tmp_path / "a.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = _load(path, kinds="biufSU")
    ann = loaded["annotations"][0]
    assert ann["label"] == 3 and isinstance(ann["label"], int)
    np.testing.assert_array_equal(ann["keypoint"], data["annotations"][0]["keypoint"])
    assert ann["keypoint"].dtype == np.float16
    np.testing.assert_array_equal(ann["fortran"], np.ones((2, 3)))
    assert ann["name"] == "x" and ann["valid"].tolist() == [True, False]
    assert loaded["split"] == data["split"]


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_code_never_runs(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"annotations": [_Touch(marker)]}, protocol=protocol))
    with pytest.raises(StgcnError, match=r"refused to load: it asks for (posix|os)\.system"):
        _load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (np.array([{"a": 1}], dtype=object), "object"),
        (np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f4")]), "V8"),
        (np.float64(1.5), "float64"),
    ],
)
def test_what_the_kinds_exclude_is_refused(tmp_path: Path, value, refused: str) -> None:
    path = tmp_path / "a.pkl"
    path.write_bytes(pickle.dumps([value], protocol=4))
    with pytest.raises(StgcnError, match=f"refused to load: .*{refused}"):
        _load(path, kinds="iu")


def test_arrays_are_refused_where_not_admitted(tmp_path: Path) -> None:
    path = tmp_path / "a.pkl"
    path.write_bytes(pickle.dumps([np.zeros(3)], protocol=4))
    with pytest.raises(StgcnError, match="refused to load: it asks for numpy"):
        _load(path, arrays=False)


@pytest.mark.parametrize(
    "content", [b"", b"not a pickle at all", pickle.dumps({"a": np.zeros(100)})[:-30]]
)
def test_truncated_or_foreign_files_are_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "a.pkl"
    path.write_bytes(content)
    with pytest.raises(StgcnError, match="is not a readable annotation file") as caught:
        _load(path)
    assert "\n" not in str(caught.value)
