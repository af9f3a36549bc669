"""A fuzzer of the command line (issue 46): ``stgcn run``, ``eval``, ``fuse``, ``report``
and ``info`` with drawn option values (text, numbers at and beyond their types' limits,
NaN, infinity, empty, unicode, NUL), config files of arbitrary bytes or of valid
TOML/YAML with values of the wrong type, and paths to files of the wrong kind. Every
run succeeds or ends in exactly one ``stgcn: error:`` line, last, with a non-zero exit and
no traceback, and a refused command leaves no work dir or output behind.

The commands run in this interpreter (:func:`stgcn.testing.helpers.stgcn_in_process`), in
a scratch folder, so that a drawn relative path lands there. A value that would make
real work (many epochs, cards or workers, big clips) is drawn only where it is refused;
a run that does start is the one-step ``TINY_RUN``. What the fuzzer found is kept as
``@example`` cases. ``predict`` and ``export onnx`` are fuzzed in stgcn-export's tests.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stgcn.fusion import save_scores
from stgcn.testing.helpers import TINY_RUN, Ran, stgcn_in_process
from stgcn.testing.properties import (
    EDGES,
    PATH_KINDS,
    PROPERTY,
    assert_succeeds_or_one_line,
    costly,
    make_paths,
)
from stgcn.testing.properties import cli_values as values
from stgcn.training.config import RunConfig

#: few examples each: every one is a real command (the run ones a real training step)
FUZZ = settings(PROPERTY, max_examples=12)

#: ``stgcn run``'s options whose every value is cheap or refused, and those whose large
#: values are work (only small ones and refusals drawn)
CHEAP_RUN = [
    "--lr", "--weight-decay", "--warmup-epochs", "--dropout", "--label-smoothing",
    "--seed", "--steps", "--keep", "--log-every", "--checkpoint-every", "--lr-scaling",
    "--lr-reference-batch", "--init", "--precision", "--lr-schedule", "--backend",
    "--dataset", "--logger", "--batch-size", "--data-path", "--sync-bn",
]  # fmt: skip
COSTLY_RUN = ["--epochs", "--cards", "--workers"]
DATA_KEYS = ["frames", "train_size", "val_size", "seed", "nosuch", "", "frames "]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder the commands run in, its files of every kind made."""
    monkeypatch.chdir(tmp_path)
    make_paths(tmp_path)
    yield tmp_path


_fresh = itertools.count()


def fresh(scratch: Path, name: str) -> Path:
    """A path no example used before (hypothesis runs many in one test's folder)."""
    return scratch / f"{name}-{next(_fresh)}"


def snapshot(scratch: Path) -> set[str]:
    return {str(p.relative_to(scratch)) for p in scratch.rglob("*")}


def assert_run(ran: Ran, work: Path) -> None:
    """A run may fail after it started only by diverging (a legal, silly lr): its work
    dir then records the run; any other refusal leaves none."""
    diverged = ran.returncode != 0 and "loss became" in ran.stderr
    assert_succeeds_or_one_line(ran, *([] if diverged else [work]))


#: a run as small as one that trains can be, its costly options pinned after the drawn
FORCED = [*TINY_RUN, "--cards", "1", "--workers", "0"]

run_options = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(CHEAP_RUN), values),
        st.tuples(st.sampled_from(COSTLY_RUN), values.filter(lambda v: not costly(v, 0))),
        st.tuples(
            st.just("--data-option"),
            st.builds(
                lambda key, value: f"{key}={value}",
                st.sampled_from(DATA_KEYS),
                values.filter(lambda v: not costly(v, 16)),
            ),
        ),
        st.tuples(st.just("--weights"), st.sampled_from(PATH_KINDS)),
    ),
    min_size=1,
    max_size=2,
)


def _run_args(options: list[tuple[str, str]], paths: dict[str, str]) -> list[str]:
    """The drawn options after ``FORCED``, so that they count (the last use of an option
    wins); the costly ones were drawn only among the values refused."""
    args = list(FORCED)
    for flag, value in options:
        args += [flag, paths[value] if flag == "--weights" else value]
    return args


@FUZZ
@given(options=run_options)
@example(options=[("--seed", "99999999999999999999999")])  # issue 46: a 45-line traceback
@example(options=[("--lr", "1e400")])  # issue 46: a run that ended in "loss became nan"
@example(options=[("--weight-decay", "inf")])  # issue 46
@example(options=[("--data-option", "frames=0")])  # issue 46: blamed on the plugin
@example(options=[("--weights", "text")])  # issue 46: --weights /etc/passwd
@example(options=[("--lr", "1e300")])  # found: torch's float overflow in the SGD step
@example(options=[("--weight-decay", "1e300")])  # found: the same
@example(options=[("--batch-size", str(2**63))])  # found: islice's ValueError
@example(options=[("--data-option", "frames=99999999999")])  # found: a plugin's ValueError
# found by hand: 10**23 workers froze the host till the OOM killer came (the missing
# --weights stops a regression before any worker starts)
@example(options=[("--workers", "9" * 23), ("--weights", "missing")])
@example(options=[("--weights", "nul")])  # a NUL in a path: "embedded null byte"
def test_run_options(scratch: Path, options: list[tuple[str, str]]) -> None:
    paths = make_paths(scratch)
    work = fresh(scratch, "work")
    ran = stgcn_in_process("run", *_run_args(options, paths), "--work-dir", str(work))
    assert_run(ran, work)


SETTING_KEYS = [*RunConfig.keys(), "batch-size", "nosuch", "", "1"]
#: what a config file's value may be: every TOML/YAML type
config_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**70)
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(EDGES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
settings_tables = st.dictionaries(st.sampled_from(SETTING_KEYS), config_values, max_size=3)


def toml_value(value: object) -> str:
    """``value`` written as TOML (no library writes TOML here; YAML is ``yaml.dump``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"
    text = str(value).encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return '"' + text.replace("\\x", "\\u00") + '"'


def toml_key(key: object) -> str:
    return toml_value(str(key))


def toml_text(table: dict[str, object]) -> str:
    return "".join(
        f"{toml_key(key)} = {toml_value(value)}\n"
        for key, value in table.items()
        if value is not None
    )


config_files = st.one_of(
    st.tuples(st.sampled_from([".toml", ".yaml", ".yml", ".json", ""]), st.binary(max_size=64)),
    st.tuples(st.just(".yaml"), settings_tables.map(lambda t: yaml.safe_dump(t).encode())),
    st.tuples(st.just(".toml"), settings_tables.map(lambda t: toml_text(t).encode())),
)


@FUZZ
@given(config=config_files)
@example(config=(".toml", b"nonsense\x00\xff"))  # issue 46: a UnicodeDecodeError traceback
@example(config=(".toml", b"lr = inf\n"))  # issue 46
@example(config=(".yaml", b"seed: 18446744073709551616\n"))  # beyond int64
@example(config=(".yaml", b"- 1\n- 2\n"))  # a list, not a table
@example(config=(".yaml", b"!!python/object:os.system {}\n"))  # a tag that runs code
@example(config=(".yaml", b'work_dir: "a\\0b"\n'))  # found: "embedded null byte"
@example(config=(".yaml", b"data_options: {frames: 1e400}\n"))
@example(config=(".toml", b"weight_decay = 1e300\n"))  # found: a float32 overflow
@example(config=(".yaml", b"dataset:\n- null\n"))  # found: a list as the registry's key
def test_run_config_files(scratch: Path, config: tuple[str, bytes]) -> None:
    suffix, content = config
    path = fresh(scratch, "config").with_suffix(suffix) if suffix else fresh(scratch, "config")
    path.write_bytes(content)
    work = fresh(scratch, "work")
    ran = stgcn_in_process("run", "--config", str(path), *FORCED, "--work-dir", str(work))
    assert_run(ran, work)


@FUZZ
@given(
    source=st.sampled_from(["checkpoint", *PATH_KINDS]),
    options=st.lists(
        st.tuples(
            st.sampled_from(["--batch-size", "--split", "--precision", "--backend", "--dataset"]),
            values,
        )
        | st.tuples(
            st.just("--data-option"),
            st.builds(
                lambda k, v: f"{k}={v}",
                st.sampled_from(DATA_KEYS),
                values.filter(lambda v: not costly(v, 16)),
            ),
        )
        | st.tuples(st.just("--save-scores"), st.sampled_from(["new", *PATH_KINDS])),
        max_size=2,
    ),
)
@example(source="checkpoint", options=[("--batch-size", str(2**63))])  # found: islice
@example(source="bytes", options=[])  # a corrupt checkpoint: torch's paragraph before
@example(source="checkpoint", options=[("--save-scores", "under-file")])
def test_eval_options(
    scratch: Path, checkpoint: Path, source: str, options: list[tuple[str, str]]
) -> None:
    paths = make_paths(scratch)
    path = str(checkpoint) if source == "checkpoint" else paths[source]
    args, made = ["eval", "--checkpoint", path], []
    for flag, value in options:
        if flag == "--save-scores":
            scores = fresh(scratch, "scores.npz") if value == "new" else Path(paths[value])
            made += [scores] if value == "new" else []
            value = str(scores)
        args += [flag, value]
    before = snapshot(scratch)
    ran = stgcn_in_process(*args)
    assert_succeeds_or_one_line(ran, *made)
    if ran.returncode != 0:
        assert snapshot(scratch) == before


@FUZZ
@given(
    files=st.lists(st.sampled_from(["good", "good", *PATH_KINDS]), max_size=3),
    weights=st.none() | values,
)
@example(files=["good", "good"], weights="nan,1")
@example(files=["good", "text"], weights=None)
def test_fuse(scratch: Path, files: list[str], weights: str | None) -> None:
    paths = make_paths(scratch)
    good = scratch / "good.npz"
    rng = np.random.default_rng(0)
    save_scores(good, ["a", "b"], np.array([0, 1]), rng.dirichlet([1, 1, 1], 2), ["x", "y", "z"])
    args = ["fuse", *(str(good) if f == "good" else paths[f] for f in files)]
    ran = stgcn_in_process(*args, *(["--weights", weights] if weights is not None else []))
    assert_succeeds_or_one_line(ran)


@FUZZ
@given(
    run_dir=st.sampled_from(["run", *PATH_KINDS]),
    output=st.sampled_from(["new", *PATH_KINDS]) | values,
    backend=st.none() | values,
)
@example(run_dir="run", output="under-file", backend=None)
@example(run_dir="run", output="\x00", backend=None)  # found: "embedded null byte"
@example(run_dir="text", output="new", backend=None)
def test_report(
    scratch: Path, checkpoint: Path, run_dir: str, output: str, backend: str | None
) -> None:
    paths = make_paths(scratch)
    folder = str(checkpoint.parent.parent) if run_dir == "run" else paths[run_dir]
    target = fresh(scratch, "report") if output == "new" else Path(paths.get(output, output))
    args = ["report", folder, "--output", str(target), "--no-confusion"]
    args += ["--backend", backend] if backend is not None else []
    existed = target.exists()
    ran = stgcn_in_process(*args)
    assert_succeeds_or_one_line(ran, *([] if existed else [target]))


@FUZZ
@given(
    source=st.sampled_from(["checkpoint", "dataset", "both", *PATH_KINDS]),
    options=st.lists(
        st.tuples(
            st.sampled_from(["--frames", "--persons"]), values.filter(lambda v: not costly(v, 64))
        )
        | st.tuples(st.sampled_from(["--dataset", "--data-path"]), values)
        | st.tuples(
            st.just("--data-option"),
            st.builds(lambda k, v: f"{k}={v}", st.sampled_from(DATA_KEYS), values),
        ),
        max_size=2,
    ),
)
@example(source="checkpoint", options=[("--frames", "99999999999999999999999")])  # found
@example(source="checkpoint", options=[("--persons", "99999999999999999999999")])  # found
@example(source="npy", options=[])
def test_info(scratch: Path, checkpoint: Path, source: str, options: list[tuple[str, str]]) -> None:
    paths = make_paths(scratch)
    if source == "dataset":
        head = ["--dataset", "synthetic"]
    elif source == "both":
        head = [str(checkpoint), "--dataset", "synthetic"]
    else:
        head = [str(checkpoint) if source == "checkpoint" else paths[source]]
    args = ["info", *head]
    for flag, value in options:
        args += [flag, value]
    ran = stgcn_in_process(*args)
    assert_succeeds_or_one_line(ran)


def test_the_scratch_paths_are_each_of_their_kind() -> None:
    """The fuzzer's paths are what their names say (else a kind is never tried)."""
    with tempfile.TemporaryDirectory() as folder:
        paths = make_paths(Path(folder))
        assert sorted(paths) == sorted(PATH_KINDS)
        assert Path(paths["folder"]).is_dir() and Path(paths["text"]).is_file()
        assert not Path(paths["missing"]).exists() and not Path(paths["under-file"]).exists()
