"""Whether mediapipe 0.10.14 can run here: one line saying what is wrong and the fix.

mediapipe 0.10.14's generated protobuf code needs protobuf < 5; its wheel asks for
``protobuf<5,>=4.25.3``, but a later ``pip install`` (tensorboard, say) may bring
protobuf 5 or later beside it. mediapipe then fails deep inside its graph's start-up,
in a traceback that once ran to 27 MB (it held the model's bytes). The check reads the
installed versions from the distributions' metadata, without importing either package,
so that ``stgcn plugins`` (which imports every plugin module) can name the problem
cheaply, and every command that opens an estimator stops on it before mediapipe loads.
"""

from __future__ import annotations

from importlib import metadata

from stgcn.errors import StgcnError, first_line

#: mediapipe 0.10.14's protobuf: at least this, and below the next major version
PROTOBUF_BELOW = 5
PROTOBUF_FIX = 'pip install "protobuf<5"'


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def protobuf_problem(installed: str | None = None) -> str | None:
    """Why mediapipe 0.10.14 cannot run beside the installed protobuf (``installed``: a
    version to judge instead, for tests), with the fix; None when it can (also when
    protobuf is absent: mediapipe's own import then says so)."""
    if installed is None:
        try:
            installed = metadata.version("protobuf")
        except metadata.PackageNotFoundError:
            return None
    major = _major(installed)
    if major is None or major < PROTOBUF_BELOW:
        return None
    return (
        f"mediapipe 0.10.14 needs protobuf < {PROTOBUF_BELOW}, but protobuf {installed} "
        f"is installed (another package's install brought it): {PROTOBUF_FIX}"
    )


def require_mediapipe(estimator: str) -> None:
    """Refuse, in one line with the fix, to open ``estimator`` where mediapipe is missing
    or cannot run (protobuf too new)."""
    problem = protobuf_problem()
    if problem is not None:
        raise StgcnError(f"the {estimator} estimator cannot run: {problem}")
    try:
        import mediapipe  # noqa: F401
    except ImportError as error:
        raise StgcnError(
            f"the {estimator} estimator needs mediapipe 0.10.14 ({first_line(error)}): "
            "pip install stgcn-pose-mediapipe"
        ) from None
