"""Opening an ONNX file in onnxruntime, with the user's mistakes as one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime

from stgcn.errors import StgcnError, first_line

#: The CPU provider only: verification compares against PyTorch on the CPU, and a
#: prediction must give the same numbers as ``--checkpoint`` on any machine.
PROVIDERS = ["CPUExecutionProvider"]


def open_session(
    path: str | os.PathLike[str], threads: int | None = None
) -> onnxruntime.InferenceSession:
    """An inference session for ``path``; a missing or unreadable file is the user's to fix.
    ``threads``: one thread pool of that size that sleeps when idle instead of spinning
    (for ``predict --stream``, where the pose estimator and the decoder share the cores)."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"ONNX model not found: {path}")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: warnings would drown the one-line report
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=PROVIDERS)
    except Exception as error:  # onnxruntime raises its own types for every parse failure
        raise StgcnError(f"{path} is not a usable ONNX model ({first_line(error)[:160]})") from None
