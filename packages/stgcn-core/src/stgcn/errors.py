"""The one exception type that the command line turns into a single error line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


def first_line(error: BaseException) -> str:
    """An exception's first line of text, or its type name when it has none.

    An error raised in a DataLoader worker process comes back wrapped, its text the
    worker's whole traceback; the line that matters is then the original message.
    """
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    if _is_worker_text(lines):
        original = lines[-1]
        kind, sep, message = original.partition(": ")
        return message if sep and "." in kind and " " not in kind else original
    return lines[0]


def _is_worker_text(lines: list[str]) -> bool:
    """torch's text for an exception re-raised from a DataLoader worker: "Caught X in
    DataLoader worker process N." then "Original Traceback ..." and the worker's lines."""
    return lines[0].startswith("Caught ") and len(lines) > 2 and lines[1].startswith("Original")


class StgcnError(Exception):
    """A problem the user can fix: a bad path, a missing plugin, bad data.

    The ``stgcn`` command prints its message on one line and exits non-zero; any
    other exception is a bug and keeps its traceback.
    """


#: the most of a plugin exception's line that a :class:`PluginError` quotes: protobuf's
#: parse error once quoted a pose model's 27 MB of bytes on its one "line"
MAX_QUOTED = 300


class PluginError(StgcnError):
    """A plugin's own code raised: one line naming the plugin, the place and the
    exception, the original kept as ``__cause__`` for ``--debug``.

    ``stgcn`` cannot fix a plugin's bug, but the user must learn whose it is without a
    traceback of stgcn's frames around it. Raised in a DataLoader worker process, torch
    re-creates it in the main process from the worker's whole traceback text; the message
    is then cut back to its one line and the worker's traceback becomes a note, which
    ``--debug`` prints (Python 3.11 on; :attr:`worker_traceback` holds it on any).
    """

    def __init__(self, message: str, plugin: str = "", place: str = "") -> None:
        lines = str(message).strip().splitlines()
        worker_text = _is_worker_text(lines)
        super().__init__(first_line(Exception(message)) if worker_text else message)
        #: the worker's traceback text, where the error came from a DataLoader worker
        self.worker_traceback = str(message) if worker_text else ""
        if worker_text and sys.version_info >= (3, 11):  # notes print with the traceback
            self.add_note(self.worker_traceback)
        self.plugin = plugin
        self.place = place

    def __reduce__(self) -> tuple[type[PluginError], tuple[str, str, str]]:
        return (type(self), (str(self), self.plugin, self.place))

    @classmethod
    def wrapping(cls, error: BaseException, what: str, plugin: str, place: str) -> PluginError:
        """The error for ``error`` raised by ``what`` (``dataset 'toy'``, say) of
        distribution ``plugin`` in ``place`` (``__getitem__``, ``build('train')``)."""
        source = f" (plugin {plugin})" if plugin else ""
        text = first_line(error)
        if len(text) > MAX_QUOTED:  # a library that puts a whole model file in its message
            text = f"{text[:MAX_QUOTED]}... ({len(text) - MAX_QUOTED:,} more characters)"
        return cls(
            f"{what}{source} failed in {place}: {type(error).__name__}: {text}; "
            "--debug shows the traceback",
            plugin,
            place,
        )


@contextmanager
def plugin_code(what: str, plugin: str, place: str) -> Iterator[None]:
    """Run a call into a plugin: its StgcnError passes as it is (the plugin's own one
    line), any other exception becomes a :class:`PluginError` chained to it. Only the
    plugin's call belongs inside, so that a bug of stgcn's own keeps its traceback."""
    try:
        yield
    except StgcnError:
        raise
    except Exception as error:
        raise PluginError.wrapping(error, what, plugin, place) from error
