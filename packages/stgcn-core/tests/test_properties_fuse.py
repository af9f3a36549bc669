"""Property tests of ``stgcn fuse``'s score files: whatever arrays a ``.npz`` holds (or
whatever its bytes became), loading and fusing give an accuracy in [0, 1] or one
StgcnError line, and ``stgcn fuse`` prints a result or one ``stgcn: error:`` line.

Their settings are :mod:`stgcn.testing.properties`.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from stgcn.errors import StgcnError
from stgcn.fusion import fuse, load_scores, parse_weights, save_scores
from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import PROPERTY, mutated, refused_in_one_line

dtypes = st.sampled_from(["<U3", "<i8", "<u8", "<f4", "<f8", "<f2", "|b1", "<i2"])


def arrays(shape: st.SearchStrategy[tuple[int, ...]]) -> st.SearchStrategy[np.ndarray]:
    return dtypes.flatmap(lambda dtype: hnp.arrays(dtype, shape))


@st.composite
def score_arrays(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """The arrays of a score file: mostly right in kind and shape, sometimes not."""
    samples = draw(st.integers(0, 6))
    classes = draw(st.integers(0, 7))
    good = {
        "sample_ids": np.array(
            draw(st.lists(st.text(max_size=4), min_size=samples, max_size=samples)), dtype=str
        ).reshape(samples),
        "labels": draw(
            hnp.arrays(np.int64, samples, elements=st.integers(-2, classes + 1))
            | hnp.arrays(np.uint64, samples)
        ),
        "scores": draw(
            hnp.arrays(st.sampled_from([np.float16, np.float32, np.float64]), (samples, classes))
        ),
        "class_names": np.array([f"c{i}" for i in range(classes)]),
        "modality": np.array(draw(st.sampled_from(["joint", "bone", "", "x"]))),
    }
    for key in draw(st.sets(st.sampled_from(sorted(good)), max_size=2)):
        if draw(st.booleans()):
            del good[key]  # missing
        else:
            good[key] = draw(arrays(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
    return good


def _write(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def _good_file(path: Path, samples: int = 5, classes: int = 4, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    ids = [f"clip{i}" for i in range(samples)]
    scores = rng.dirichlet(np.ones(classes), samples)
    save_scores(
        path, ids, rng.integers(0, classes, samples), scores, [f"c{i}" for i in range(classes)]
    )
    return path


@settings(PROPERTY, max_examples=40)
@given(first=score_arrays(), second=score_arrays() | st.none())
@example(
    first={
        "sample_ids": np.array(["a"]),
        "labels": np.array([0]),
        "scores": np.zeros((1, 0), np.float32),
        "class_names": np.array([], dtype=str),
    },
    second=None,
).via("scores of no class")
def test_score_files_fuse_or_are_refused_in_one_line(
    first: dict[str, np.ndarray], second: dict[str, np.ndarray] | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [_write(Path(folder) / "a.npz", first)]
        if second is not None:
            paths.append(_write(Path(folder) / "b.npz", second))
        try:
            files = [load_scores(path) for path in paths]
            result = fuse(files, [1.0] * len(files))
        except StgcnError as error:
            refused_in_one_line(error)
            return
    assert 0 <= result.top1 <= result.top5 <= 1
    assert 0 <= result.mean_class_accuracy <= 1
    assert result.samples == len(first["labels"])


@PROPERTY
@given(
    cut=st.integers(0, 3000),
    flips=st.lists(st.tuples(st.integers(0), st.integers(1, 255)), max_size=4),
    compressed=st.booleans(),
    central=st.booleans(),
)
@example(cut=10**6, flips=[(8, 1)], compressed=True, central=True).via("flagged encrypted")
@example(cut=10**6, flips=[(10, 7)], compressed=True, central=True).via("unknown compression")
def test_a_cut_or_corrupted_score_file_is_read_or_refused_in_one_line(
    cut: int, flips: list[tuple[int, int]], compressed: bool, central: bool
) -> None:
    """Bytes cut off or flipped anywhere, or (``central``) counted from the zip's central
    directory, whose entries say how each member is stored."""
    with tempfile.TemporaryDirectory() as folder:
        path = _good_file(Path(folder) / "a.npz")
        if compressed:
            _write(path, dict(np.load(path)), compressed=True)
        raw = path.read_bytes()
        start = max(raw.find(b"PK\x01\x02"), 0) if central else 0
        path.write_bytes(mutated(raw, cut, flips, start))
        try:
            loaded = load_scores(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    assert loaded.scores.ndim == 2 and np.isfinite(loaded.scores).all()


@PROPERTY
@given(payload=st.sampled_from(["npy", "pickle", "empty zip", "text"]))
def test_something_else_named_npz_is_refused_in_one_line(payload: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.npz"
        if payload == "npy":
            buffer = io.BytesIO()
            np.save(buffer, np.zeros(3))
            path.write_bytes(buffer.getvalue())
        elif payload == "pickle":
            np.save(path.with_suffix(".tmp.npy"), np.array([{"a": 1}], dtype=object))
            path.with_suffix(".tmp.npy").rename(path)
        elif payload == "empty zip":
            zipfile.ZipFile(path, "w").close()
        else:
            path.write_text("sample,label\n")
        try:
            load_scores(path)
        except StgcnError as error:
            refused_in_one_line(error)
            return
    raise AssertionError(f"a {payload} was read as a score file")


@PROPERTY
@given(
    text=st.text(max_size=12)
    | st.lists(
        st.sampled_from(["1", "0", "-1", "nan", "1e999", "2", " ", ""]), min_size=1, max_size=3
    ).map(",".join),
    count=st.integers(1, 3),
)
def test_weights_are_finite_non_negative_numbers_or_refused(text: str, count: int) -> None:
    try:
        weights = parse_weights(text, count)
    except StgcnError as error:
        refused_in_one_line(error)
        return
    assert (
        len(weights) == count and all(np.isfinite(weights)) and min(weights) >= 0 and any(weights)
    )


@settings(PROPERTY, max_examples=15)
@given(first=score_arrays(), weights=st.none() | st.text(max_size=6))
def test_stgcn_fuse_prints_a_result_or_one_error_line(
    first: dict[str, np.ndarray], weights: str | None
) -> None:
    """Through the real ``stgcn fuse``, with a good second file beside the generated one."""
    with tempfile.TemporaryDirectory() as folder:
        a = _write(Path(folder) / "a.npz", first)
        b = _good_file(Path(folder) / "b.npz")
        args: list[Any] = ["fuse", str(a), str(b), "--json"]
        if weights is not None:
            args += ["--weights", weights]
        ran = stgcn_in_process(*args)
    if ran.returncode == 0:
        assert ran.stderr == "" and ran.stdout.count("\n") == 1, ran
        return
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
