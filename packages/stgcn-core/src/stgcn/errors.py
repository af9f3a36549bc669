"""The one exception type that the command line turns into a single error line."""


def first_line(error: BaseException) -> str:
    """An exception's first line of text, or its type name when it has none.

    An error raised in a DataLoader worker process comes back wrapped, its text the
    worker's whole traceback; the line that matters is then the original message.
    """
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    if lines[0].startswith("Caught ") and len(lines) > 2 and lines[1].startswith("Original"):
        original = lines[-1]
        kind, sep, message = original.partition(": ")
        return message if sep and "." in kind and " " not in kind else original
    return lines[0]


class StgcnError(Exception):
    """A problem the user can fix: a bad path, a missing plugin, bad data.

    The ``stgcn`` command prints its message on one line and exits non-zero; any
    other exception is a bug and keeps its traceback.
    """
