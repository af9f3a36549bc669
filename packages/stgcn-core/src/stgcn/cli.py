"""The ``stgcn`` command: run, eval, bench, plugins, data, and whatever plugins add.

A mistake the user can make ends in one line on stderr and a non-zero exit;
``--debug`` (or ``STGCN_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os

# Set before torch is first imported. torch otherwise imports every installed device
# extension (torch-npu, say) while it loads, and one whose native libraries are missing
# (torch-npu without the CANN toolkit) makes `import torch` itself fail. Backends
# import their own device extension when they start.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

import json
import sys
from pathlib import Path
from typing import Any

import click

from stgcn.errors import StgcnError, first_line
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.settings import parse_pairs

PRECISIONS = ("fp32", "bf16", "fp16")


def _given(ctx: click.Context, **values: Any) -> dict[str, Any]:
    """The options the user actually typed (not click's defaults)."""
    return {
        name: value
        for name, value in values.items()
        if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    }


def _backend_options(pairs: tuple[str, ...], compile_model: bool) -> dict[str, str]:
    options = parse_pairs(pairs, "--backend-option")
    if compile_model:
        options["compile"] = "true"
    return options


def backend_option_flags(command: Any) -> Any:
    """``--backend-option KEY=VALUE`` and its shorthand ``--compile``."""
    command = click.option(
        "--compile",
        "compile_model",
        is_flag=True,
        help="torch.compile the model (same as --backend-option compile=true).",
    )(command)
    return click.option(
        "--backend-option",
        "backend_option",
        multiple=True,
        metavar="KEY=VALUE",
        help="Backend-specific setting; repeatable (see the backend's README).",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--quiet", is_flag=True, help="No progress and no per-epoch lines: warnings, errors, results."
)
@click.version_option(package_name="stgcn-core", prog_name="stgcn")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """ST-GCN skeleton action recognition: train, evaluate, benchmark."""
    if debug:
        os.environ["STGCN_DEBUG"] = "1"
    if quiet:  # an environment variable, so that worker processes are quiet too
        os.environ["STGCN_QUIET"] = "1"


@cli.command()
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
@click.option("--lr-scaling", type=click.Choice(["none", "linear"]), help="Scale --lr by batch.")
@click.option("--lr-reference-batch", type=int, help="Total batch --lr was tuned for.")
@click.option("--dataset", help="Dataset name (default: synthetic).")
@click.option("--data-path", help="Dataset folder, for datasets that read files.")
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
@click.option("--lr-schedule", type=click.Choice(["step", "cosine"]))
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
    help="Send the run's events to this logger (e.g. tensorboard); repeatable.",
)
@click.option("--log-every", type=int, help="Steps between step scalars for the loggers (50).")
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
    data_option: tuple,
    backend_option: tuple,
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
    from stgcn.plugins.registry import get_registry
    from stgcn.training.config import RunConfig, read_config_file
    from stgcn.training.launch import Topology, run_training

    typed = _given(ctx, **options)
    if "logger" in typed:
        typed["loggers"] = list(typed.pop("logger"))
    if data_option:
        typed["data_options"] = parse_pairs(data_option, "--data-option")
    if backend_option or compile_model:
        typed["backend_options"] = _backend_options(backend_option, compile_model)
    from_file = read_config_file(config_file) if config_file else {}
    if not resume and options.get("work_dir"):
        from stgcn.training.preemption.signals import restarted

        # a job that Slurm requeued or torch's agent restarted continues its run
        resume = restarted() and (Path(options["work_dir"]) / "config.json").is_file()
    if resume:
        if not options.get("work_dir"):
            raise StgcnError("--resume needs --work-dir, the folder of the run to continue")
        saved = Path(options["work_dir"]) / "config.json"
        if not saved.is_file():
            raise StgcnError(f"nothing to resume: {saved} does not exist")
        try:
            base = RunConfig.from_mapping(json.loads(saved.read_text()), str(saved))
        except json.JSONDecodeError as error:
            raise StgcnError(f"{saved} is not valid JSON: {error}") from None
    else:
        name = typed.get("dataset") or from_file.get("dataset") or RunConfig.dataset
        dataset = get_registry().dataset(name)
        base = RunConfig().updated(dataset.recipe, f"dataset {name!r} recipe")
        if preset:
            if preset not in dataset.presets:
                known = ", ".join(sorted(dataset.presets)) or "none"
                raise StgcnError(f"dataset {name!r} has no preset {preset!r} (known: {known})")
            base = base.updated(dataset.presets[preset], f"preset {preset!r}")
    config = base.updated(from_file, config_file or "config").updated(typed, "options")
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
        from stgcn.training.streams import parse_streams, run_streams

        chosen = parse_streams(streams)
        if resume:
            raise StgcnError(
                "--resume with --streams: resume each stream with stgcn run --resume "
                "--work-dir DIR/STREAM, then stgcn fuse their scores"
            )
        result = run_streams(config, chosen, lambda one: run_training(one, False, topology))
        for name, figures in result["streams"].items():
            click.echo(f"{name}: best val top1 {figures['best_top1']:.4f}")
        if "fused" in result:
            fused = result["fused"]
            weights = ",".join(f"{w:g}" for w in fused["weights"])
            click.echo(
                f"fused ({weights}): top1 {fused['top1']:.4f}  top5 {fused['top5']:.4f}; "
                f"{Path(result['work_dir']) / 'fused.json'}"
            )
        return
    summary = run_training(config, resume, topology)
    click.echo(
        f"done: best val top1 {summary['best_top1']:.4f}, "
        f"checkpoints in {Path(summary['work_dir']) / 'checkpoints'}"
    )


@cli.command("eval")
@click.option("--checkpoint", required=True, help="A stgcn checkpoint or reference state_dict.")
@click.option("--dataset", help="Default: the checkpoint's dataset.")
@click.option("--data-path", help="Default: the checkpoint's data path.")
@click.option("--data-option", "data_option", multiple=True, metavar="KEY=VALUE")
@click.option("--batch-size", type=int, default=None)
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
    data_option: tuple,
    batch_size: int | None,
    backend: str | None,
    precision: str | None,
    split: str,
    save_scores: str | None,
    as_json: bool,
) -> None:
    """Evaluate a checkpoint: top-1, top-5 and mean class accuracy."""
    from stgcn.training.evaluation import evaluate_checkpoint

    result = evaluate_checkpoint(
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
    if as_json:
        click.echo(
            json.dumps(
                {
                    "top1": result.top1,
                    "top5": result.top5,
                    "mean_class_accuracy": result.mean_class_accuracy,
                    "samples": result.samples,
                }
            )
        )
    else:
        click.echo(
            f"top1 {result.top1:.4f}  top5 {result.top5:.4f}  "
            f"mean class accuracy {result.mean_class_accuracy:.4f}  ({result.samples} samples)"
        )


@cli.command()
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
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(
            f"top1 {result.top1:.4f}  top5 {result.top5:.4f}  "
            f"mean class accuracy {result.mean_class_accuracy:.4f}  ({result.samples} samples, "
            f"weights {','.join(f'{w:g}' for w in result.weights)})"
        )


@cli.command()
@click.option("--backend", help="Default: the best available.")
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
@backend_option_flags
def bench(
    backend: str | None,
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
    data_option: tuple,
    workers: int,
    as_json: bool,
    backend_option: tuple,
    compile_model: bool,
) -> None:
    """Throughput (samples/s) on random Kinetics-shaped input, peak memory, and with
    --baseline the ratio to the plain fp32 eager model timed in the same run, under the
    same settings; with --reference the ratio to that model in a process of its own, with
    glibc's default malloc and plain PyTorch, as the reference implementation runs."""
    from stgcn.bench.measure import bench_training
    from stgcn.plugins.registry import get_registry

    for option, value in (
        ("batch-size", batch_size),
        ("frames", frames),
        ("persons", persons),
        ("steps", steps),
    ):
        if value < 1:
            raise StgcnError(f"--{option} must be at least 1")
    if workers < 0:
        raise StgcnError("--workers must be at least 0")
    registry = get_registry()
    chosen, precision = registry.ready_backend(
        backend, precision, _backend_options(backend_option, compile_model)
    )
    data_figures = None
    if with_data:
        from stgcn.bench.data import bench_data

        data_figures = bench_data(
            registry.dataset(dataset),
            with_data,
            parse_pairs(data_option, "--data-option"),
            chosen,
            batch_size,
            steps,
            workers,
        )
    result = bench_training(
        chosen,
        precision,
        batch_size,
        frames,
        persons,
        steps,
        max(warmup, 0),
        baseline=baseline,
        mode=mode,
        engine=engine,
        reference=reference,
    )
    result.data = data_figures
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    what = "inference" if mode == "eval" else "training"
    click.echo(
        f"{result.samples_per_s:.2f} samples/s {what}  ({chosen.name}, {precision}, "
        f"{engine}, batch {batch_size} x {frames} frames x {persons} persons, "
        f"median of {steps} steps; peak RSS {result.peak_rss_mib} MiB"
        + (f", device {result.device_memory_mib} MiB)" if result.device_memory_mib else ")")
    )
    click.echo(
        f"{result.gflop_per_s:.1f} GFLOP/s of the reference network's work "
        f"({result.gflop_per_sample:.1f} GFLOP per sample), {result.peak_share:.0%} of this "
        f"device's {precision} matmul peak ({result.matmul_peak_gflop_per_s:.0f} GFLOP/s)"
    )
    if result.baseline is not None:
        click.echo(
            f"{result.baseline.samples_per_s:.2f} samples/s baseline (fp32 eager einsum; "
            f"peak RSS {result.baseline.peak_rss_mib} MiB)  ratio {result.ratio:.2f}x"
        )
    if result.reference is not None:
        click.echo(
            f"{result.reference.samples_per_s:.2f} samples/s reference (its own process, "
            f"glibc's malloc; peak RSS {result.reference.peak_rss_mib} MiB)  "
            f"ratio {result.reference_ratio:.2f}x"
        )
    if data_figures is not None:
        batched = data_figures["batched_samples_per_s"]
        click.echo(
            f"{data_figures['per_clip_samples_per_s']:.1f} samples/s data, augmented per clip"
            + (f"; {batched:.1f} augmented per batch" if batched else "")
            + f" ({data_figures['workers']} workers)"
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List installed plugins and what they provide."""
    from stgcn.plugins.registry import describe, get_registry

    rows = describe(get_registry())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} {row['version']}")
        for failure in row["errors"]:
            click.echo(f"  FAILED   {failure['plugin']}: {failure['error']}")
        for skipped in row["skipped"]:
            click.echo(f"  SKIPPED  {skipped['plugin']}: {skipped['reason']}")
        for backend in row["backends"]:
            state = "available" if backend["available"] else f"unavailable: {backend['reason']}"
            click.echo(f"  backend  {backend['name']:<12} {state}")
        for dataset in row["datasets"]:
            click.echo(
                f"  dataset  {dataset['name']:<12} {dataset['num_class'] or 'its data names its'} "
                f"classes, {dataset['layout']} layout"
            )
        for exporter in row["exporters"]:
            click.echo(f"  exporter {exporter['name']}")
        for logger in row.get("loggers", []):
            click.echo(f"  logger   {logger['name']}")
        for estimator in row.get("pose_estimators", []):
            click.echo(
                f"  pose     {estimator['name']:<12} {', '.join(estimator['layouts'])} layouts"
            )
        for command in row["commands"]:
            click.echo(f"  command  {command}")


@cli.command()
@click.argument("run_dir", metavar="RUN_DIR")
@click.option("--output", help="Folder for the report (default: RUN_DIR/report).")
@click.option("--no-confusion", is_flag=True, help="Skip evaluating the best checkpoint.")
@click.option("--backend", help="Backend for the confusion matrix's evaluation (default: cpu).")
def report(run_dir: str, output: str | None, no_confusion: bool, backend: str | None) -> None:
    """Curves, a confusion matrix and a summary of a run (finished or still running)."""
    from stgcn.reports import write_report

    summary = write_report(run_dir, output, confusion=not no_confusion, backend=backend or "cpu")
    click.echo(f"wrote {summary} and its images in {summary.parent}")


@cli.command()
@click.argument("checkpoint", required=False, metavar="[CHECKPOINT]")
@click.option("--dataset", help="Describe a fresh model for this dataset instead.")
@click.option("--data-path", help="With --dataset: data that describes its classes.")
@click.option("--data-option", "data_option", multiple=True, metavar="KEY=VALUE")
@click.option("--frames", type=int, default=300, show_default=True, help="Frames per sample.")
@click.option("--persons", type=int, default=2, show_default=True, help="Persons per sample.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def info(
    checkpoint: str | None,
    dataset: str | None,
    data_path: str | None,
    data_option: tuple,
    frames: int,
    persons: int,
    as_json: bool,
) -> None:
    """A model's parameters, GFLOP per sample, layout, classes and training config."""
    from stgcn.reports.info_command import describe_model

    if bool(checkpoint) == bool(dataset):
        raise StgcnError("give a CHECKPOINT or --dataset NAME")
    if frames < 1 or persons < 1:
        raise StgcnError("--frames and --persons must be at least 1")
    options = parse_pairs(data_option, "--data-option") if data_option else {}
    facts = describe_model(checkpoint, dataset, data_path, options, frames, persons)
    if as_json:
        click.echo(json.dumps(facts))
        return
    names = facts["class_names"]
    shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
    click.echo(f"parameters     {facts['parameters']:,}")
    click.echo(
        f"forward        {facts['gflop_per_sample']:.2f} GFLOP per sample "
        f"({facts['frames']} frames, {facts['persons']} persons)"
    )
    click.echo(
        f"layout         {facts['layout']} ({facts['joints']} joints), {facts['strategy']} "
        f"strategy, {facts['in_channels']} input channels"
    )
    click.echo(f"classes        {facts['num_class']}" + (f": {shown}" if names else ""))
    if facts["dataset"]:
        click.echo(f"dataset        {facts['dataset']}")
    if facts["epoch"] is not None:
        click.echo(
            f"trained        {facts['epoch']} epochs, best val top1 {facts['best_top1']:.4f}"
        )
    for key in ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "precision"):
        if key in facts["config"]:
            click.echo(f"  {key:<13}{facts['config'][key]}")


@cli.group()
def data() -> None:
    """Datasets: list them; plugins add converters here."""


@data.command("list")
def data_list() -> None:
    """The installed datasets."""
    from stgcn.plugins.registry import get_registry

    for name, dataset in sorted(get_registry().datasets.items()):
        path = "needs --data-path" if dataset.needs_data_path else "built in, no files"
        classes = f"{dataset.num_class:>4} classes" if dataset.num_class else "classes from data"
        click.echo(f"{name:<14} {classes}  {path}  {dataset.description}")
        if dataset.presets:
            click.echo(f"{'':<14} presets: {', '.join(sorted(dataset.presets))}")


def frame_size_option(command: Any) -> Any:
    """``--frame-size WIDTHxHEIGHT``: OpenPose and COCO results files hold pixels."""
    return click.option(
        "--frame-size",
        metavar="WxH",
        help="With --openpose or --coco-results: the video's size in pixels (e.g. 1280x720).",
    )(command)


@data.command("extract")
@click.option("--videos", type=click.Path(), help="Folder of class subfolders of videos.")
@click.option(
    "--openpose",
    type=click.Path(),
    help="Folder of class subfolders, each clip a folder of OpenPose *_keypoints.json.",
)
@click.option(
    "--coco-results",
    type=click.Path(),
    help="Folder of class subfolders, each clip a COCO keypoint results .json file.",
)
@click.option("--output", required=True, type=click.Path(), help="Folder for the training set.")
@click.option(
    "--estimator", default="mediapipe", show_default=True, help="Pose estimator (--videos)."
)
@click.option(
    "--estimator-option", "estimator_option", multiple=True, metavar="KEY=VALUE",
    help="Estimator-specific setting; repeatable.",
)  # fmt: skip
@frame_size_option
@click.option(
    "--val-ratio",
    type=float,
    default=0.2,
    show_default=True,
    help="Share of each class for validation (chosen by a hash of the name).",
)
@click.option("--val-list", type=click.Path(), help="File naming the validation clips instead.")
@click.option(
    "--workers",
    type=int,
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    help="Parallel worker processes.",
)
def data_extract(
    videos: str | None,
    openpose: str | None,
    coco_results: str | None,
    output: str,
    estimator: str,
    estimator_option: tuple,
    frame_size: str | None,
    val_ratio: float,
    val_list: str | None,
    workers: int,
) -> None:
    """Class subfolders of videos (or skeleton files) to a training set for stgcn run.

    Writes a Kinetics-skeleton tree (kinetics_train/, kinetics_val/ and their label
    files) that `stgcn run --dataset kinetics-json --data-path OUTPUT` trains on
    (pip install stgcn-data-kinetics); a second run skips clips already extracted.
    """
    from stgcn.pose.extract import extract
    from stgcn.pose.readers import parse_frame_size

    given = [(k, v) for k, v in (("video", videos), ("openpose", openpose),
                                 ("coco-results", coco_results)) if v]  # fmt: skip
    if len(given) != 1:
        raise StgcnError("give one of --videos DIR, --openpose DIR and --coco-results DIR")
    kind, root = given[0]
    size = parse_frame_size(frame_size, f"--{kind}") if kind != "video" else None
    result = extract(
        root,
        output,
        kind=kind,
        estimator=estimator,
        estimator_options=parse_pairs(estimator_option, "--estimator-option"),
        frame_size=size,
        val_ratio=val_ratio,
        val_list=val_list,
        workers=workers,
    )
    failed = f", {len(result['failed'])} failed (skipped)" if result["failed"] else ""
    empty = f", {len(result['no_pose'])} without a person" if result["no_pose"] else ""
    click.echo(
        f"extracted {result['extracted']} clips ({result['skipped']} already done{failed}"
        f"{empty}) into {result['output']}: {result['train']} training and {result['val']} "
        f"validation clips of {len(result['classes'])} classes"
    )
    click.echo(f"train with: stgcn run --dataset kinetics-json --data-path {result['output']}")
    if result["failed"] and not result["extracted"] and not result["skipped"]:
        raise StgcnError(f"no clip could be extracted ({len(result['failed'])} failed)")


@data.group()
def convert() -> None:
    """Turn a dataset's release files into the arrays training reads (one command per plugin).

    A dataset plugin adds ``stgcn data convert NAME`` from its ``stgcn_register_commands``
    hook with ``stgcn.cli.convert.add_command(...)``.
    """


def build_cli() -> click.Group:
    from stgcn.plugins.registry import get_plugin_manager, get_registry, register_commands

    register_commands(get_plugin_manager(), get_registry(), cli)
    return cli


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"stgcn: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("STGCN_DEBUG") == "1" or "--debug" in (argv or sys.argv[1:])
    try:
        group = build_cli()
        group.main(args=argv, prog_name="stgcn", standalone_mode=False)
    except StgcnError as error:
        if debug:
            raise
        code = getattr(error, "exit_code", 1)
        if code != 1:  # a run stopped by a signal after saving: not a mistake
            click.echo(f"stgcn: {first_line(error)}", err=True)
            sys.exit(code)
        _fail(first_line(error))
    except OSError as error:
        # a path the user gave that cannot be read or written: no traceback for that
        if debug:
            raise
        _fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as error:
        if debug:
            raise
        hint = ""
        ctx = getattr(error, "ctx", None)
        if isinstance(error, click.UsageError) and ctx is not None:
            hint = f" (see {ctx.command_path} --help)"
        _fail(error.format_message() + hint, error.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":
    main()
