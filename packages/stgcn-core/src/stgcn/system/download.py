"""Fetching one file over HTTP(S), whole and checked or not at all.

The bytes go to ``NAME.part`` beside the destination and the part file is renamed only
once it is complete and matches the size and SHA-256 given, so a file at the destination
is always a whole one. A download that breaks leaves the part file, which the next
attempt continues with an HTTP ``Range`` request (or restarts, where the server ignores
the range); one that arrives wrong is deleted, since resuming it cannot mend it. Any
failure is one :class:`~stgcn.errors.StgcnError` line saying what to download and where
to put it, for a machine that cannot reach the server. Only the standard library's
``urllib`` is used: no new dependency for one GET.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from stgcn.errors import StgcnError

#: bytes read per step: a progress update each MiB
CHUNK = 1 << 20
#: seconds without a byte before the connection counts as broken
TIMEOUT_S = 60.0
#: HTTP's answer to a range that starts at or past the end: the part file is whole
RANGE_NOT_SATISFIABLE = 416


@dataclass(frozen=True)
class Expected:
    """What a complete file must be: its size in bytes and its SHA-256 (or the start of
    the digest that a publisher printed), each where known."""

    size: int | None = None
    sha256: str | None = None


def part_path(destination: Path) -> Path:
    """Where the bytes of ``destination`` gather until the file is whole."""
    return destination.with_name(destination.name + ".part")


def fetch(url: str, destination: Path, expected: Expected) -> Path:
    """Download ``url`` to ``destination`` (see the module's docstring); return it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(destination)
    try:
        _receive(url, part, expected)
    except (URLError, OSError, http.client.HTTPException) as error:
        raise StgcnError(_unreachable(url, destination, error)) from None
    _check(part, expected, url)
    os.replace(part, destination)
    return destination


def _receive(url: str, part: Path, expected: Expected) -> None:
    """Write the bytes of ``url`` that ``part`` lacks to it."""
    start = part.stat().st_size if part.is_file() else 0
    if expected.size is not None and start > expected.size:
        start = 0  # longer than the file: not a part of it
    headers = {"User-Agent": "stgcn"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=TIMEOUT_S)
    except HTTPError as error:
        if start and error.code == RANGE_NOT_SATISFIABLE:
            return  # the part file already holds every byte
        raise
    with response:
        if start and response.status != http.client.PARTIAL_CONTENT:
            start = 0  # the server sent the whole file, not the range asked for
        length = response.headers.get("Content-Length")
        total = start + int(length) if length is not None else expected.size
        with (
            part.open("ab" if start else "wb") as out,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                file=sys.stderr,
                disable=None,  # no bar where stderr is not a terminal
                leave=False,
            ) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
    if length is not None and part.stat().st_size != total:
        raise http.client.IncompleteRead(b"", (total or 0) - part.stat().st_size)


def _check(part: Path, expected: Expected, url: str) -> None:
    """Refuse (and delete) a complete download that is not the file expected."""
    size = part.stat().st_size
    if expected.size is not None and size != expected.size:
        part.unlink()
        raise StgcnError(
            f"{url} gave {size} bytes where {expected.size} were expected; the download "
            "was deleted (the server may serve another file now)"
        )
    if expected.sha256 is not None:
        digest = _sha256(part)
        if not digest.startswith(expected.sha256):
            part.unlink()
            raise StgcnError(
                f"{url} has SHA-256 {digest}, not the expected {expected.sha256}; the "
                "download was deleted (the server may serve another file now)"
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _unreachable(url: str, destination: Path, error: BaseException) -> str:
    """The one line for a download that did not finish: why, what to fetch, where to."""
    reason = getattr(error, "reason", None) or error
    if isinstance(error, http.client.IncompleteRead):
        reason = "the connection broke before the end"
    part = part_path(destination)
    kept = f" ({part.name} is kept: the next try continues it)" if part.is_file() else ""
    return (
        f"could not download {url}: {reason}{kept}; to use it offline, download it "
        f"yourself and put it at {destination}"
    )
