"""``stgcn bench``: throughput and memory of training or inference steps."""

from __future__ import annotations

import json

import click

from stgcn.commands.options import backend_option_flags, backend_options
from stgcn.errors import StgcnError
from stgcn.plugins.hookspecs import hookimpl
from stgcn.plugins.settings import parse_pairs
from stgcn.training.config import PRECISIONS


@click.command()
@click.option("--backend", help="Default: the best available.")
@click.option(
    "--model", "model_name", default="stgcn", show_default=True, help="The network timed."
)
@click.option("--batch-size", type=int, default=16, show_default=True, help="Per card.")
@click.option("--frames", type=int, default=150, show_default=True)
@click.option("--persons", type=int, default=2, show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), help="Default: the backend's.")
@click.option("--steps", type=int, default=10, show_default=True, help="Timed steps.")
@click.option("--warmup", type=int, default=3, show_default=True, help="Untimed steps first.")
@click.option(
    "--baseline", is_flag=True, help="Also time the plain fp32 eager baseline; give the ratio."
)
@click.option(
    "--reference",
    is_flag=True,
    help="Also time that baseline as the reference runs: its own process, glibc's malloc.",
)
@click.option(
    "--mode",
    type=click.Choice(["train", "eval"]),
    default="train",
    show_default=True,
    help="Training steps, or inference (no grad, eval mode).",
)
@click.option(
    "--engine",
    type=click.Choice(["torch", "onnxruntime"]),
    default="torch",
    show_default=True,
    help="onnxruntime: inference on the ONNX export (needs stgcn-export; with --mode eval).",
)
@click.option("--with-data", "with_data", help="Also time loading this dataset folder.")
@click.option("--dataset", default="kinetics", show_default=True, help="With --with-data.")
@click.option(
    "--data-option", "data_option", multiple=True, metavar="KEY=VALUE", help="With --with-data."
)
@click.option("--workers", type=int, default=2, show_default=True, help="Loader processes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line.")
@click.option(
    "--profile",
    "profile_rows",
    type=int,
    default=None,
    is_flag=False,
    flag_value=15,
    help="Also print the top operators by self time (torch.profiler) of the benched step; "
    "--profile N keeps N rows (15 without N).",
)
@backend_option_flags
def bench(
    backend: str | None,
    model_name: str,
    batch_size: int,
    frames: int,
    persons: int,
    precision: str | None,
    steps: int,
    warmup: int,
    baseline: bool,
    reference: bool,
    mode: str,
    engine: str,
    with_data: str | None,
    dataset: str,
    data_option: tuple[str, ...],
    workers: int,
    as_json: bool,
    profile_rows: int | None,
    backend_option: tuple[str, ...],
    compile_model: bool,
) -> None:
    """Throughput (samples/s) on random Kinetics-shaped input, peak memory, and with
    --baseline the ratio to the plain fp32 eager model timed in the same run, under the
    same settings; with --reference the ratio to that model in a process of its own, with
    glibc's default malloc and plain PyTorch, as the reference implementation runs."""
    from stgcn.bench.measure import BenchRequest, bench_training, check_sizes
    from stgcn.plugins.kinds import DATASETS, MODELS
    from stgcn.plugins.registry import get_registry

    check_sizes(batch_size, frames, persons, steps, workers)
    if profile_rows is not None and profile_rows < 1:
        raise StgcnError("--profile must keep at least 1 row")
    registry = get_registry()
    chosen, precision = registry.ready_backend(
        backend, precision, backend_options(backend_option, compile_model)
    )
    data_figures = None
    if with_data:
        from stgcn.bench.data import DataBenchRequest, bench_data

        options = parse_pairs(data_option, "--data-option")
        data_request = DataBenchRequest(with_data, options, batch_size, steps, workers)
        data_figures = bench_data(registry.get(DATASETS, dataset), chosen, data_request)
    request = BenchRequest(
        batch_size,
        frames,
        persons,
        steps,
        max(warmup, 0),
        baseline=baseline,
        mode=mode,
        engine=engine,
        reference=reference,
        model=model_name,
        profile_rows=profile_rows or 0,
    )
    request.check()
    registry.get(MODELS, model_name)  # an unknown name: one line naming the installed ones
    result = bench_training(chosen, precision, request)
    result.data = data_figures
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    for line in result.describe():
        click.echo(line)


@hookimpl
def stgcn_register_commands(cli: click.Group) -> None:
    cli.add_command(bench)
