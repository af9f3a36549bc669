"""``stgcn predict``: a thin click layer over the engines, the classifier and the pose
inputs. (``stgcn export onnx`` is no code of this package's: stgcn makes it from the
``onnx`` exporter record, as for any exporter.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stgcn.commands.options import (
    bare_model_options,
    checkpoint_option,
    estimator_options,
    frame_size_option,
    max_people_option,
    one_input,
)
from stgcn.errors import StgcnError
from stgcn.plugins.settings import parse_pairs


@bare_model_options
@click.command()
@checkpoint_option(
    "A stgcn checkpoint, a reference state_dict (PyTorch) or released weights' name."
)
@click.option("--onnx", "onnx_file", help="An exported .onnx file (onnxruntime).")
@click.option(
    "--input",
    "clip",
    metavar="CLIP",
    help=(
        "A .npy sample (C, T, V, M), taken as the model's input as it is (already sampled; "
        "the dataset plugin does not read it); a clip file its dataset plugin reads; or "
        "FILE#NAME, the clip NAME inside a file of many (a PYSKL pickle's frame_dir)."
    ),
)
@click.option("--video", help="A video: skeletons by the pose estimator, in sliding windows.")
@click.option(
    "--stream",
    metavar="SRC",
    help="A camera index (0), a URL OpenCV opens (rtsp://, http://) or a video file: "
    "labelled as the frames arrive, a line per track and window.",
)
@click.option("--openpose", help="A folder of OpenPose *_keypoints.json (BODY_25 or COCO-18).")
@click.option("--coco-results", help="A COCO keypoint results .json (MMPose, Detectron2, YOLO).")
@frame_size_option("With --openpose/--coco-results: the video's pixels.")
@estimator_options("--video, --stream")
@click.option(
    "--window", type=int, help="Frames per window (default: the model's window, else 150)."
)
@click.option("--stride", type=int, help="Frames between windows (default: half the window).")
@max_people_option(
    None,
    "People followed a frame, the most salient (default: the model's persons; the "
    "estimator looks for that many); a one-person model labels each, a model of several "
    "persons takes the most salient tracks.",
)
@click.option(
    "--realtime",
    is_flag=True,
    help="With --stream FILE: deliver frames at the file's frame rate, as a camera would "
    "(frames processing cannot keep up with are dropped and counted).",
)
@click.option("--show", is_flag=True, help="With --stream: show the labelled video in a window.")
@click.option(
    "--explain",
    is_flag=True,
    help="Each joint's importance for the top class (gradient-weighted class activation, "
    "--checkpoint only): in the JSON, and drawn by --render.",
)
@click.option(
    "--save-skeleton", metavar="FILE.json", help="Write the skeletons as a Kinetics JSON clip."
)
@click.option(
    "--render",
    metavar="OUT.mp4",
    help="Write the video with skeletons, track ids and top classes drawn.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["auto", "pytorch", "onnxruntime"]),
    default="auto",
    show_default=True,
    help="With --checkpoint: auto runs a video, a stream or pose files in onnxruntime "
    "(the checkpoint exported at start-up; 2.4-2.8x PyTorch's fp32 here) and one clip or "
    "--explain in PyTorch. --onnx always runs in onnxruntime.",
)
@click.option("--dataset", help="Dataset that reads the clip and names the classes.")
@click.option("--top", type=int, default=5, show_default=True, help="Classes to show.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON line (--stream: one per track and window, then a summary line).",
)
def predict(
    checkpoint: str | None,
    onnx_file: str | None,
    clip: str | None,
    video: str | None,
    stream: str | None,
    openpose: str | None,
    coco_results: str | None,
    frame_size: str | None,
    estimator: str,
    estimator_option: tuple[str, ...],
    window: int | None,
    stride: int | None,
    max_people: int | None,
    realtime: bool,
    show: bool,
    explain: bool,
    save_skeleton: str | None,
    render: str | None,
    engine_name: str,
    dataset: str | None,
    top: int,
    as_json: bool,
    layout: str | None,
    strategy: str | None,
    num_class: int | None,
) -> None:
    """Classify a clip (the top classes with their probabilities), a video or pose
    files in sliding windows per tracked person, or a live stream as it plays."""
    from stgcn.pose.inputs import check_max_people
    from stgcn_export.video_prediction import SkeletonRequest

    kind, source = one_input(
        ("input", "--input CLIP", clip),
        ("video", "--video FILE", video),
        ("stream", "--stream SRC", stream),
        ("openpose", "--openpose DIR", openpose),
        ("coco-results", "--coco-results FILE", coco_results),
    )
    if bool(checkpoint) == bool(onnx_file):
        raise StgcnError("give one of --checkpoint FILE and --onnx FILE")
    if top < 1:
        raise StgcnError("--top must be at least 1")
    check_max_people(max_people)
    pose_only = {
        "--window": window,
        "--stride": stride,
        "--max-people": max_people,
        "--save-skeleton": save_skeleton,
        "--render": render,
        "--frame-size": frame_size,
    }
    if kind == "input" and any(value is not None for value in pose_only.values()):
        used = next(name for name, value in pose_only.items() if value is not None)
        raise StgcnError(f"{used} applies to --video, --stream, --openpose and --coco-results")
    if render and kind not in ("video", "stream"):
        raise StgcnError("--render draws on the video: it needs --video or --stream")
    for flag, given_ in (("--realtime", realtime), ("--show", show)):
        if given_ and kind != "stream":
            raise StgcnError(f"{flag} applies to --stream")
    if kind == "stream" and (save_skeleton or frame_size):
        raise StgcnError("--save-skeleton and --frame-size apply to --video and pose files")
    if show:
        from stgcn_export.streaming import refuse_show_without_display

        refuse_show_without_display()
    if onnx_file and engine_name == "pytorch":
        raise StgcnError("--engine pytorch runs a --checkpoint; an --onnx file runs in onnxruntime")
    if explain and engine_name == "onnxruntime":
        raise StgcnError("--explain needs PyTorch's gradients: --engine pytorch or auto")
    if engine_name == "auto":
        from stgcn_export.engines import faster_engine

        engine_name = "auto" if faster_engine(kind, explain) == "onnxruntime" else "pytorch"
    classifier = make_classifier(
        checkpoint, onnx_file, (layout, strategy, num_class), dataset, top, explain, engine_name
    )
    if kind == "input":
        _predict_clip(classifier, source, as_json)
        return
    request = SkeletonRequest(
        kind,
        source,
        estimator,
        parse_pairs(estimator_option, "--estimator-option"),
        frame_size,
        window,
        stride,
        max_people,
        save_skeleton,
        render,
        as_json,
    )
    if kind == "stream":
        from stgcn_export.stream_command import predict_stream

        predict_stream(classifier, request, realtime, show)
        return
    _predict_skeletons(classifier, request)


def make_classifier(
    checkpoint: str | None,
    onnx_file: str | None,
    bare_model: tuple[str | None, str | None, int | None],
    dataset: str | None,
    top: int,
    explain: bool,
    engine_name: str = "pytorch",
) -> Any:
    """The engine (PyTorch or onnxruntime) and what goes with it (``stgcn serve``
    builds its classifier here too, so that it answers as ``predict`` does).
    ``engine_name``: what runs a ``checkpoint``: ``pytorch``; ``onnxruntime``, the network
    exported at start-up; ``auto``, onnxruntime where the network exports, else PyTorch
    (a third party's network that the ONNX exporter cannot trace still predicts)."""
    from stgcn.commands.model_source import find_dataset, load_checkpoint_model
    from stgcn_export.classifier import Classifier
    from stgcn_export.engines import Engine, ExportedCheckpointEngine, OnnxEngine, TorchEngine

    engine: Engine
    if checkpoint:
        loaded = load_checkpoint_model(checkpoint, *bare_model)
        engine = TorchEngine(*loaded)
        if engine_name == "onnxruntime":
            engine = ExportedCheckpointEngine(*loaded)
        elif engine_name == "auto":
            try:
                engine = ExportedCheckpointEngine(*loaded)
            except Exception:  # any exporter failure: PyTorch runs every network
                engine = TorchEngine(*loaded)
    else:
        if any(value is not None for value in bare_model):
            raise StgcnError("--layout, --strategy and --num-class apply to --checkpoint only")
        engine = OnnxEngine(onnx_file)  # type: ignore[arg-type]
    name = dataset or engine.dataset_name
    record = find_dataset(
        name, explicit=bool(dataset), num_class=engine.num_class, checkpoint=engine.checkpoint
    )
    options = engine.data_options if not dataset or dataset == engine.dataset_name else {}
    modality = str(options.get("modality", "joint"))
    transform = None
    if modality != "joint":  # a bone or motion model takes its stream of the clip
        transform = stream_of(engine.model_config, record, modality)
    return Classifier(engine, record, name, bool(dataset), transform, top, explain)


def _predict_clip(classifier: Any, source: str, as_json: bool) -> None:
    """``predict --input``: one clip, its top classes."""
    from stgcn_export.samples import read_clip

    engine, name = classifier.engine, classifier.dataset_name
    same = not classifier.dataset_given or name == engine.dataset_name
    options = engine.data_options if same else {}
    sample = read_clip(source, classifier.record, name, options)
    labelled = classifier.label(sample)
    ranked = labelled.ranked
    if as_json:
        click.echo(json.dumps(clip_document(classifier, source, labelled)))
        return
    from_set = f", dataset {name}" if name else ""
    classes = labelled.classes
    click.echo(f"{source}: top {len(ranked)} of {classes} classes ({engine.name}{from_set})")
    for row in ranked:
        click.echo(row.describe())
    if labelled.joint_importance is not None:
        click.echo(_importance_line(labelled.joint_importance))


def clip_document(classifier: Any, source: str, labelled: Any) -> dict[str, Any]:
    """``predict --input --json``'s one document for a clip (``stgcn serve`` answers
    with it too): where the clip came from, the engine, the dataset, the ranked classes
    and, with ``--explain``, each joint's importance."""
    from stgcn_export.prediction import ranked_json

    document: dict[str, Any] = {
        "input": source,
        "engine": classifier.engine.name,
        "dataset": classifier.dataset_name,
        "top": ranked_json(labelled.ranked),
    }
    if labelled.joint_importance is not None:
        document["joint_importance"] = [round(float(v), 4) for v in labelled.joint_importance]
    return document


def _importance_line(importance: Any) -> str:
    return "joint importance: " + " ".join(f"{float(v):.2f}" for v in importance)


def _predict_skeletons(classifier: Any, request: Any) -> None:
    """``predict --video`` (or ``--openpose``, ``--coco-results``): every check first,
    then the skeletons, the tracks, the windows, and what was asked to be written."""
    from stgcn_export.video_prediction import (
        captions,
        classify,
        json_document,
        load_input,
        overlays,
        window_plan,
    )
    from stgcn_export.video_prediction import save_skeleton as write_skeleton

    layout, persons, window, stride = window_plan(classifier, request)
    source = request.source
    save_skeleton, render = request.save_skeleton, request.render
    for what, target in (("--save-skeleton", save_skeleton), ("--render", render)):
        if target and Path(target).exists() and Path(target).resolve() == Path(source).resolve():
            raise StgcnError(f"{what} {target} is the input itself; choose another file")
    if render and Path(render).suffix.lower() != ".mp4":
        raise StgcnError(f"--render writes an mp4 video; {render} does not end in .mp4")
    if save_skeleton and Path(save_skeleton).suffix.lower() != ".json":
        raise StgcnError(
            f"--save-skeleton writes a JSON clip; {save_skeleton} does not end in .json"
        )
    skeletons = load_input(request, layout, request.max_people or persons)
    if skeletons.frames_with_pose == 0:
        raise StgcnError(
            f"no {skeletons.subject} found in {source} ({len(skeletons.frames)} frames)"
        )
    results, count, tracked = classify(skeletons, classifier, persons, window, stride)
    names = classifier.names_for(count)
    if save_skeleton:
        write_skeleton(save_skeleton, skeletons)
    if render:
        from stgcn.pose.video import render_video

        edges = [e for e in layout.edges if e[0] != e[1]]
        render_video(
            source,
            render,
            skeletons,
            edges,
            captions(len(skeletons.frames), results, names),
            overlays(tracked, results, names),
        )
    if request.as_json:
        click.echo(json.dumps(json_document(skeletons, results, names)))
        return
    name = classifier.dataset_name
    from_set = f", dataset {name}" if name else ""
    spans = "window" if len(results) == 1 else "windows"
    tracks = len({track for result in results for track in result.tracks})
    click.echo(
        f"{source}: {len(skeletons.frames)} frames, a pose in {skeletons.frames_with_pose} "
        f"({layout.name} layout); {len(results)} {spans} of up to {window} frames, stride {stride} "
        f"({classifier.engine.name}{from_set}); {tracks} {'track' if tracks == 1 else 'tracks'}"
    )
    for result in results:
        shown = ", ".join(
            f"{names[i] if names is not None else f'class {i}'} {p:.4f}" for i, p in result.ranked
        )
        who = f"[track {result.track}] " if result.track is not None else ""
        click.echo(f"frames {result.start}-{result.end - 1}: {who}{shown}")
        if result.joint_importance is not None:
            click.echo("  " + _importance_line(result.joint_importance))
    for what, target in (("skeleton", save_skeleton), ("video", render)):
        if target:
            click.echo(f"wrote {what} {target}")


def stream_of(model_config: dict[str, Any], record: Any, modality: str) -> Any:
    """The model's stream over its own layout (a detection score as the last channel
    unless the dataset, where installed, says otherwise)."""
    from stgcn.data.streams import Stream, parents
    from stgcn.plugins.layouts import resolve_layout

    if "layout" not in model_config and record is None:
        raise StgcnError(f"cannot make the {modality} stream: the model file names no layout")
    layout = resolve_layout(model_config.get("layout") or record.layout)
    score = bool(getattr(record, "score_channel", True))
    return Stream(modality, tuple(parents(layout)), score)


def add_commands(cli: click.Group) -> None:
    """Add ``predict`` (``stgcn export onnx`` is made by stgcn from the exporter record)."""
    cli.add_command(predict)
