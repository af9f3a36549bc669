"""The command-line fuzzer of issue 46 for this package's commands: ``stgcn export onnx``
and ``stgcn predict`` with drawn option values (the edges of every type, NaN, inf,
unicode, NUL) and paths of the wrong kind. Each succeeds or ends in one last
``stgcn: error:`` line with a non-zero exit, and a refused export leaves no output.
The values and checks are core's (:mod:`stgcn.testing.properties`), as its fuzzer of
``run``, ``eval``, ``fuse``, ``report`` and ``info`` uses them; an example that would
trace a big model input draws only refused sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import (
    PATH_KINDS,
    PROPERTY,
    assert_succeeds_or_one_line,
    costly,
    make_paths,
)
from stgcn.testing.properties import cli_values as values

#: every example traces a model (about a second): few of them
FUZZ = settings(PROPERTY, max_examples=10)

#: the export options whose large values trace a large input, and the others
SIZES = ["--batch", "--frames", "--persons"]
OTHERS = ["--opset", "--tolerance", "--dataset", "--layout", "--strategy", "--num-class"]

_fresh = itertools.count()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder the commands run in (a drawn relative path lands there)."""
    monkeypatch.chdir(tmp_path)
    make_paths(tmp_path)
    yield tmp_path


def small_shape(value: str) -> bool:
    return not any(costly(part, 16) for part in value.lower().split("x"))


export_options = st.lists(
    st.tuples(st.sampled_from(SIZES), st.integers(1, 16).map(str))
    | st.tuples(st.sampled_from(SIZES), values.filter(lambda v: not costly(v, 16)))
    | st.tuples(st.sampled_from(OTHERS), values)
    | st.tuples(st.just("--verify-shape"), values.filter(small_shape))
    | st.tuples(st.sampled_from(["--static", "--no-verify"]), st.just("")),
    max_size=2,
)


@FUZZ
@given(
    source=st.sampled_from(["checkpoint", *PATH_KINDS]),
    output=st.sampled_from(["new", "new", "proc", *PATH_KINDS]) | values,
    options=export_options,
)
@example(source="checkpoint", output="proc", options=[])  # issue 46: the temporary name
@example(source="checkpoint", output="under-file", options=[])  # found: "File exists"
@example(source="checkpoint", output="new", options=[("--frames", str(2**70))])  # found
@example(source="checkpoint", output="new", options=[("--verify-shape", f"1x{2**70}x2")])
@example(source="bytes", output="new", options=[])  # a corrupt checkpoint
def test_export_onnx(
    scratch: Path, checkpoint: Path, source: str, output: str, options: list[tuple[str, str]]
) -> None:
    paths = make_paths(scratch)
    if output == "new":
        target = scratch / f"model-{next(_fresh)}.onnx"
    elif output == "proc":
        target = Path("/proc/nope.onnx")
    else:
        target = Path(paths.get(output, output))
    path = str(checkpoint) if source == "checkpoint" else paths[source]
    args = ["export", "onnx", "--checkpoint", path, "--output", str(target), "--frames", "16"]
    for flag, value in options:
        args += [flag, value] if value or flag not in ("--static", "--no-verify") else [flag]
    existed = target.exists()
    before = target.read_bytes() if existed and target.is_file() else None
    ran = stgcn_in_process(*args)
    assert_succeeds_or_one_line(ran, *([] if existed else [target]))
    if ran.returncode != 0 and before is not None:
        assert target.read_bytes() == before


@FUZZ
@given(
    model=st.sampled_from(["checkpoint", *PATH_KINDS]),
    clip=st.sampled_from(["clip", "clip", *PATH_KINDS]) | values,
    options=st.lists(
        st.tuples(st.sampled_from(["--top", "--dataset", "--num-class", "--layout"]), values)
        | st.tuples(st.sampled_from(["--window", "--stride"]), values),
        max_size=2,
    ),
    shape=st.just([3, 8, 18, 2]) | st.lists(st.integers(0, 5), min_size=0, max_size=5),
)
@example(model="checkpoint", clip="npy", options=[], shape=[])  # a clip of NaN
@example(model="checkpoint", clip="clip", options=[("--top", str(2**70))], shape=[3, 4, 18, 2])
@example(model="text", clip="clip", options=[], shape=[3, 4, 18, 2])  # --checkpoint passwd
def test_predict(
    scratch: Path,
    checkpoint: Path,
    model: str,
    clip: str,
    options: list[tuple[str, str]],
    shape: list[int],
) -> None:
    paths = make_paths(scratch)
    clip_file = scratch / f"clip-{next(_fresh)}.npy"
    np.save(clip_file, np.random.default_rng(0).random(shape, dtype=np.float32))
    given_clip = str(clip_file) if clip == "clip" else paths.get(clip, clip)
    path = str(checkpoint) if model == "checkpoint" else paths[model]
    args = ["predict", "--checkpoint", path, "--input", given_clip]
    for flag, value in options:
        args += [flag, value]
    assert_succeeds_or_one_line(stgcn_in_process(*args))
