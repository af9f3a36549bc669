"""Reading the one clip ``stgcn predict`` classifies.

A ``.npy`` file is read here, and taken as the model's input as it is: a clip as the
dataset's ``build`` gives it, already sampled to its frames and in the joint stream (the
core still makes a bone or motion model's stream of it); the dataset plugin does not see
it. Any other file is the business of the dataset plugin whose format it is (its
``read_sample``), because only that plugin knows, say, how a Kinetics JSON clip maps to
frames, joints and persons. ``FILE#CLIP`` names one clip inside a file that holds many
(a PYSKL annotation pickle and its ``frame_dir``), read by the plugin's
``read_named_clip``; a file whose own name holds ``#`` is read whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stgcn.errors import StgcnError, first_line
from stgcn.records import Dataset

#: Which plugin reads which clip format, for the error that says what to install.
PLUGIN_FOR_SUFFIX = {".json": "stgcn-data-kinetics (Kinetics-skeleton JSON clips)"}


def install_hint(path: Path) -> str:
    plugin = PLUGIN_FOR_SUFFIX.get(path.suffix.lower())
    which = f"install {plugin}" if plugin else "install the dataset plugin for this format"
    return f"{which} and name its dataset with --dataset, or give a .npy sample"


def read_clip(
    path: str | Path,
    dataset: Dataset | None,
    dataset_name: str | None,
    options: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """One clip as float32 ``(C, T, V, M)``.

    ``dataset`` is the installed record that should read a non-``.npy`` file;
    ``dataset_name`` is the name it was looked up by (None when no dataset is known),
    so that a missing plugin can be named in the error. ``options`` are the model's
    data options, handed to a ``read_sample`` that takes them.
    """
    path, clip = split_clip_name(path)
    if not path.is_file():
        raise StgcnError(f"input not found: {path}")
    if clip is not None:
        sample = _read_named(path, clip, dataset, dataset_name, options or {})
    elif path.suffix.lower() == ".npy":
        return clip_of_array(_read_npy(path), str(path))
    elif dataset is None:
        if dataset_name:
            raise StgcnError(
                f"cannot read {path.name}: dataset {dataset_name!r} is not installed; "
                + install_hint(path)
            )
        raise StgcnError(f"cannot tell which dataset reads {path.name}; " + install_hint(path))
    elif dataset.read_sample is None:
        raise StgcnError(
            f"dataset {dataset.name!r} cannot read clip files such as {path.name}; "
            + install_hint(path)
        )
    else:
        sample = _read_with_plugin(path, dataset, options or {})
    return _checked(sample, path)


def split_clip_name(given: str | Path) -> tuple[Path, str | None]:
    """``FILE#CLIP`` as the file and the clip's name; a path that exists as it is, or
    holds no ``#``, is the whole file (None)."""
    text = str(given)
    path, sep, clip = text.rpartition("#")
    if not sep or Path(text).exists():
        return Path(text), None
    if not path or not clip:
        raise StgcnError(f"--input {text}: expected FILE#CLIP, a file and a clip's name in it")
    return Path(path), clip


def _read_named(
    path: Path,
    clip: str,
    dataset: Dataset | None,
    dataset_name: str | None,
    options: Mapping[str, Any],
) -> np.ndarray:
    """Clip ``clip`` of the file at ``path``, by the dataset's ``read_named_clip``."""
    from stgcn.data.facts import plugin_call
    from stgcn.data.streams import split_options
    from stgcn.records import NamedClipRequest

    if dataset is None:
        which = (
            f"dataset {dataset_name!r} is not installed"
            if dataset_name
            else ("no dataset is known (name it with --dataset)")
        )
        raise StgcnError(f"cannot read clip {clip!r} of {path.name}: {which}")
    if dataset.read_named_clip is None:
        raise StgcnError(
            f"dataset {dataset.name!r} cannot read a clip named inside a file "
            f"({path.name}#{clip}); give a file of one clip"
        )
    what = f"read_named_clip({path.name!r}, {clip!r})"
    request = NamedClipRequest(path=path, clip=clip, options=split_options(options)[1])
    return np.asarray(plugin_call(dataset, what, dataset.read_named_clip, request))


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise StgcnError(f"{path} is not a readable .npy array ({first_line(error)})") from None
    return array


def clip_of_array(array: np.ndarray, source: str) -> np.ndarray:
    """An array given as the model's input as it is (a ``.npy`` file's, or a request's
    to ``stgcn serve``) as one float32 clip ``(C, T, V, M)``: one sample or a batch of
    one, of numbers, all finite; else one line naming ``source`` and what is wrong."""
    if array.ndim == 5 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 4:
        raise StgcnError(
            f"{source} holds an array of shape {array.shape}; expected one sample "
            "(C, T, V, M) or a batch of one (1, C, T, V, M)"
        )
    return _checked(array, source)


def _read_with_plugin(path: Path, dataset: Dataset, options: Mapping[str, Any]) -> np.ndarray:
    from stgcn.data.facts import read_sample
    from stgcn.data.streams import split_options

    try:
        return np.asarray(read_sample(dataset, path, split_options(options)[1]))
    except StgcnError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, OSError, json.JSONDecodeError) as error:
        # bad content is far likelier than a plugin bug here; --debug shows the traceback
        raise StgcnError(
            f"dataset {dataset.name!r} cannot read {path}: {type(error).__name__}: "
            f"{first_line(error)}"
        ) from error


def _checked(sample: np.ndarray, path: Path | str) -> np.ndarray:
    if sample.ndim != 4 or 0 in sample.shape:
        raise StgcnError(f"{path} gave a sample of shape {sample.shape}; expected (C, T, V, M)")
    real = np.issubdtype(sample.dtype, np.integer) or np.issubdtype(sample.dtype, np.floating)
    if not real:
        raise StgcnError(f"{path} holds {sample.dtype} values, not numbers")
    sample = sample.astype(np.float32)
    if not np.isfinite(sample).all():
        raise StgcnError(f"{path} holds NaN or infinite values")
    return sample
