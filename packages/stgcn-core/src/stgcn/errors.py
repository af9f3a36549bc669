"""The one exception type that the command line turns into a single error line."""


class StgcnError(Exception):
    """A problem the user can fix: a bad path, a missing plugin, bad data.

    The ``stgcn`` command prints its message on one line and exits non-zero; any
    other exception is a bug and keeps its traceback.
    """
