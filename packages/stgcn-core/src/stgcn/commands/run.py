"""``stgcn run``: train a model, or one model per stream and their fusion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from stgcn.commands.options import backend_option_flags, backend_options, given
from stgcn.errors import StgcnError
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs
from stgcn.training.config import LR_SCALINGS, PRECISIONS, SCHEDULES


@click.command()
@click.option("--backend", help="Device backend (default: the best available).")
@click.option("--cards", type=int, help="Devices per host (default 1); one worker each.")
@click.option("--nnodes", default="1", show_default=True, help="Hosts: N, or MIN:MAX (elastic).")
@click.option("--node-rank", type=int, help="This host's rank (with --rdzv-endpoint).")
@click.option("--rdzv-endpoint", help="HOST:PORT that every host of a multi-host run reaches.")
@click.option("--rdzv-backend", help="Rendezvous: c10d (default) or static (with --node-rank).")
@click.option("--max-restarts", type=int, default=0, show_default=True, help="Restarts on failure.")
@click.option(
    "--rdzv-timeout",
    type=int,
    default=600,
    show_default=True,
    help="Seconds the hosts may take to meet before the run gives up.",
)
@click.option(
    "--run-id",
    help="Job name at the rendezvous, the same on every host (default: from the endpoint); "
    "for several jobs sharing one endpoint.",
)
@click.option("--sync-bn", is_flag=True, default=None, help="Synchronise BatchNorm across cards.")
@click.option(
    "--streams",
    help="Train one model per stream (e.g. joint,bone,joint_motion,bone_motion), then fuse.",
)
@click.option("--lr-scaling", type=click.Choice(LR_SCALINGS), help="Scale --lr by batch.")
@click.option("--lr-reference-batch", type=int, help="Total batch --lr was tuned for.")
@click.option("--dataset", help="Dataset name (default: synthetic).")
@click.option("--data-path", help="Dataset folder or file, for datasets that read files.")
@click.option(
    "--data-option",
    "data_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Dataset-specific option; repeatable.",
)
@click.option("--epochs", type=int)
@click.option("--batch-size", type=int, help="Samples per card per step.")
@click.option("--lr", type=float, help="Base learning rate.")
@click.option("--weight-decay", type=float)
@click.option("--steps", help="Epochs at which the lr drops tenfold, e.g. 20,30,40.")
@click.option("--lr-schedule", type=click.Choice(SCHEDULES))
@click.option("--warmup-epochs", type=float, help="Linear lr warm-up, in epochs.")
@click.option("--precision", type=click.Choice(PRECISIONS), help="Default: the backend's.")
@click.option("--dropout", type=float)
@click.option(
    "--label-smoothing",
    type=float,
    help="Training targets mix this share of a uniform distribution (0: off).",
)
@click.option(
    "--init",
    type=click.Choice(INIT_SCHEMES),
    help="Fresh weights: the reference's N(0, 0.02) or PyTorch's fan-in draw.",
)
@click.option("--work-dir", help="Output folder (default: runs/<timestamp>).")
@click.option("--seed", type=int)
@click.option("--weights", help="Initialise from a checkpoint or reference state_dict.")
@click.option("--resume", is_flag=True, help="Continue the run in --work-dir.")
@click.option("--workers", type=int, help="DataLoader worker processes.")
@click.option(
    "--logger",
    "logger",
    multiple=True,
    metavar="NAME[:KEY=VALUE]",
    help=(
        "Send the run's events to this logger (e.g. tensorboard); repeatable, also to give "
        "a logger its options one KEY=VALUE at a time (every=N: its steps between step "
        "scalars)."
    ),
)
@click.option(
    "--log-every",
    type=int,
    help="Steps between step scalars for the loggers without their own interval (50).",
)
@click.option("--keep", type=int, help="Also keep the last N epoch checkpoints (default 0).")
@click.option(
    "--checkpoint-every",
    help="Also write latest every N steps, or every N minutes with m (500, 10m).",
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
    from stgcn.plugins.kinds import DATASETS
    from stgcn.plugins.registry import get_registry
    from stgcn.training.launch import Topology, run_training
    from stgcn.training.setup import resolve_run_config

    typed = given(ctx, **options)
    if "logger" in typed:
        typed["loggers"] = list(typed.pop("logger"))
    if data_option:
        typed["data_options"] = parse_pairs(data_option, "--data-option")
    if backend_option or compile_model:
        typed["backend_options"] = backend_options(backend_option, compile_model)
    registry = get_registry()
    config, resume = resolve_run_config(
        typed, lambda name: registry.get(DATASETS, name), config_file, preset, resume
    )
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
