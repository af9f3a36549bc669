"""What ``stgcn predict`` classifies with: the engine, its dataset, its class names, the
stream the model takes, and whether to explain each label; one object, so that a clip,
a video's windows and a live stream's windows are classified alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stgcn.errors import StgcnError
from stgcn.records import Dataset
from stgcn_export.engines import Engine
from stgcn_export.prediction import RankedClass, top_classes


@dataclass(frozen=True)
class Labelled:
    """One clip's classes, likeliest first, and (with ``--explain``) each joint's
    importance for the first."""

    ranked: list[RankedClass]
    classes: int
    joint_importance: np.ndarray | None = None


@dataclass
class Classifier:
    engine: Engine
    #: the dataset record that names the classes (None when none is known or installed)
    record: Dataset | None
    dataset_name: str | None
    #: whether the user named the dataset (its names then win over the model file's)
    dataset_given: bool
    #: the model's stream of a joint clip (bone, motion), None for joints
    transform: Callable[[np.ndarray], np.ndarray] | None
    top: int = 5
    explain: bool = False

    def __post_init__(self) -> None:
        if self.explain and getattr(self.engine, "model", None) is None:
            raise StgcnError(
                "--explain takes the gradient of the PyTorch model: give --checkpoint "
                "(an ONNX export holds no gradients)"
            )

    @property
    def coordinates(self) -> str:
        """The coordinate convention the model was trained in (the checkpoint's or the
        export's record of it, else its dataset's, else the reference's): how a video's or
        a stream's skeletons become its input (:mod:`stgcn.data.coordinates`)."""
        from stgcn.data.facts import coordinates_of

        exported = getattr(self.engine, "coordinates", None)  # an ONNX file's metadata
        if isinstance(exported, str):
            return exported
        return coordinates_of(self.record, self.engine.checkpoint)

    def names_for(self, count: int) -> Sequence[str] | None:
        """Class names for a model of ``count`` classes, where known."""
        from stgcn.commands.model_source import class_names_of

        names = class_names_of(self.record, count)
        stored = self.engine.class_names
        if not self.dataset_given and stored is not None and len(stored) == count:
            names = stored
        return names

    def label(self, sample: np.ndarray) -> Labelled:
        """The ``top`` classes of one joint clip ``(C, T, V, M)``."""
        if self.transform is not None:
            sample = self.transform(sample)
        logits = self.engine.logits(sample)
        ranked = top_classes(logits, self.top, self.names_for(len(logits)))
        importance = None
        if self.explain:
            from stgcn.model.explain import joint_importance

            model: Any = getattr(self.engine, "model", None)
            importance = joint_importance(model, sample, ranked[0].index)
        return Labelled(ranked, len(logits), importance)

    def label_batch(self, samples: Sequence[np.ndarray]) -> list[Labelled]:
        """The ``top`` classes of several joint clips of one shape, in one run of the
        model (``stgcn serve`` batches concurrent requests so); without ``--explain``."""
        if self.transform is not None:
            samples = [self.transform(sample) for sample in samples]
        rows = self.engine.logits_batch(np.stack(samples))
        names = self.names_for(rows.shape[1])
        return [Labelled(top_classes(row, self.top, names), len(row)) for row in rows]
