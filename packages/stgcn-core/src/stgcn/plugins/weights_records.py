"""A released-weights plugin's record (:class:`Weights`): one checkpoint that a project
published, by name, so that ``--weights NAME`` (``stgcn run``) and ``--checkpoint NAME``
(``eval``, ``predict``, ``info``, ``export``) fetch it once into torch's hub cache.
Re-exported by :mod:`stgcn.plugins.records` and :mod:`stgcn.records`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlparse

from stgcn.errors import StgcnError

#: a SHA-256 digest or the start of one that a publisher printed (open-mmlab's file names
#: carry the first 8 hex digits): at least 8 lower-case hex digits, at most 64
_SHA256 = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class Weights:
    """A released checkpoint, catalogued with where it is published.

    ``model`` is the registered model that reads the file (``stgcn``, ``stgcnpp``, ...),
    ``layout`` the skeleton it was trained on and ``num_class`` its head's classes, so
    that ``stgcn weights list`` says what each is before anything is downloaded.
    ``source`` is the page that publishes ``url`` (cited, since a catalogue entry is a
    claim about somebody else's file). ``size`` (bytes) and ``sha256`` are checked after
    a download where given; ``sha256`` may be the start of the digest where only that is
    published (at least 8 hex digits). ``file_name`` is the name in the cache: by default
    the record's name and the URL's suffix, since many publishers name every file alike
    (PYSKL's are all ``j.pth``, ``b.pth``, ...).
    """

    name: str
    model: str
    url: str
    source: str
    layout: str
    num_class: int
    dataset: str
    description: str = ""
    size: int | None = None
    sha256: str | None = None
    file_name: str = ""
    #: the distribution that registered this record: the registry fills it in
    plugin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if urlparse(self.url).scheme not in ("http", "https"):
            raise StgcnError(f"weights {self.name!r}: url must be http(s), got {self.url!r}")
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise StgcnError(
                f"weights {self.name!r}: sha256 must be 8 to 64 lower-case hex digits, "
                f"got {self.sha256!r}"
            )
        if self.size is not None and self.size <= 0:
            raise StgcnError(f"weights {self.name!r}: size must be positive, got {self.size}")

    @property
    def cache_name(self) -> str:
        """The file's name in the cache folder."""
        suffix = PurePosixPath(urlparse(self.url).path).suffix or ".pt"
        return self.file_name or f"{self.name}{suffix}"
