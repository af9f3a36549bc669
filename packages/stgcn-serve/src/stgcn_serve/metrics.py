"""What ``GET /metrics`` reports, in Prometheus's text format: requests by route and
status, a latency histogram per route, the queue's depth, the batches the model ran.

Written here rather than taken from prometheus_client: a handful of counters kept by
one event loop need no locks, no registry and no dependency."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

#: Latency buckets (seconds): from a batch of one on a small model to a long wait in the queue.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PREFIX = "stgcn_serve"


@dataclass
class Histogram:
    """Observations counted per bucket (cumulated when written), with their sum."""

    bounds: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    observed: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.observed += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out, running = [], 0
        edges = [*(f"{bound:g}" for bound in self.bounds), "+Inf"]
        for edge, count in zip(edges, self.counts, strict=True):
            running += count
            out.append(f'{name}_bucket{{{labels},le="{edge}"}} {running}')
        out.append(f"{name}_sum{{{labels}}} {self.total:.6f}")
        out.append(f"{name}_count{{{labels}}} {self.observed}")
        return out


@dataclass
class Metrics:
    """The server's counters; ``queue_depth`` is asked when the page is written."""

    queue_depth: Callable[[], int]
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    latency: dict[str, Histogram] = field(default_factory=dict)
    batches: int = 0
    batched_clips: int = 0
    rejected_full: int = 0
    #: the WebSocket streams (GET /v1/stream)
    streams_open: int = 0
    frames_received: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frame_errors: int = 0

    def record_request(self, route: str, status: int, seconds: float) -> None:
        self.requests[(route, status)] += 1
        self.latency.setdefault(route, Histogram()).observe(seconds)

    def record_batch(self, size: int) -> None:
        self.batches += 1
        self.batched_clips += size

    def text(self) -> str:
        """The page: HELP and TYPE lines, then the samples, as Prometheus scrapes them."""
        lines = [
            f"# HELP {PREFIX}_requests_total HTTP requests answered, by route and status.",
            f"# TYPE {PREFIX}_requests_total counter",
        ]
        for (route, status), count in sorted(self.requests.items()):
            lines.append(f'{PREFIX}_requests_total{{route="{route}",status="{status}"}} {count}')
        lines += [
            f"# HELP {PREFIX}_request_seconds Time from a request's arrival to its answer.",
            f"# TYPE {PREFIX}_request_seconds histogram",
        ]
        for route, histogram in sorted(self.latency.items()):
            lines += histogram.lines(f"{PREFIX}_request_seconds", f'route="{route}"')
        scalars = [
            ("queue_depth", "gauge", "Clips waiting for the model.", self.queue_depth()),
            ("batches_total", "counter", "Runs of the model.", self.batches),
            ("batched_clips_total", "counter", "Clips the model classified.", self.batched_clips),
            ("rejected_total", "counter", "429s: the queue was full.", self.rejected_full),
            ("streams_open", "gauge", "WebSocket streams open.", self.streams_open),
            ("frames_received_total", "counter", "Stream frames received.", self.frames_received),
            (
                "frames_processed_total",
                "counter",
                "Stream frames estimated and answered.",
                self.frames_processed,
            ),
            (
                "frames_dropped_total",
                "counter",
                "Stream frames replaced by a newer one before they were processed.",
                self.frames_dropped,
            ),
            ("frame_errors_total", "counter", "Stream frames refused.", self.frame_errors),
        ]
        for name, kind, description, value in scalars:
            lines += [
                f"# HELP {PREFIX}_{name} {description}",
                f"# TYPE {PREFIX}_{name} {kind}",
                f"{PREFIX}_{name} {value}",
            ]
        return "\n".join(lines) + "\n"
