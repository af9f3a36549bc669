"""``GET /v1/stream``: a WebSocket of camera frames in, tracked skeletons and labels out.

The client sends each frame as one binary message (a JPEG, or a PNG); the server
answers each frame it processes with one JSON text message (``{"type": "frame", ...}``:
the frame's tracked people and, when a window ends there, the labelled windows as
``stgcn predict --stream --json`` prints them). A frame the server cannot read is
answered with ``{"type": "error", ...}`` and the stream goes on.

Two tasks a connection. The receiver reads every message as it comes and keeps only the
newest frame in a slot of one; the processor takes the frame from the slot, runs the
pose estimator and the model on it in the connection's worker thread, and sends the
answer. A frame that arrives while the slot is still full replaces the one waiting,
which is counted as dropped (in each answer and in ``/metrics``): a client that sends
faster than the server processes, or reads its answers slowly (then sending the answer
waits), loses frames, never builds a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect
from stgcn_export.classifier import Classifier

from stgcn.errors import StgcnError, first_line
from stgcn_serve.metrics import Metrics
from stgcn_serve.pose import BadPicture, PoseSetup, StreamSession, Windows

if TYPE_CHECKING:
    from stgcn_serve.app import ServeLimits

log = logging.getLogger("stgcn.serve")

#: the close code of a stream refused because the server holds its most already
TRY_AGAIN_LATER = 1013


@dataclass
class _Slot:
    """The newest frame not yet processed (None: none), and whether the client left."""

    frame: tuple[int, bytes, float] | None = None
    closed: bool = False


def stream_endpoint(
    classifier: Classifier, pose: PoseSetup | None, limits: ServeLimits, metrics: Metrics
) -> Any:
    """The WebSocket route's handler, bound to the server's model and limits."""
    open_streams = 0

    async def endpoint(websocket: WebSocket) -> None:
        nonlocal open_streams
        await websocket.accept()
        if pose is None or pose.estimator is None:
            reason = pose.unavailable if pose is not None else "no pose estimator"
            await _refuse_stream(websocket, reason or "no pose estimator", 1011)
            return
        try:
            windows = Windows.of(pose, websocket.query_params)
        except StgcnError as error:
            await _refuse_stream(websocket, first_line(error), 1008)
            return
        if open_streams >= limits.max_streams:
            await _refuse_stream(
                websocket, f"{limits.max_streams} streams are open: retry later", TRY_AGAIN_LATER
            )
            return
        open_streams += 1
        metrics.streams_open += 1
        try:
            await _serve_stream(websocket, classifier, pose, windows, (limits, metrics))
        finally:
            open_streams -= 1
            metrics.streams_open -= 1

    return endpoint


async def _refuse_stream(websocket: WebSocket, reason: str, code: int) -> None:
    log.warning("WEBSOCKET /v1/stream: closed %d %s", code, reason)
    await websocket.send_text(json.dumps({"type": "error", "error": reason}))
    await websocket.close(code, reason[:120])


async def _serve_stream(
    websocket: WebSocket,
    classifier: Classifier,
    pose: PoseSetup,
    windows: Windows,
    bounds: tuple[ServeLimits, Metrics],
) -> None:
    limits, metrics = bounds
    loop = asyncio.get_running_loop()
    worker = ThreadPoolExecutor(1, thread_name_prefix="stgcn-serve-stream")
    slot = _Slot()
    ready = asyncio.Event()
    sending = asyncio.Lock()
    counts = {"received": 0, "dropped": 0}

    async def send(message: dict[str, Any]) -> None:
        async with sending:
            await websocket.send_text(json.dumps(message))

    async def receive() -> None:
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("bytes")
                index = counts["received"]
                counts["received"] += 1
                metrics.frames_received += 1
                if data is None:
                    await _frame_error(
                        send, metrics, index, "send each frame as a binary message (JPEG)"
                    )
                    continue
                if len(data) > limits.max_frame:
                    reason = (
                        f"frame of {len(data)} bytes; this server takes at most {limits.max_frame}"
                    )
                    await _frame_error(send, metrics, index, reason)
                    continue
                if slot.frame is not None:  # the waiting frame is stale: replaced, counted
                    counts["dropped"] += 1
                    metrics.frames_dropped += 1
                slot.frame = (index, data, time.perf_counter())
                ready.set()
        except WebSocketDisconnect:
            return
        finally:
            slot.closed = True
            ready.set()

    async def process(session: StreamSession) -> None:
        while True:
            await ready.wait()
            ready.clear()
            if slot.closed:
                return
            if slot.frame is None:
                continue
            index, data, _ = slot.frame
            slot.frame = None
            try:
                answer = await loop.run_in_executor(worker, session.frame, index, data)
            except (BadPicture, StgcnError) as error:
                await _frame_error(send, metrics, index, first_line(error))
                continue
            except Exception as error:  # a fault of the server's: one line, the stream goes on
                log.error("WEBSOCKET /v1/stream: frame %d failed: %s: %s", index,
                          type(error).__name__, first_line(error))  # fmt: skip
                await _frame_error(send, metrics, index, "internal server error")
                continue
            metrics.frames_processed += 1
            answer["dropped"] = counts["dropped"]
            answer["received"] = counts["received"]
            await send(answer)

    try:
        session = await loop.run_in_executor(worker, StreamSession, classifier, pose, windows)
    except StgcnError as error:
        worker.shutdown(wait=False)
        await _refuse_stream(websocket, first_line(error), 1011)
        return
    await send({"type": "hello", "window": windows.window, "stride": windows.stride,
                "max_people": windows.max_people})  # fmt: skip
    receiving = asyncio.create_task(receive())
    processing = asyncio.create_task(process(session))
    try:
        await asyncio.wait({receiving, processing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiving, processing):
            task.cancel()
            # the client gone mid-send (a disconnect, a closed transport) ends the stream
            with contextlib.suppress(
                asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError
            ):
                await task
        with contextlib.suppress(StgcnError):
            await loop.run_in_executor(worker, session.close)
        worker.shutdown(wait=False)
        log.info(
            "WEBSOCKET /v1/stream: closed after %d frames (%d dropped, %d tracks)",
            counts["received"], counts["dropped"], session.tracks,
        )  # fmt: skip


async def _frame_error(send: Any, metrics: Metrics, index: int, reason: str) -> None:
    """A frame the server cannot use: one log line, an error message, the stream goes on."""
    metrics.frame_errors += 1
    log.warning("WEBSOCKET /v1/stream: frame %d: %s", index, reason)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await send({"type": "error", "frame": index, "error": reason})
