"""``RunConfig``, the settings of ``stgcn run``: one family of the settings parser. Its
refusals are one line wherever a value was written (config file, command line, recipe),
its layers count in one order, and the command's options are made from its fields."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import click
import pytest

from stgcn.commands.options import given
from stgcn.commands.run import run
from stgcn.errors import StgcnError
from stgcn.plugins.records import Dataset
from stgcn.plugins.settings import Flag, parse_path, parse_table, value_type
from stgcn.testing.helpers import run_stgcn, stgcn_in_process
from stgcn.training.config import (
    RunConfig,
    parse_checkpoint_every,
    parse_names,
    parse_steps,
)
from stgcn.training.setup import resolve_run_config


def test_an_infinite_lr_in_a_config_file_is_one_line(tmp_path: Path) -> None:
    """The issue's case, through the real command in a fresh interpreter."""
    config = tmp_path / "run.toml"
    config.write_text("lr = inf\n")
    work = tmp_path / "w"
    ran = run_stgcn("run", "--config", str(config), "--work-dir", str(work))
    assert ran.returncode == 1, ran.stdout
    assert ran.stderr.splitlines() == [
        f"stgcn: error: {config}: lr expects a finite number, got inf"
    ]
    assert not work.exists()


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("lr = nan", "lr expects a finite number, got nan"),
        ("lr = -inf", "lr expects a finite number, got -inf"),
        ("momentum = inf", "momentum expects a finite number, got inf"),
        ("lr = 0", "lr must be above 0, got 0.0"),
        ("dropout = 1.0", "dropout must lie in [0, 1), got 1.0"),
        ("warmup-epochs = -1", "warmup_epochs must be at least 0, got -1.0"),
        ("epochs = 0", "epochs must be at least 1, got 0"),
        ("epochs = 1.5", "epochs expects a whole number, got 1.5"),
        ("batch_size = true", "batch_size expects a whole number, got True"),
        ("cards = '2x'", "cards expects a whole number, got '2x'"),
        ("lr = 'fast'", "lr expects a number, got 'fast'"),
        ("nesterov = 'maybe'", "nesterov: expected true or false, got 'maybe'"),
        ("lr_schedule = 'linear'", "lr_schedule must be one of step, cosine, not 'linear'"),
        ("precision = 'fp64'", "precision must be one of fp32, bf16, fp16, not 'fp64'"),
        ("steps = [10, 0]", "steps must be epoch numbers of at least 1, got [0, 10]"),
        ("steps = 20", "steps expects epoch numbers such as 20,30,40, got 20"),
        ("data_options = 3", "data_options expects a table of KEY = VALUE, got 3"),
        ("bogus-key = 3", "unknown setting 'bogus-key'"),
        ("checkpoint_every = '5h'", "checkpoint_every: expected STEPS, or MINUTES with m"),
    ],
)
def test_each_refusal_in_a_config_file_is_one_line(tmp_path: Path, text: str, refusal: str) -> None:
    config = tmp_path / "run.toml"
    config.write_text(text + "\n")
    work = tmp_path / "w"
    ran = stgcn_in_process("run", "--config", str(config), "--work-dir", str(work))
    assert ran.returncode == 1, ran.stdout
    lines = ran.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stgcn: error: {config}: {refusal}"), lines
    assert not work.exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--lr", "inf"], "options: lr expects a finite number, got inf"),
        (["--lr", "nan"], "options: lr expects a finite number, got nan"),
        (["--dropout", "-0.5"], "options: dropout must lie in [0, 1), got -0.5"),
        (["--keep", "-1"], "options: keep must be at least 0, got -1"),
        (["--lr-reference-batch", "0"], "options: lr_reference_batch must be at least 1, got 0"),
        (["--steps", "10,x"], "options: steps expects a whole number, got 'x'"),
    ],
)
def test_each_refusal_on_the_command_line_is_one_line(
    tmp_path: Path, args: list[str], line: str
) -> None:
    work = tmp_path / "w"
    ran = stgcn_in_process("run", *args, "--work-dir", str(work))
    assert ran.returncode == 1, ran.stdout
    assert ran.stderr.splitlines() == [f"stgcn: error: {line}"]
    assert not work.exists()


def _dataset(recipe: dict[str, Any], presets: dict[str, dict[str, Any]]) -> Dataset:
    from stgcn.data.synthetic_plugin import SYNTHETIC

    return dataclasses.replace(SYNTHETIC, name="layers", recipe=recipe, presets=presets)


def test_layers_count_recipe_preset_file_options_in_that_order(tmp_path: Path) -> None:
    recipe = {"epochs": 2, "lr": 0.5, "seed": 1, "batch_size": 16, "data_options": {"a": 1}}
    dataset = _dataset(recipe, {"quick": {"lr": 0.3, "seed": 2, "data_options": {"b": 2}}})
    names: list[str] = []

    def dataset_of(name: str) -> Dataset:
        names.append(name)
        return dataset

    config_file = tmp_path / "run.yaml"
    config_file.write_text("seed: 3\nbatch-size: 8\ndata_options: {a: 3, c: 4}\n")
    typed = {"batch_size": 4, "data_options": {"c": 5}}
    config, resume = resolve_run_config(typed, dataset_of, str(config_file), "quick")
    assert not resume and names == ["synthetic"]
    assert (config.epochs, config.lr, config.seed, config.batch_size) == (2, 0.3, 3, 4)
    assert config.data_options == {"a": 3, "b": 2, "c": 5}
    assert config.momentum == RunConfig().momentum  # a default no layer sets

    config_file.write_text("dataset: other\n")
    resolve_run_config({}, dataset_of, str(config_file))
    resolve_run_config({"dataset": "typed"}, dataset_of, str(config_file))
    assert names[1:] == ["other", "typed"], "the command line's dataset names the recipe"


def test_a_models_recipe_for_a_dataset_lies_over_that_datasets_recipe() -> None:
    """Defaults, the model's recipe, the dataset's, the model's for that dataset (and
    for no other), then a preset; a dataset's lr without a scaling of its own is for its
    own batch, not rescaled by the reference batch the model's recipe names."""
    from stgcn.plugins.records import Model
    from stgcn.training.setup import ModelLookups

    model = Model(
        name="zoo",
        build=lambda spec: None,  # type: ignore[arg-type,return-value]
        recipe={"lr": 0.1, "lr_scaling": "linear", "lr_reference_batch": 128, "epochs": 80},
        dataset_recipes={"tuned": {"lr": 0.2, "lr_scaling": "linear", "weight_decay": 0.01}},
    )
    dataset = _dataset({"lr": 0.005, "epochs": 11}, {"quick": {"epochs": 2}})
    models = ModelLookups(lambda name: model, lambda weights: None)

    def resolved(**typed: Any) -> RunConfig:
        return resolve_run_config(typed, lambda name: dataset, models=models)[0]

    untuned = resolved(dataset="other")
    assert (untuned.lr, untuned.lr_scaling, untuned.epochs) == (0.005, "none", 11)
    assert untuned.weight_decay == RunConfig().weight_decay
    tuned = resolved(dataset="tuned")
    assert (tuned.lr, tuned.lr_scaling, tuned.lr_reference_batch) == (0.2, "linear", 128)
    assert (tuned.weight_decay, tuned.epochs) == (0.01, 11)
    assert resolve_run_config({"dataset": "tuned"}, lambda name: dataset, None, "quick", False,
                              models)[0].epochs == 2  # fmt: skip
    # with no recipe of its own to cross, the dataset's lr is as it was
    bare = resolve_run_config({"dataset": "tuned"}, lambda name: dataset)[0]
    assert (bare.lr, bare.lr_scaling, bare.weight_decay) == (
        0.005,
        "none",
        RunConfig().weight_decay,
    )


def test_a_resumed_run_starts_from_its_config_json_not_the_recipe(tmp_path: Path) -> None:
    saved = RunConfig(epochs=5, lr=0.02, data_options={"a": 1}, work_dir=str(tmp_path))
    (tmp_path / "config.json").write_text(saved.to_json())

    def no_recipe(name: str) -> Dataset:
        raise AssertionError("a resumed run reads no recipe")

    typed = {"work_dir": str(tmp_path), "epochs": 7, "data_options": {"b": 2}}
    config, resume = resolve_run_config(typed, no_recipe, resume=True)
    assert resume and (config.epochs, config.lr) == (7, 0.02)
    assert config.data_options == {"a": 1, "b": 2}


def test_a_bad_recipe_names_the_dataset(tmp_path: Path) -> None:
    def dataset_of(name: str) -> Dataset:
        return _dataset({"lr": float("nan")}, {})

    with pytest.raises(StgcnError) as refused:
        resolve_run_config({}, dataset_of)
    assert str(refused.value) == "dataset 'synthetic' recipe: lr expects a finite number, got nan"


def _options() -> dict[str, click.Option]:
    return {p.name: p for p in run.params if isinstance(p, click.Option) and p.name}


def test_every_flag_field_is_an_option_of_run_made_from_it() -> None:
    options = _options()
    flagged = 0
    for field in dataclasses.fields(RunConfig):
        flag = field.metadata["flag"]
        if not isinstance(flag, Flag):
            assert field.name not in options, field.name
            continue
        flagged += 1
        made = options[field.name]
        assert made.opts == [flag.option_name(field.name)]
        assert (made.help or "") == flag.help == field.metadata["help"]
        choices = field.metadata["choices"]
        if choices is not None:
            assert isinstance(made.type, click.Choice) and tuple(made.type.choices) == choices
    assert flagged == 27
    untyped = run.make_context("run", [])
    values = {name: untyped.params[name] for name in options}
    fields = [field.name for field in dataclasses.fields(RunConfig)]
    assert all(values[name] in (None, ()) for name in fields if name in values)
    assert given(untyped, **values) == {}, "only a typed option overrides the layers"
    assert options["loggers"].opts == ["--logger"] and options["loggers"].multiple
    assert options["sync_bn"].is_flag and options["lr"].type == click.FLOAT


def test_a_config_key_is_written_as_its_option_or_its_field(tmp_path: Path) -> None:
    written = RunConfig.parse({"batch-size": "8", "log_every": 3, "checkpoint-every": 500})
    assert (written.batch_size, written.log_every, written.checkpoint_every) == (8, 3, "500")
    assert json.loads(written.to_json())["checkpoint_every"] == "500"
    assert RunConfig.parse({"epochs": 2.0}).epochs == 2, "a YAML 2.0 is a whole number"


def run_settings_table() -> list[str]:
    """The table of RunConfig's keys in docs/guide/train.md, made from its fields."""
    kinds: dict[Any, str] = {
        int: "whole number",
        float: "number",
        bool: "true or false",
        str: "text",
        parse_steps: "epoch numbers (a list, or 20,30,40)",
        parse_names: "names (a list, or a,b)",
        parse_table: "a table of KEY = VALUE",
        parse_path: "text",
        parse_checkpoint_every: "steps (500), minutes (10m) or seconds (90s)",
    }
    hints = typing.get_type_hints(RunConfig)
    lines = ["| key | default | accepts | option |", "|---|---|---|---|"]
    rows = zip(RunConfig.help(), dataclasses.fields(RunConfig), strict=True)
    for (key, default, _), field in rows:
        accepts = kinds[field.metadata["parse"] or value_type(hints[key])]
        if field.metadata["choices"] is not None:
            accepts = ", ".join(field.metadata["choices"])
        if field.metadata["bounds"] is not None:
            accepts = f"{accepts} in {field.metadata['bounds']}"
        flag = field.metadata["flag"]
        option = f"`{flag.option_name(key)}`" if isinstance(flag, Flag) else ""
        lines.append(f"| `{key}` | `{default}` | {accepts} | {option} |")
    return lines


def test_the_guide_lists_every_run_setting_as_run_config_declares_it() -> None:
    guide = Path(__file__).parents[3] / "docs" / "guide" / "train.md"
    table = run_settings_table()
    text = guide.read_text(encoding="utf-8")
    assert "\n".join(table) in text, "\n" + "\n".join(table)
