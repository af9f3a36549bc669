"""``stgcn info``: what a model is, from a checkpoint or for a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click

from stgcn.commands.options import checkpoint_option, weights_file_option
from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs

#: the largest sample ``stgcn info`` measures: ten minutes at 30 fps of two persons
#: (a million frames of one ask for tens of GB)
MOST_FRAMES_TIMES_PERSONS = 36_000


@click.command()
@click.argument("checkpoint", required=False, metavar="[CHECKPOINT]", callback=weights_file_option)
@checkpoint_option(
    "The checkpoint, as eval, predict and export take it (or give it as CHECKPOINT).",
    dest="checkpoint_flag",
)
@click.option("--dataset", help="Describe a fresh model for this dataset instead.")
@click.option(
    "--model", "model_name", default="stgcn", show_default=True, help="With --dataset: the network."
)
@click.option(
    "--model-option",
    "model_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="With --dataset: one of the model's options; repeatable.",
)
@click.option("--data-path", help="With --dataset: data that describes its classes.")
@click.option("--data-option", "data_option", multiple=True, metavar="KEY=VALUE")
@click.option(
    "--frames",
    type=int,
    help="Frames per sample [default: the length the checkpoint was trained on, else 300].",
)
@click.option(
    "--persons",
    type=int,
    help="Persons per sample [default: the checkpoint's or dataset's, else 2].",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def info(
    checkpoint: str | None,
    checkpoint_flag: str | None,
    dataset: str | None,
    model_name: str,
    model_option: tuple[str, ...],
    data_path: str | None,
    data_option: tuple[str, ...],
    frames: int | None,
    persons: int | None,
    as_json: bool,
) -> None:
    """A model's parameters, GFLOP per sample, layout, classes and training config."""
    from stgcn.reports.info_command import InfoRequest, describe_facts, describe_model

    checkpoint = one_checkpoint(checkpoint, checkpoint_flag)
    if bool(checkpoint) == bool(dataset):
        raise StgcnError("give a CHECKPOINT or --dataset NAME")
    if (frames is not None and frames < 1) or (persons is not None and persons < 1):
        raise StgcnError("--frames and --persons must be at least 1")
    if (frames or 1) * (persons or 1) > MOST_FRAMES_TIMES_PERSONS:
        raise StgcnError(
            f"--frames times --persons must be at most {MOST_FRAMES_TIMES_PERSONS:,} "
            "(one sample is measured in memory)"
        )
    request = InfoRequest(
        checkpoint=checkpoint,
        dataset=dataset,
        data_path=data_path,
        data_options=parse_pairs(data_option, "--data-option") if data_option else {},
        frames=frames,
        persons=persons,
        model=model_name,
        model_options=parse_pairs(model_option, "--model-option") if model_option else {},
    )
    facts = describe_model(request)
    if as_json:
        click.echo(json.dumps(facts))
        return
    for line in describe_facts(facts):
        click.echo(line)


def one_checkpoint(positional: str | None, option: str | None) -> str | None:
    """The checkpoint given as ``CHECKPOINT`` or ``--checkpoint``: both are accepted (the
    other commands take the option), and both at once only when they name one file."""
    if positional and option and Path(positional).resolve() != Path(option).resolve():
        raise StgcnError(
            f"give the checkpoint once: CHECKPOINT {positional} and --checkpoint {option} differ"
        )
    return positional or option


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(info)
