"""``stgcn export onnx`` and ``stgcn predict``.

Thin click layers: the export goes through the registered ``onnx`` Exporter record,
so that the command and any program calling the exporter share one code path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stgcn.errors import StgcnError
from stgcn.graph import STRATEGIES

DEFAULT_PERSONS = 2


def _model_options(command: Any) -> Any:
    """--layout, --strategy, --num-class: for a bare state_dict that cannot tell them."""
    for option in reversed(
        [
            click.option(
                "--layout",
                help="For a bare state_dict: openpose, ntu-rgb+d, ntu_edge, coco, or a .json "
                "file {num_node, edges, center}. Default: inferred.",
            ),
            click.option(
                "--strategy",
                type=click.Choice(STRATEGIES),
                help="For a bare state_dict. Default: inferred.",
            ),
            click.option(
                "--num-class", type=int, help="For a bare state_dict: check the class count."
            ),
        ]
    ):
        command = option(command)
    return command


def parse_shape(text: str) -> tuple[int, int, int]:
    """``BxTxM`` (batch, frames, persons) to a triple."""
    parts = text.lower().split("x")
    try:
        batch, frames, persons = (int(part) for part in parts)
    except ValueError:
        raise StgcnError(
            f"--verify-shape expects BATCHxFRAMESxPERSONS such as 3x72x2, got {text!r}"
        ) from None
    return batch, frames, persons


@click.group("export")
def export_group() -> None:
    """Write a trained model to another format."""


@export_group.command("onnx")
@click.option("--checkpoint", required=True, help="A stgcn checkpoint or a reference state_dict.")
@click.option("--output", required=True, help="The .onnx file to write.")
@click.option("--opset", type=int, default=17, show_default=True, help="ONNX opset, 11 to 20.")
@click.option("--batch", type=int, default=1, show_default=True, help="Example batch size.")
@click.option("--frames", type=int, default=150, show_default=True, help="Example frames.")
@click.option("--persons", type=int, help="Example persons. Default: the dataset's, else 2.")
@click.option(
    "--static",
    is_flag=True,
    help="Fix the input to the example shape. Default: batch, frames and persons are dynamic.",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check the file with onnx.checker and compare onnxruntime with PyTorch.",
)
@click.option(
    "--verify-shape",
    "verify_shapes",
    multiple=True,
    metavar="BxTxM",
    help="Compare at this batch x frames x persons; repeatable. Default: two shapes "
    "other than the example's.",
)
@click.option(
    "--tolerance",
    type=float,
    default=1e-4,
    show_default=True,
    help="Largest relative error accepted.",
)
@click.option("--dataset", help="Dataset whose class names to store. Default: the checkpoint's.")
@_model_options
def export_onnx_command(
    checkpoint: str,
    output: str,
    opset: int,
    batch: int,
    frames: int,
    persons: int | None,
    static: bool,
    verify: bool,
    verify_shapes: tuple[str, ...],
    tolerance: float,
    dataset: str | None,
    layout: str | None,
    strategy: str | None,
    num_class: int | None,
) -> None:
    """Export a checkpoint to ONNX, then verify it against PyTorch."""
    from stgcn.plugins import get_registry
    from stgcn_export.metadata import describe_dataset
    from stgcn_export.model_source import find_dataset, load_checkpoint_model

    target = Path(output)
    _refuse_overwrite(target, Path(checkpoint))
    model, saved = load_checkpoint_model(checkpoint, layout, strategy, num_class)
    name = dataset or (saved or {}).get("config", {}).get("dataset")
    record = find_dataset(name, explicit=bool(dataset), num_class=model.num_class, checkpoint=saved)
    if persons is None:
        persons = record.num_person if record is not None else DEFAULT_PERSONS
    options = {
        "opset": opset,
        "batch": batch,
        "frames": frames,
        "persons": persons,
        "static": static,
        "verify": verify,
        "verify_shapes": tuple(parse_shape(shape) for shape in verify_shapes),
        "tolerance": tolerance,
        "metadata": describe_dataset(
            name,
            _class_names(saved, record, model.num_class),
            (saved or {}).get("config", {}).get("data_options") if not dataset else None,
        ),
    }
    report = get_registry().exporter("onnx").export(model, target, options)
    click.echo(report.describe())
    if report.checks:
        errors = ", ".join(check.describe() for check in report.checks)
        click.echo(
            f"verified: onnx.checker passed; onnxruntime vs PyTorch relative error {errors} "
            f"(tolerance {tolerance:.0e})"
        )
    else:
        click.echo("not verified (--no-verify)")


def _refuse_overwrite(output: Path, checkpoint: Path) -> None:
    """An export replaces an older export, never the checkpoint or another kind of file."""
    if output.exists() and checkpoint.exists() and output.resolve() == checkpoint.resolve():
        raise StgcnError(f"--output {output} is the checkpoint itself; choose another file")
    if output.is_file() and output.suffix.lower() != ".onnx":
        raise StgcnError(f"{output} exists and is not an .onnx file; not overwriting it")


@click.command()
@click.option("--checkpoint", help="A stgcn checkpoint or a reference state_dict (PyTorch).")
@click.option("--onnx", "onnx_file", help="An exported .onnx file (onnxruntime).")
@click.option(
    "--input",
    "clip",
    required=True,
    help="A .npy sample (C, T, V, M), or a clip file its dataset plugin reads.",
)
@click.option("--dataset", help="Dataset that reads the clip and names the classes.")
@click.option("--top", type=int, default=5, show_default=True, help="Classes to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line.")
@_model_options
def predict(
    checkpoint: str | None,
    onnx_file: str | None,
    clip: str,
    dataset: str | None,
    top: int,
    as_json: bool,
    layout: str | None,
    strategy: str | None,
    num_class: int | None,
) -> None:
    """Classify one clip: the top classes with their probabilities."""
    from stgcn_export.engines import Engine, OnnxEngine, TorchEngine
    from stgcn_export.model_source import class_names_of, find_dataset, load_checkpoint_model
    from stgcn_export.prediction import top_classes
    from stgcn_export.samples import read_clip

    if bool(checkpoint) == bool(onnx_file):
        raise StgcnError("give one of --checkpoint FILE and --onnx FILE")
    if top < 1:
        raise StgcnError("--top must be at least 1")
    engine: Engine
    if checkpoint:
        engine = TorchEngine(*load_checkpoint_model(checkpoint, layout, strategy, num_class))
    else:
        if layout or strategy or num_class is not None:
            raise StgcnError("--layout, --strategy and --num-class apply to --checkpoint only")
        engine = OnnxEngine(onnx_file)
    name = dataset or engine.dataset_name
    record = find_dataset(
        name, explicit=bool(dataset), num_class=engine.num_class, checkpoint=engine.checkpoint
    )
    options = engine.data_options if not dataset or dataset == engine.dataset_name else {}
    sample = read_clip(clip, record, name, options)
    modality = str(options.get("modality", "joint"))
    if modality != "joint":  # a bone or motion model takes its stream of the clip
        sample = stream_of(engine.model_config, record, modality)(sample)
    logits = engine.logits(sample)
    names = class_names_of(record, len(logits))
    if not dataset and engine.class_names is not None and len(engine.class_names) == len(logits):
        names = engine.class_names
    ranked = top_classes(logits, top, names)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "input": clip,
                    "engine": engine.name,
                    "dataset": name,
                    "top": [
                        {"class": r.index, "name": r.name, "probability": r.probability}
                        for r in ranked
                    ],
                }
            )
        )
        return
    source = f", dataset {name}" if name else ""
    click.echo(f"{clip}: top {len(ranked)} of {len(logits)} classes ({engine.name}{source})")
    for row in ranked:
        click.echo(row.describe())


def _class_names(saved: Any, record: Any, num_class: int) -> Any:
    from stgcn_export.model_source import class_names_of

    names = list((saved or {}).get("class_names") or [])
    return names if len(names) == num_class else class_names_of(record, num_class)


def stream_of(model_config: dict[str, Any], record: Any, modality: str) -> Any:
    """The model's stream over its own layout (a detection score as the last channel
    unless the dataset, where installed, says otherwise)."""
    from stgcn.graph import get_layout
    from stgcn.streams import Stream, parents

    if "layout" not in model_config and record is None:
        raise StgcnError(f"cannot make the {modality} stream: the model file names no layout")
    layout = get_layout(model_config.get("layout") or record.layout)
    score = bool(getattr(record, "score_channel", True))
    return Stream(modality, tuple(parents(layout)), score)


def add_commands(cli: click.Group) -> None:
    """Add ``export onnx`` (into an ``export`` group another plugin may have made) and
    ``predict``."""
    existing = cli.commands.get("export")
    if existing is None:
        cli.add_command(export_group)
    elif isinstance(existing, click.Group):
        existing.add_command(export_onnx_command, "onnx")
    else:
        raise RuntimeError("another plugin's 'export' command is not a group")
    cli.add_command(predict)
