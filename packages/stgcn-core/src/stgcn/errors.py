"""The one exception type that the command line turns into a single error line."""


def first_line(error: BaseException) -> str:
    """An exception's first line of text, or its type name when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class StgcnError(Exception):
    """A problem the user can fix: a bad path, a missing plugin, bad data.

    The ``stgcn`` command prints its message on one line and exits non-zero; any
    other exception is a bug and keeps its traceback.
    """
