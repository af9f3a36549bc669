"""``stgcn run``: train a model, or one model per stream and their fusion.

Its options for the run's settings are made from ``RunConfig``'s fields
(:func:`~stgcn.commands.options.settings_options`); the ones written here are those
that are not settings of one run: the hosts, ``--streams``, ``--resume``, the config
file, the preset, and the ``KEY=VALUE`` options of the model, the dataset and the
backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from stgcn.commands.options import (
    backend_option_flags,
    backend_options,
    given,
    settings_options,
)
from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs
from stgcn.training.config import RunConfig

#: the hosts of a run, after --cards
HOSTS = [
    click.option(
        "--nnodes", default="1", show_default=True, help="Hosts: N, or MIN:MAX (elastic)."
    ),
    click.option("--node-rank", type=int, help="This host's rank (with --rdzv-endpoint)."),
    click.option("--rdzv-endpoint", help="HOST:PORT that every host of a multi-host run reaches."),
    click.option("--rdzv-backend", help="Rendezvous: c10d (default) or static (with --node-rank)."),
    click.option(
        "--max-restarts", type=int, default=0, show_default=True, help="Restarts on failure."
    ),
    click.option(
        "--rdzv-timeout",
        type=int,
        default=600,
        show_default=True,
        help="Seconds the hosts may take to meet before the run gives up.",
    ),
    click.option(
        "--run-id",
        help="Job name at the rendezvous, the same on every host (default: from the endpoint); "
        "for several jobs sharing one endpoint.",
    ),
]
STREAMS = click.option(
    "--streams",
    help="Train one model per stream (e.g. joint,bone,joint_motion,bone_motion), then fuse.",
)
DATA_OPTION = click.option(
    "--data-option",
    "data_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Dataset-specific option; repeatable.",
)
MODEL_OPTION = click.option(
    "--model-option",
    "model_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="The model's own option (stgcn plugins --json lists them); repeatable.",
)
RESUME = click.option("--resume", is_flag=True, help="Continue the run in --work-dir.")


@click.command()
@settings_options(
    RunConfig,
    between={
        "cards": HOSTS,
        "sync_bn": [STREAMS],
        "model": [MODEL_OPTION],
        "data_path": [DATA_OPTION],
        "weights": [RESUME],
    },
)
@click.option("--config", "config_file", help="TOML or YAML file with the same keys.")
@click.option("--preset", help="A named recipe of the dataset (see stgcn data list).")
@backend_option_flags
@click.pass_context
def run(
    ctx: click.Context,
    resume: bool,
    config_file: str | None,
    preset: str | None,
    data_option: tuple[str, ...],
    model_option: tuple[str, ...],
    backend_option: tuple[str, ...],
    compile_model: bool,
    nnodes: str,
    node_rank: int | None,
    rdzv_endpoint: str | None,
    rdzv_backend: str | None,
    max_restarts: int,
    run_id: str | None,
    rdzv_timeout: int,
    streams: str | None,
    **options: Any,
) -> None:
    """Train a model (default: the synthetic dataset on the best backend)."""
    from stgcn.networks.loading import model_of_weights, refuse_typed_settings_it_lacks
    from stgcn.networks.released import weights_file
    from stgcn.plugins.kinds import DATASETS, MODELS
    from stgcn.plugins.registry import get_registry
    from stgcn.training.launch import Topology, run_training
    from stgcn.training.setup import ModelLookups, resolve_run_config

    typed = given(ctx, **options)
    if data_option:
        typed["data_options"] = parse_pairs(data_option, "--data-option")
    if model_option:
        typed["model_options"] = parse_pairs(model_option, "--model-option")
    if backend_option or compile_model:
        typed["backend_options"] = backend_options(backend_option, compile_model)
    registry = get_registry()
    # the model's recipes, and the network a --weights file is for where no --model (or
    # config file) names one: a checkpoint's model, or the one recognising its keys; a
    # released weights' name is fetched first
    models = ModelLookups(lambda name: registry.get(MODELS, name), model_of_weights, weights_file)
    config, resume = resolve_run_config(
        typed,
        lambda name: registry.get(DATASETS, name),
        config_file,
        preset,
        resume,
        models,
    )
    refuse_typed_settings_it_lacks(registry.get(MODELS, config.model), typed)
    topology = Topology(
        cards=config.cards,
        nnodes=nnodes,
        node_rank=node_rank,
        rdzv_endpoint=rdzv_endpoint,
        rdzv_backend=rdzv_backend,
        max_restarts=max_restarts,
        run_id=run_id,
        rdzv_timeout=rdzv_timeout,
    )
    if streams is not None:
        from stgcn.training.streams import describe_streams, parse_streams, run_streams

        chosen = parse_streams(streams)
        if resume:
            raise StgcnError(
                "--resume with --streams: resume each stream with stgcn run --resume "
                "--work-dir DIR/STREAM, then stgcn fuse their scores"
            )
        result = run_streams(config, chosen, lambda one: run_training(one, False, topology))
        for line in describe_streams(result):
            click.echo(line)
        return
    summary = run_training(config, resume, topology)
    click.echo(
        f"done: best val top1 {summary.best_top1:.4f}, "
        f"checkpoints in {Path(summary.work_dir) / 'checkpoints'}"
    )


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(run)
