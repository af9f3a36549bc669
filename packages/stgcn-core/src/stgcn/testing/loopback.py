"""A file served over HTTP on 127.0.0.1, for testing downloads (released weights) against
a real server: the standard library's, in a thread, answering ``Range`` requests with
206, and able to break the connection half way through a response or to hold it open
there."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: what the server answers a range starting at or past the end
RANGE_NOT_SATISFIABLE = 416


@dataclass
class ServedFile:
    """What the server serves and what it was asked."""

    body: bytes
    #: the file's address
    url: str = ""
    #: "whole": the file (or the range asked for); "break": half of it, then the
    #: connection closes although Content-Length promised all
    mode: str = "whole"
    #: each request's Range header, in order ("" where none)
    ranges: list[str] = field(default_factory=list)
    #: where given, each response sends half the file, then waits until this is set
    #: before the rest (a download in progress, for as long as a test needs one)
    gate: threading.Event | None = None


@contextmanager
def serve_file(body: bytes, path: str = "/released/fixture.pt") -> Iterator[ServedFile]:
    """Serve ``body`` at ``http://127.0.0.1:PORT{path}`` while the block runs."""
    served = ServedFile(body)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (so a connection is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _handler(served: ServedFile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = self.headers.get("Range", "")
            served.ranges.append(asked)
            found = re.fullmatch(r"bytes=(\d+)-", asked)
            start = int(found[1]) if found else 0
            if found and start >= len(served.body):
                self.send_response(RANGE_NOT_SATISFIABLE)
                self.end_headers()
                return
            rest = served.body[start:]
            self.send_response(206 if found else 200)
            if found:
                self.send_header("Content-Range", f"bytes {start}-{len(served.body) - 1}/*")
            self.send_header("Content-Length", str(len(rest)))
            self.end_headers()
            if served.mode == "break":
                self.wfile.write(rest[: len(rest) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if served.gate is not None:
                self.wfile.write(rest[: len(rest) // 2])
                self.wfile.flush()
                served.gate.wait()
                rest = rest[len(rest) // 2 :]
            self.wfile.write(rest)

        def log_message(self, *args: object) -> None:
            """Quiet: a test's output shows its own lines only."""

    return Handler
