"""What an exported file remembers about its model, in ONNX ``metadata_props``.

``stgcn predict --onnx`` has no checkpoint to read the dataset from, so the export
stores the dataset's name and class names in the file itself, and the model's name and
``config()`` beside them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import onnx
import onnxruntime

DATASET_KEY = "stgcn.dataset"
CLASS_NAMES_KEY = "stgcn.class_names"
MODEL_CONFIG_KEY = "stgcn.model_config"
#: the registered model that built the network (absent in older exports: ST-GCN)
MODEL_NAME_KEY = "stgcn.model"
DATA_OPTIONS_KEY = "stgcn.data_options"
#: the coordinate convention of the model's inputs (stgcn.data.coordinates)
COORDINATES_KEY = "stgcn.coordinates"


def describe_dataset(
    name: str | None,
    class_names: Sequence[str] | None,
    data_options: Mapping[str, object] | None = None,
    coordinates: str | None = None,
) -> dict[str, str]:
    """The metadata entries for a model trained on ``name`` with ``class_names`` and
    ``data_options`` (its stream among them, which ``stgcn predict --onnx`` applies), its
    inputs in the coordinate convention ``coordinates`` (which ``predict --onnx --video``
    and ``--stream`` apply to skeletons)."""
    entries = {}
    if name:
        entries[DATASET_KEY] = name
    if coordinates:
        entries[COORDINATES_KEY] = coordinates
    if class_names:
        entries[CLASS_NAMES_KEY] = json.dumps(list(class_names))
    if data_options:
        entries[DATA_OPTIONS_KEY] = json.dumps({str(k): v for k, v in data_options.items()})
    return entries


def stored_data_options(entries: Mapping[str, str]) -> dict[str, object]:
    """The data options an export stored ({} when none, or garbage)."""
    try:
        options = json.loads(entries[DATA_OPTIONS_KEY])
    except (KeyError, ValueError):
        return {}
    return options if isinstance(options, dict) else {}


def stored_coordinates(entries: Mapping[str, str]) -> str | None:
    """The coordinate convention an export stored (None: an export made before they were
    recorded, or by another tool)."""
    value = entries.get(COORDINATES_KEY)
    return value if isinstance(value, str) and value else None


def stored_model_config(entries: Mapping[str, str]) -> dict[str, object]:
    try:
        config = json.loads(entries[MODEL_CONFIG_KEY])
    except (KeyError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def write_metadata(model: onnx.ModelProto, entries: Mapping[str, str]) -> None:
    """Set ``entries`` on ``model``, replacing earlier values of the same keys."""
    kept = [prop for prop in model.metadata_props if prop.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in entries.items():
        model.metadata_props.add(key=key, value=value)


def read_metadata(session: onnxruntime.InferenceSession) -> dict[str, str]:
    return dict(session.get_modelmeta().custom_metadata_map)


def stored_class_names(entries: Mapping[str, str]) -> list[str] | None:
    """The class names an export stored, or None when it stored none (or garbage)."""
    try:
        names = json.loads(entries[CLASS_NAMES_KEY])
    except (KeyError, ValueError):
        return None
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None
