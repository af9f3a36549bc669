"""``stgcn fuse``: the accuracy of a weighted sum of score files."""

from __future__ import annotations

import json

import click

from stgcn.plugins.hookspecs import hookimpl


@click.command()
@click.argument("score_files", nargs=-1, required=True, metavar="A.npz B.npz ...")
@click.option(
    "--weights",
    help="One weight per file, e.g. 2,2,1,1. Default: 2:2:1:1 for the four streams "
    "(joint, bone, joint_motion, bone_motion), else 1 each.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line.")
def fuse(score_files: tuple[str, ...], weights: str | None, as_json: bool) -> None:
    """Accuracy of the weighted sum of score files (stgcn eval --save-scores).

    Files are aligned by sample id; files whose samples or labels differ are refused.
    """
    from stgcn.fusion import fuse as fuse_scores
    from stgcn.fusion import load_scores, parse_weights
    from stgcn.training.streams import default_weights

    files = [load_scores(path) for path in score_files]
    if weights is None:
        chosen = default_weights([f.modality for f in files])
    else:
        chosen = parse_weights(weights, len(files))
    result = fuse_scores(files, chosen)
    click.echo(json.dumps(result.to_dict()) if as_json else result.describe())


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(fuse)
