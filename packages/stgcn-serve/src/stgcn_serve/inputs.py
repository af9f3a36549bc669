"""A request's body as one clip: a ``.npy`` array (told by its magic bytes, whatever
the Content-Type: ``curl --data-binary`` sends a form's) or JSON ``{"skeleton": ...}``
nested lists in the model's ``(C, T, V, M)``. Every way a body can be wrong is a
:class:`BadRequest` with the status and the one line the client gets back."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from stgcn_export.samples import clip_of_array

from stgcn.errors import StgcnError, first_line

NPY_MAGIC = b"\x93NUMPY"


class BadRequest(Exception):
    """What the client sent cannot be classified: ``status`` and one line why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def clip_from_body(body: bytes) -> np.ndarray:
    """The float32 ``(C, T, V, M)`` clip in ``body``, checked as ``predict --input``
    checks a ``.npy`` file (one sample or a batch of one, numbers, all finite)."""
    if not body:
        raise BadRequest(400, 'empty body: send a .npy clip or JSON {"skeleton": [...]}')
    if body.startswith(NPY_MAGIC):
        array, source = _npy(body), "the .npy body"
    else:
        array, source = _json_skeleton(body), "the request's skeleton"
    try:
        return clip_of_array(array, source)
    except StgcnError as error:
        raise BadRequest(422, str(error)) from None


def _npy(body: bytes) -> np.ndarray:
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise BadRequest(
            400, f"the body is not a readable .npy array ({first_line(error)})"
        ) from None


def _json_skeleton(body: bytes) -> np.ndarray:
    try:
        document: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(
            400, f"the body is neither a .npy array nor JSON ({first_line(error)})"
        ) from None
    if not isinstance(document, dict) or "skeleton" not in document:
        raise BadRequest(422, 'expected a JSON object {"skeleton": [...]} (C, T, V, M)')
    try:
        return np.asarray(document["skeleton"], dtype=np.float32)
    except (ValueError, TypeError, OverflowError) as error:
        raise BadRequest(
            422,
            f"the skeleton is not a (C, T, V, M) array of numbers ({first_line(error)[:160]})",
        ) from None
