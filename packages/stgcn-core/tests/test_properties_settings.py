"""Property tests of the settings parser: whatever strings or config-file values arrive,
the outcome is a family of checked values or one StgcnError line. ``RunConfig`` (``stgcn
run``'s settings, from config files and the command line) is one of the families.

Their settings are :mod:`stgcn.testing.properties`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stgcn.backends.cpu import CPUSettings
from stgcn.data.synthetic_plugin import SyntheticOptions
from stgcn.errors import StgcnError
from stgcn.plugins.settings import Interval, Settings, option, parse_pairs
from stgcn.testing.helpers import stgcn_in_process
from stgcn.testing.properties import PROPERTY
from stgcn.training.config import RunConfig


@dataclass(frozen=True)
class Every(Settings):
    """One field of each kind the parser handles."""

    family: ClassVar[str] = "test family"

    count: int = option(1, "a whole number", least=1)
    ratio: float = option(0.5, "a number", least=0.0)
    flag: bool = option(False, "a switch")
    name: str = option("a", "text")
    maybe: int | None = option(None, "a number or nothing")
    mode: str = option("fast", "one of two", choices=("fast", "slow"))
    share: float = option(0.5, "a number in an interval", within="(0, 1]")


FAMILIES: list[type[Settings]] = [Every, CPUSettings, SyntheticOptions, RunConfig]

#: what a config file (TOML, YAML, JSON) can hold as a value
config_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
#: strings as typed after KEY=, odd ones included
typed_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["nan", "-inf", "inf", "1e999", "1_000", " 7 ", "true", "Off", "１２", "0x10"]),
    st.integers().map(str),
    st.floats().map(repr),
)


def _known_or_odd_key(family: type[Settings]) -> st.SearchStrategy[Any]:
    keys = family.keys()
    if family.dashed_keys:  # RunConfig's keys as the options write them: batch-size
        keys = keys + [key.replace("_", "-") for key in keys if "_" in key]
    return st.sampled_from(keys) | st.text(max_size=8)


def _check(family: type[Settings], made: Settings) -> None:
    """A parsed family holds values of its declared kinds, within their checks."""
    assert isinstance(made, family)
    for field in dataclasses.fields(made):  # type: ignore[arg-type]
        value = getattr(made, field.name)
        if isinstance(value, float):
            assert math.isfinite(value), (field.name, value)
        if value is None:
            continue
        bounds: Interval | None = field.metadata.get("bounds")
        assert bounds is None or bounds.holds(value), (field.name, value)
        choices = field.metadata.get("choices")
        assert choices is None or value in choices, (field.name, value)


@settings(PROPERTY, max_examples=100)
@given(data=st.data(), family=st.sampled_from(FAMILIES))
@example(data=None, family=Every).via("a config value too large for a float")
@example(data=None, family=RunConfig).via("an infinite lr in a config file")
def test_a_mapping_parses_or_is_refused_in_one_line(data, family: type[Settings]) -> None:
    if data is None:  # the regression examples: {"ratio": 10**400}, lr = inf
        options: dict[Any, Any] = {"lr": math.inf} if family is RunConfig else {"ratio": 10**400}
    else:
        options = data.draw(
            st.dictionaries(
                _known_or_odd_key(family) | st.integers() | st.booleans(),
                config_values,
                max_size=4,
            )
        )
    try:
        made = family.parse(options)
    except StgcnError as error:
        assert len(str(error).splitlines()) == 1
        return
    _check(family, made)


@settings(PROPERTY, max_examples=100)
@given(
    family=st.sampled_from(FAMILIES),
    pairs=st.lists(
        st.tuples(st.text(max_size=8), st.sampled_from(["=", "", "=="]), typed_values).map("".join),
        max_size=4,
    ),
)
@example(family=Every, pairs=["ratio=nan"])
@example(family=Every, pairs=["ratio=inf"])
@example(family=Every, pairs=["count=" + "9" * 5000])
@example(family=Every, pairs=["share=0"])
@example(family=RunConfig, pairs=["lr=inf"])
@example(family=RunConfig, pairs=["dropout=1"])
def test_command_line_pairs_parse_or_are_refused_in_one_line(
    family: type[Settings], pairs: list[str]
) -> None:
    try:
        made = family.parse(pairs)
    except StgcnError as error:
        assert len(str(error).splitlines()) == 1
        return
    _check(family, made)
    assert all("=" in pair for pair in pairs)


@settings(PROPERTY, max_examples=100)
@given(st.lists(st.text(max_size=10), max_size=4))
def test_parse_pairs_keeps_what_follows_the_first_equals_sign(pairs: list[str]) -> None:
    try:
        parsed = parse_pairs(pairs, "--flag")
    except StgcnError as error:
        assert str(error).startswith("--flag expects KEY=VALUE")
        return
    last = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        last[key.strip()] = value.strip()
    assert parsed == last


@settings(PROPERTY, max_examples=20)
@given(
    flag=st.sampled_from(["--data-option", "--backend-option"]),
    pair=st.one_of(
        st.text(max_size=10),
        st.sampled_from(["=1", " =x", "frames=", "frames=x", "seed=1.5", "compile=maybe"]),
        st.tuples(st.sampled_from(["frames", "seed", "train_size", "compile"]), typed_values).map(
            "=".join
        ),
    ),
)
@example(flag="--data-option", pair="seed=nan")
def test_run_refuses_a_bad_option_in_one_line_before_writing(
    tmp_path: Path, flag: str, pair: str
) -> None:
    """Through the real ``stgcn run``: a refused option is one line and leaves no work
    dir behind (options the parser accepts would start a run, and are left out)."""
    family = SyntheticOptions if flag == "--data-option" else CPUSettings
    try:
        family.parse([pair])
    except StgcnError:
        pass
    else:
        return
    work = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    args = ["run", "--dataset", "synthetic", "--work-dir", str(work), "--epochs", "1"]
    ran = stgcn_in_process(*args, flag, pair)
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stgcn: error: "), ran.stderr
    assert not work.exists()


#: RunConfig's keys as a config file may write them, and a few it does not know
RUN_KEYS = ["lr", "epochs", "batch-size", "dropout", "steps", "data_options", "init"]
run_keys = st.sampled_from([*RUN_KEYS, "nesterov", "warmup_epochs", "precision", "bogus"])


@settings(PROPERTY, max_examples=20)
@given(values=st.dictionaries(run_keys, config_values, min_size=1, max_size=3))
@example(values={"lr": math.inf})
@example(values={"lr": math.nan, "epochs": 2})
@example(values={"dropout": 1.0})
def test_a_refused_config_file_is_one_line_before_writing(
    tmp_path: Path, values: dict[str, Any]
) -> None:
    """Through the real ``stgcn run --config FILE.yaml``: a file the parser refuses ends
    in one line naming the file and leaves no work dir (a file it accepts would start a
    run, and is left out)."""
    import yaml

    try:
        RunConfig.parse(values)
    except StgcnError:
        pass
    else:
        return
    config = tmp_path / f"run-{len(list(tmp_path.iterdir()))}.yaml"
    config.write_text(yaml.safe_dump(values))
    work = tmp_path / "work"
    ran = stgcn_in_process("run", "--config", str(config), "--work-dir", str(work))
    assert ran.returncode != 0, ran.stdout
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stgcn: error: {config}: "), ran.stderr
    assert not work.exists()
