"""Concurrent requests' clips classified together: one model run for many clips costs
little more than for one (the per-call work of the framework is paid once), so a server
under load answers more per second by batching.

One task takes the first clip waiting, waits a short collection window for others
(unless the batch is full already), and runs the model on at most ``max_batch`` clips
of one shape in a worker thread, so that the event loop keeps accepting and refusing
requests meanwhile. The queue is bounded: a clip that finds it full is refused at once
(:class:`QueueFull`, a 429 for the client) instead of held in memory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from stgcn_export.classifier import Labelled

from stgcn.errors import StgcnError

log = logging.getLogger("stgcn.serve")


class QueueFull(Exception):
    """The queue holds ``queue_size`` clips already: try again later."""


@dataclass(frozen=True)
class BatchLimits:
    """How clips are gathered for the model."""

    #: the most clips in one run of the model (1: one at a time, no batching)
    max_batch: int = 8
    #: how long the first clip waits for others to join its batch (seconds)
    window: float = 0.005
    #: the most clips waiting for the model; beyond it requests are refused
    queue_size: int = 64


@dataclass
class _Waiting:
    sample: np.ndarray
    answer: asyncio.Future[Labelled]


class Batcher:
    """Clips in, labels out, batched; :meth:`start` inside the server's event loop."""

    def __init__(
        self,
        label_batch: Callable[[Sequence[np.ndarray]], list[Labelled]],
        limits: BatchLimits,
        on_batch: Callable[[int], None] = lambda size: None,
    ) -> None:
        self.label_batch = label_batch
        self.limits = limits
        self.on_batch = on_batch
        # the model runs in one thread: its own thread pool does the parallel work
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="stgcn-serve-model")
        self._queue: asyncio.Queue[_Waiting] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Clips waiting for the model (not those it is running)."""
        return self._queue.qsize() if self._queue is not None else 0

    def start(self) -> None:
        self._queue = asyncio.Queue(self.limits.queue_size)
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def label(self, sample: np.ndarray) -> Labelled:
        """The clip's labels once the model has run on its batch. Raises
        :class:`QueueFull` at once when the queue is full, and the model's
        :class:`StgcnError` when it refuses the clip (a wrong joint count)."""
        assert self._queue is not None, "Batcher.start() was not called"
        waiting = _Waiting(sample, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(waiting)
        except asyncio.QueueFull:
            raise QueueFull from None
        return await waiting.answer

    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            if self.limits.max_batch > 1 and self._queue.qsize() < self.limits.max_batch - 1:
                await asyncio.sleep(self.limits.window)
            while len(batch) < self.limits.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for same_shape in _by_shape(batch):
                await self._run(same_shape)

    async def _run(self, batch: list[_Waiting]) -> None:
        """One run of the model; each clip's answer (or the error) to its request."""
        loop = asyncio.get_running_loop()
        samples = [waiting.sample for waiting in batch]
        try:
            labels = await loop.run_in_executor(self._executor, self.label_batch, samples)
        except StgcnError as error:  # the model refuses clips of this shape
            for waiting in batch:
                _answer(waiting, error=error)
            return
        except Exception as error:  # a fault of the model or the server: logged, not fatal
            log.exception("the model failed on a batch of %d clips", len(batch))
            for waiting in batch:
                _answer(waiting, error=error)
            return
        self.on_batch(len(batch))
        for waiting, labelled in zip(batch, labels, strict=True):
            _answer(waiting, result=labelled)


def _by_shape(batch: list[_Waiting]) -> list[list[_Waiting]]:
    """The batch split into runs of clips of one shape (frames and persons may differ
    between requests; a model run takes one shape), in the order they came."""
    groups: dict[tuple[int, ...], list[_Waiting]] = {}
    for waiting in batch:
        groups.setdefault(waiting.sample.shape, []).append(waiting)
    return list(groups.values())


def _answer(
    waiting: _Waiting, result: Labelled | None = None, error: BaseException | None = None
) -> None:
    """Settle a request's future unless its client has gone (then it was cancelled)."""
    if waiting.answer.done():
        return
    if error is not None:
        waiting.answer.set_exception(error)
    else:
        waiting.answer.set_result(result)  # type: ignore[arg-type]
