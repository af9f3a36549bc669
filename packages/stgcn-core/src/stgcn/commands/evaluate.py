"""``stgcn eval``: the accuracy of a checkpoint on a dataset split.

(The module is not named ``eval``, Python's builtin.)
"""

from __future__ import annotations

import json

import click

from stgcn.commands.options import checkpoint_option
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs
from stgcn.training.config import MOST_PER_BATCH, PRECISIONS


@click.command("eval")
@checkpoint_option(required=True)
@click.option("--dataset", help="Default: the checkpoint's dataset.")
@click.option("--data-path", help="Default: the checkpoint's data path.")
@click.option("--data-option", "data_option", multiple=True, metavar="KEY=VALUE")
@click.option("--batch-size", type=click.IntRange(1, MOST_PER_BATCH), default=None)
@click.option("--backend", help="Default: the best available.")
@click.option("--precision", type=click.Choice(PRECISIONS))
@click.option("--split", default="val", show_default=True, type=click.Choice(["train", "val"]))
@click.option(
    "--save-scores",
    metavar="FILE.npz",
    help="Also write every sample's softmax scores, id and label, for stgcn fuse.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line.")
def eval_command(
    checkpoint: str,
    dataset: str | None,
    data_path: str | None,
    data_option: tuple[str, ...],
    batch_size: int | None,
    backend: str | None,
    precision: str | None,
    split: str,
    save_scores: str | None,
    as_json: bool,
) -> None:
    """Evaluate a checkpoint: top-1, top-5 and mean class accuracy."""
    from stgcn.training.evaluation import EvalRequest, evaluate_checkpoint

    request = EvalRequest(
        checkpoint,
        dataset=dataset,
        data_path=data_path,
        data_options=parse_pairs(data_option, "--data-option") if data_option else None,
        batch_size=batch_size,
        backend_name=backend,
        precision=precision,
        split=split,
        save_scores=save_scores,
    )
    result = evaluate_checkpoint(request)
    click.echo(json.dumps(result.figures()) if as_json else result.describe())


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(eval_command)
