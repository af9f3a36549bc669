"""The HTTP application: routes, the body limit, the errors every route answers in
JSON, and the metrics middleware. :func:`make_app` takes a ready classifier, so that
what answers here is exactly what ``stgcn predict`` computes."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from stgcn_export.classifier import Classifier, Labelled
from stgcn_export.commands import clip_document

from stgcn.errors import StgcnError, first_line
from stgcn_serve.batching import Batcher, BatchLimits, QueueFull
from stgcn_serve.inputs import BadRequest, clip_from_body
from stgcn_serve.metrics import Metrics
from stgcn_serve.openapi import openapi_document
from stgcn_serve.pose import BadPicture, PoseSetup, Windows, predict_video
from stgcn_serve.stream_route import stream_endpoint

log = logging.getLogger("stgcn.serve")

ROUTES = (
    "/",
    "/v1/predict",
    "/v1/predict/video",
    "/v1/model",
    "/healthz",
    "/metrics",
    "/openapi.json",
)
#: what a 429 asks the client to wait (seconds): the queue drains in a few model runs
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask of the server."""

    batching: BatchLimits = field(default_factory=BatchLimits)
    #: the largest request body accepted (bytes); larger ones get 413
    max_body: int = 8 * 1024 * 1024
    #: the largest video upload (bytes)
    max_video: int = 64 * 1024 * 1024
    #: videos taken at once (one estimated, the others waiting for it, each holding its
    #: file); one more gets 429
    max_videos: int = 2
    #: the largest camera frame on the WebSocket (bytes); larger ones get an error message
    max_frame: int = 2 * 1024 * 1024
    #: WebSockets open at once (each holds a pose estimator); more are closed with 1013
    max_streams: int = 4


def make_app(
    classifier: Classifier,
    model_facts: dict[str, Any],
    limits: ServeLimits,
    pose: PoseSetup | None = None,
    batches: Classifier | None = None,
) -> Starlette:
    """The application serving ``classifier``; ``model_facts`` is ``GET /v1/model``'s
    answer (:func:`stgcn_serve.command.model_facts`); ``pose`` the estimator and windows
    of the picture routes (the video upload and the stream; None: clips only);
    ``batches`` what classifies runs of several clips (the same model laid out for
    batches; None: ``classifier``). A lone clip, a video and a stream are classified by
    ``classifier``, exactly as ``stgcn predict`` classifies them."""
    batcher = Batcher(_by_batch_size(classifier, batches or classifier), limits.batching)
    metrics = Metrics(lambda: batcher.depth)
    batcher.on_batch = metrics.record_batch
    # the videos' pose work, one video at a time (the estimator sets native stderr aside
    # while it reads, which one thread at a time may do); the model's batches have theirs
    video_worker = ThreadPoolExecutor(1, thread_name_prefix="stgcn-serve-video")
    videos_in_flight = 0

    async def predict_video_route(request: Request) -> Response:
        nonlocal videos_in_flight
        if pose is None or pose.estimator is None:
            reason = pose.unavailable if pose is not None else "no pose estimator"
            return _refuse(request, 501, reason or "no pose estimator")
        if videos_in_flight >= limits.max_videos:
            metrics.rejected_full += 1
            return _refuse(
                request,
                429,
                f"{limits.max_videos} videos are being estimated or waiting: retry later",
                {"Retry-After": str(RETRY_AFTER_SECONDS * 5)},
            )
        videos_in_flight += 1
        try:
            windows = Windows.of(pose, request.query_params)
            body = await _read_body(request, limits.max_video)
            if not body:
                raise BadRequest(400, "empty body: send the video file's bytes")
            with tempfile.TemporaryDirectory(prefix="stgcn-serve-") as folder:
                path = Path(folder) / f"upload{_video_suffix(request)}"
                path.write_bytes(body)
                del body
                loop = asyncio.get_running_loop()
                document = await loop.run_in_executor(
                    video_worker, predict_video, classifier, pose, path, windows
                )
        except BadRequest as error:
            return _refuse(request, error.status, error.message)
        except ClientDisconnect:
            return _refuse(request, 400, "the client hung up before the video ended")
        except (StgcnError, BadPicture) as error:  # unreadable, no person, wrong options
            return _refuse(request, 422, first_line(error))
        finally:
            videos_in_flight -= 1
        return JSONResponse(document)

    async def page(request: Request) -> Response:
        return HTMLResponse(_page_text())

    async def predict(request: Request) -> Response:
        try:
            body = await _read_body(request, limits.max_body)
            sample = clip_from_body(body)
            labelled = await batcher.label(sample)
        except BadRequest as error:
            return _refuse(request, error.status, error.message)
        except ClientDisconnect:  # hung up before its body ended: nobody to answer
            return _refuse(request, 400, "the client hung up before the body ended")
        except StgcnError as error:  # the model refuses the clip (its joints, its channels)
            return _refuse(request, 422, str(error))
        except QueueFull:
            metrics.rejected_full += 1
            return _refuse(
                request,
                429,
                f"the queue is full ({limits.batching.queue_size} clips): retry later",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        source = request.query_params.get("input", "request")
        return JSONResponse(clip_document(classifier, source, labelled))

    async def model(request: Request) -> Response:
        return JSONResponse(model_facts)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_page(request: Request) -> Response:
        return PlainTextResponse(metrics.text(), media_type="text/plain; version=0.0.4")

    described = openapi_document(f"stgcn serve: {model_facts['engine']} model")

    async def openapi(request: Request) -> Response:
        return JSONResponse(described)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        batcher.start()
        yield
        await batcher.stop()
        video_worker.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/v1/predict", predict, methods=["POST"]),
            Route("/v1/predict/video", predict_video_route, methods=["POST"]),
            WebSocketRoute("/v1/stream", stream_endpoint(classifier, pose, limits, metrics)),
            Route("/v1/model", model, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _by_batch_size(
    one: Classifier, several: Classifier
) -> Callable[[Sequence[np.ndarray]], list[Labelled]]:
    """The batcher's model run: a lone clip by ``one``, a batch by ``several``."""

    def label_batch(samples: Sequence[np.ndarray]) -> list[Labelled]:
        return (several if len(samples) > 1 else one).label_batch(samples)

    return label_batch


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (by its declared
    length, or while it streams in without one): never more than that in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"the body is {declared} bytes; this server takes at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, f"the body is over {limit} bytes, the most this server takes")
    return bytes(body)


#: the suffix an upload is saved under (FFmpeg reads by content; the name only helps)
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def _video_suffix(request: Request) -> str:
    """The upload's suffix from its ``filename`` query parameter, else ``.mp4``."""
    suffix = Path(request.query_params.get("filename", "")).suffix.lower()
    return suffix if suffix in VIDEO_SUFFIXES else ".mp4"


def _page_text() -> str:
    """The web page (``static/index.html``, shipped in the package)."""
    from importlib.resources import files

    return (files("stgcn_serve") / "static" / "index.html").read_text(encoding="utf-8")


def _refuse(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A client's mistake (or a full queue): one log line, and the line in JSON."""
    log.warning("%s %s: %d %s", request.method, request.url.path, status, message)
    return JSONResponse({"error": message}, status, headers=headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _refuse(request, error.status_code, str(error.detail), dict(error.headers or {}))


async def _server_error(request: Request, error: Exception) -> Response:
    log.error("%s %s: 500 %s: %s", request.method, request.url.path, type(error).__name__, error)
    return JSONResponse({"error": "internal server error"}, 500)


class MetricsMiddleware:
    """Counts every HTTP request by route and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.record_request(route, status, time.perf_counter() - started)
