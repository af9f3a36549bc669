"""Fetching one file over HTTP(S), whole and checked or not at all.

The bytes go to ``NAME.part`` beside the destination and the part file is renamed only
once it is complete and matches the size and SHA-256 given, so a file at the destination
is always a whole one. A download that breaks leaves the part file, which the next
attempt continues with an HTTP ``Range`` request (or restarts, where the server ignores
the range); one that arrives wrong is deleted, since resuming it cannot mend it. Any
failure is one :class:`~stgcn.errors.StgcnError` line saying what to download and where
to put it, for a machine that cannot reach the server. Only the standard library's
``urllib`` is used: no new dependency for one GET.

Two processes that want the same file at once (two ``stgcn`` commands naming the same
released weights) would write the one part file together; on POSIX the download is
therefore done under an exclusive lock (``fcntl.flock``) on ``NAME.lock`` beside the
destination: the second process waits, then finds the whole file and downloads nothing.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from stgcn.errors import StgcnError

try:
    import fcntl
except ImportError:  # Windows: downloads go unlocked
    fcntl = None  # type: ignore[assignment]

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


def lock_path(destination: Path) -> Path:
    """The file whose lock a process holds while it downloads ``destination``."""
    return destination.with_name(destination.name + ".lock")


def fetch(url: str, destination: Path, expected: Expected) -> Path:
    """Download ``url`` to ``destination`` (see the module's docstring); return it. A
    file already at ``destination`` once the lock is held is the download another
    process finished while this one waited, and is returned as it is."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _download_lock(destination):
        if destination.is_file():
            return destination
        part = part_path(destination)
        try:
            _receive(url, part, expected)
        except (URLError, OSError, http.client.HTTPException) as error:
            raise StgcnError(_unreachable(url, destination, error)) from None
        _check(part, expected, url)
        os.replace(part, destination)
    return destination


@contextmanager
def _download_lock(destination: Path) -> Iterator[None]:
    """Hold the exclusive lock on :func:`lock_path` while the block runs, waiting (and
    saying so) while another process holds it. The lock file is deleted before it is
    released, so that none is left in the cache; a process that was waiting on the
    deleted file then finds the path gone or another file there, and locks again."""
    if fcntl is None:
        yield
        return
    lock = lock_path(destination)
    said = False
    while True:
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StgcnError(_unlockable(destination, error)) from None
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not said:
                    print(
                        f"stgcn: waiting for another process's download of {destination}",
                        file=sys.stderr,
                    )
                    said = True
                fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError as error:
            os.close(descriptor)
            raise StgcnError(_unlockable(destination, error)) from None
        except BaseException:  # interrupted while waiting
            os.close(descriptor)
            raise
        if _is_still(lock, descriptor):
            break
        os.close(descriptor)  # the holder deleted the file this one locked
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(descriptor)  # releases the lock


def _unlockable(destination: Path, error: OSError) -> str:
    """The one line for a lock that cannot be taken (a read-only cache, say)."""
    return (
        f"could not download to {destination}: cannot lock {lock_path(destination).name} "
        f"beside it ({error.strerror or error})"
    )


def _is_still(lock: Path, descriptor: int) -> bool:
    """Whether ``lock`` is still the file ``descriptor`` has open."""
    try:
        named = lock.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


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
