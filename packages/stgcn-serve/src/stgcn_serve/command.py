"""``stgcn serve``: the click layer. The model is loaded and checked before the server
listens, so that a bad checkpoint or a taken port is one ``stgcn: error:`` line."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import click

from stgcn.commands.options import (
    bare_model_options,
    checkpoint_option,
    estimator_options,
    max_people_option,
)
from stgcn.errors import StgcnError

if TYPE_CHECKING:  # the command imports the model's stack only once it runs
    from stgcn_export.classifier import Classifier


@bare_model_options
@click.command()
@checkpoint_option(
    "A stgcn checkpoint or a reference state_dict (PyTorch), or a released weights' "
    "name (stgcn weights list)."
)
@click.option("--onnx", "onnx_file", help="An exported .onnx file (onnxruntime).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--dataset", help="Dataset that names the classes (as for predict).")
@click.option("--top", type=int, default=5, show_default=True, help="Classes in each answer.")
@click.option(
    "--max-batch",
    type=int,
    default=8,
    show_default=True,
    help="Most clips the model runs at once (1: no batching); past the size where the "
    "model's throughput stops growing, larger batches only add latency.",
)
@click.option(
    "--batch-window-ms",
    type=float,
    default=5.0,
    show_default=True,
    help="How long a clip waits for others to share its model run.",
)
@click.option(
    "--queue-size",
    type=int,
    default=64,
    show_default=True,
    help="Most clips waiting for the model; beyond it requests get 429 with Retry-After.",
)
@click.option(
    "--max-body-mb",
    type=float,
    default=8.0,
    show_default=True,
    help="Largest request body accepted (413 beyond it).",
)
@estimator_options("POST /v1/predict/video, GET /v1/stream")
@click.option(
    "--window",
    type=int,
    help="Frames per window of a video or stream (default: the model's window, else 150; "
    "a request's ?window= overrides).",
)
@click.option("--stride", type=int, help="Frames between windows (default: half the window).")
@max_people_option(None, "People followed a frame (default: the model's persons).")
@click.option(
    "--explain",
    is_flag=True,
    help="Each joint's importance for the top class in every video and stream window "
    "(--checkpoint only; the page draws it).",
)
@click.option(
    "--max-video-mb",
    type=float,
    default=64.0,
    show_default=True,
    help="Largest video upload accepted (413 beyond it).",
)
@click.option(
    "--max-frame-kb",
    type=float,
    default=2048.0,
    show_default=True,
    help="Largest stream frame accepted (an error message beyond it).",
)
@click.option(
    "--max-streams",
    type=int,
    default=4,
    show_default=True,
    help="WebSocket streams open at once (each runs a pose estimator); more are closed "
    "with code 1013 (try again later).",
)
def serve(
    checkpoint: str | None,
    onnx_file: str | None,
    host: str,
    port: int,
    dataset: str | None,
    top: int,
    max_batch: int,
    batch_window_ms: float,
    queue_size: int,
    max_body_mb: float,
    estimator: str,
    estimator_option: tuple[str, ...],
    window: int | None,
    stride: int | None,
    max_people: int | None,
    explain: bool,
    max_video_mb: float,
    max_frame_kb: float,
    max_streams: int,
    layout: str | None,
    strategy: str | None,
    num_class: int | None,
) -> None:
    """Serve a model over HTTP: POST /v1/predict (a clip, JSON or .npy) answers as
    predict --json does, POST /v1/predict/video (a video file) as predict --video
    --json; GET /v1/stream, a WebSocket of camera frames labelled as they come; the web
    page at /, which labels the browser's camera; GET /v1/model, /healthz, /metrics
    (Prometheus). Concurrent clips are batched for the model."""
    import logging

    import uvicorn
    from stgcn_export.commands import make_classifier

    from stgcn.plugins.settings import parse_pairs
    from stgcn_serve.app import ServeLimits, make_app
    from stgcn_serve.batching import BatchLimits

    if bool(checkpoint) == bool(onnx_file):
        raise StgcnError("give one of --checkpoint FILE and --onnx FILE")
    counts = (
        ("--top", top),
        ("--max-batch", max_batch),
        ("--queue-size", queue_size),
        ("--max-streams", max_streams),
    )
    for name, value in counts:
        if value < 1:
            raise StgcnError(f"{name} must be at least 1")
    if batch_window_ms < 0 or min(max_body_mb, max_video_mb, max_frame_kb) <= 0:
        raise StgcnError(
            "--batch-window-ms must be 0 or more, and --max-body-mb, --max-video-mb and "
            "--max-frame-kb above 0"
        )
    if not 0 <= port <= 65535:
        raise StgcnError(f"--port {port} is not a port (0 to 65535)")
    classifier = make_classifier(
        checkpoint, onnx_file, (layout, strategy, num_class), dataset, top, explain
    )
    options = parse_pairs(estimator_option, "--estimator-option")
    pose = _pose_setup(classifier, estimator, options, (window, stride, max_people))
    facts = model_facts(classifier)
    batches = _classifier_for_batches(classifier, facts)
    listening = _listen(host, port)
    limits = ServeLimits(
        BatchLimits(max_batch, batch_window_ms / 1000, queue_size),
        int(max_body_mb * 2**20),
        max_video=int(max_video_mb * 2**20),
        max_frame=int(max_frame_kb * 1024),
        max_streams=max_streams,
    )
    _log_beside_native_output()
    bound = listening.getsockname()[1]
    click.echo(
        f"stgcn serve: {facts['engine']} model, {facts['num_class']} classes, "
        f"on http://{host}:{bound} (max batch {max_batch}, queue {queue_size})",
        err=True,
    )
    if pose is not None and pose.unavailable:
        logging.getLogger("stgcn.serve").warning("%s", pose.unavailable)
    config = uvicorn.Config(
        make_app(classifier, facts, limits, pose, batches),
        log_level="warning",
        access_log=False,
        # a frame over --max-frame-kb gets an error message; one over four times that
        # closes the connection (1009) before it is held in memory
        ws_max_size=4 * limits.max_frame,
    )
    uvicorn.Server(config).run(sockets=[listening])


#: frames of the clip that checks the network computes alike in either memory layout
PROBE_FRAMES = 16


def _classifier_for_batches(classifier: Classifier, facts: dict[str, Any]) -> Classifier:
    """What runs the batches of several clips: with a checkpoint, the classifier with a
    copy of the network stored channels-last where it computes the same so
    (:meth:`TorchEngine.channels_last_copy`: faster, the more so the larger the batch;
    docs/performance.md, "Serving over HTTP"); else ``classifier`` itself."""
    import dataclasses

    import numpy as np
    from stgcn_export.engines import ExportedCheckpointEngine, TorchEngine

    engine = classifier.engine
    if not isinstance(engine, TorchEngine) or isinstance(engine, ExportedCheckpointEngine):
        return classifier
    shape = (facts["channels"], PROBE_FRAMES, facts["joints"], facts["persons"] or 1)
    if not all(isinstance(size, int) for size in shape):
        return classifier
    probe = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    copied = engine.channels_last_copy(probe)
    return classifier if copied is None else dataclasses.replace(classifier, engine=copied)


def _pose_setup(classifier: Any, estimator: str, options: Any, windows: Any) -> Any:
    """The picture routes' setup; None where the model names no layout (a bare
    state_dict without ``--layout``): such a server classifies clips only."""
    from stgcn_serve.pose import pose_setup

    try:
        return pose_setup(classifier, estimator, options, windows)
    except StgcnError as error:
        if "names no layout" not in str(error):
            raise
        return None


def _log_beside_native_output() -> None:
    """The server's log lines go to the terminal (standard error as it is now), and
    native libraries' own writes to descriptor 2 (FFmpeg's complaints about a broken
    upload, MediaPipe's start-up lines, from threads of their own) go nowhere, for the
    whole run: the log stays one line per event. ``stgcn --debug`` keeps them."""
    import logging
    import os
    import sys

    stream = sys.stderr
    if os.environ.get("STGCN_DEBUG") != "1":
        try:
            stream = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
            with open(os.devnull, "w") as sink:
                os.dup2(sink.fileno(), 2)
            sys.stderr = stream
        except OSError:
            stream = sys.stderr
    logging.basicConfig(
        format="stgcn serve: %(levelname)s: %(message)s",
        level=logging.INFO,
        handlers=[logging.StreamHandler(stream)],
    )


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened here so that a taken port or an unknown address is
    one line before uvicorn starts (uvicorn serves on it as it is)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError as error:
        raise StgcnError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    listening.listen(2048)
    return listening


def model_facts(classifier: Any) -> dict[str, Any]:
    """``GET /v1/model``: what a client needs to build a clip and read the answer: the
    engine, the dataset, the class names, the layout, the frames it was trained on, the
    persons, the input's channels and joints (None where the model file does not
    say), and the layout's bones (joint index pairs: what the page draws)."""
    from stgcn_export.video_prediction import default_window, model_layout, model_persons

    engine, record = classifier.engine, classifier.record
    count = engine.num_class
    names = classifier.names_for(count) if count is not None else None
    layout: str | None = None
    bones: list[list[int]] | None = None
    try:
        known = model_layout(engine, record)
        layout = known.name
        bones = [[int(a), int(b)] for a, b in known.edges if a != b]
    except StgcnError:
        pass
    shape = getattr(engine, "input_shape", None)  # an export's (N, C, T, V, M)
    channels = getattr(engine, "channels", shape[1] if shape else None)
    joints = getattr(engine, "joints", shape[3] if shape else None)
    return {
        "engine": engine.name,
        "dataset": classifier.dataset_name,
        "num_class": count,
        "classes": list(names) if names is not None else None,
        "layout": layout,
        "bones": bones,
        "frames": default_window(engine),
        "persons": model_persons(engine, record),
        "channels": channels if isinstance(channels, int) else None,
        "joints": joints if isinstance(joints, int) else None,
    }
