"""``stgcn serve``: the click layer. The model is loaded and checked before the server
listens, so that a bad checkpoint or a taken port is one ``stgcn: error:`` line."""

from __future__ import annotations

import socket
from typing import Any

import click

from stgcn.commands.options import bare_model_options
from stgcn.errors import StgcnError


@bare_model_options
@click.command()
@click.option("--checkpoint", help="A stgcn checkpoint or a reference state_dict (PyTorch).")
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
    layout: str | None,
    strategy: str | None,
    num_class: int | None,
) -> None:
    """Serve a model over HTTP: POST /v1/predict (a clip, JSON or .npy) answers as
    predict --json does; GET /v1/model, /healthz, /metrics (Prometheus). Concurrent
    requests are batched for the model."""
    import logging

    import uvicorn
    from stgcn_export.commands import make_classifier

    from stgcn_serve.app import ServeLimits, make_app
    from stgcn_serve.batching import BatchLimits

    if bool(checkpoint) == bool(onnx_file):
        raise StgcnError("give one of --checkpoint FILE and --onnx FILE")
    for name, value in (("--top", top), ("--max-batch", max_batch), ("--queue-size", queue_size)):
        if value < 1:
            raise StgcnError(f"{name} must be at least 1")
    if batch_window_ms < 0 or max_body_mb <= 0:
        raise StgcnError("--batch-window-ms must be 0 or more and --max-body-mb above 0")
    if not 0 <= port <= 65535:
        raise StgcnError(f"--port {port} is not a port (0 to 65535)")
    classifier = make_classifier(
        checkpoint, onnx_file, (layout, strategy, num_class), dataset, top, False
    )
    facts = model_facts(classifier)
    listening = _listen(host, port)
    limits = ServeLimits(
        BatchLimits(max_batch, batch_window_ms / 1000, queue_size), int(max_body_mb * 2**20)
    )
    logging.basicConfig(format="stgcn serve: %(levelname)s: %(message)s", level=logging.INFO)
    bound = listening.getsockname()[1]
    click.echo(
        f"stgcn serve: {facts['engine']} model, {facts['num_class']} classes, "
        f"on http://{host}:{bound} (max batch {max_batch}, queue {queue_size})",
        err=True,
    )
    config = uvicorn.Config(
        make_app(classifier, facts, limits), log_level="warning", access_log=False
    )
    uvicorn.Server(config).run(sockets=[listening])


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
    persons, and the input's channels and joints (None where the model file does not
    say)."""
    from stgcn_export.video_prediction import default_window, model_layout, model_persons

    engine, record = classifier.engine, classifier.record
    count = engine.num_class
    names = classifier.names_for(count) if count is not None else None
    try:
        layout: str | None = model_layout(engine, record).name
    except StgcnError:
        layout = None
    shape = getattr(engine, "input_shape", None)  # an export's (N, C, T, V, M)
    channels = getattr(engine, "channels", shape[1] if shape else None)
    joints = getattr(engine, "joints", shape[3] if shape else None)
    return {
        "engine": engine.name,
        "dataset": classifier.dataset_name,
        "num_class": count,
        "classes": list(names) if names is not None else None,
        "layout": layout,
        "frames": default_window(engine),
        "persons": model_persons(engine, record),
        "channels": channels if isinstance(channels, int) else None,
        "joints": joints if isinstance(joints, int) else None,
    }
