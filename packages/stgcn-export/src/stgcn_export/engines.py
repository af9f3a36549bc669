"""The two ways ``stgcn predict`` runs a model: PyTorch from a checkpoint, or
onnxruntime from an exported file. Both take one clip and give one row of logits, so
that the same input can be compared across them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from stgcn.errors import StgcnError
from stgcn.model.checkpoint import Checkpoint
from stgcn.model.contract import SkeletonModel, as_module
from stgcn.training.runtime import Runtime
from stgcn_export.metadata import (
    DATASET_KEY,
    read_metadata,
    stored_class_names,
    stored_coordinates,
    stored_data_options,
    stored_model_config,
)
from stgcn_export.onnx_export import model_input_facts
from stgcn_export.runtime import open_session

AXES = ("batch", "channels", "frames", "joints", "persons")


class Engine(Protocol):
    """A model ready to classify a clip."""

    #: "pytorch" or "onnxruntime", for the report.
    name: str
    #: None when the model file does not say (then it is the length of the logits)
    num_class: int | None
    #: the dataset the model was trained on, when the model file records it
    dataset_name: str | None
    #: class names the model file itself carries (an export's metadata), else None
    class_names: Sequence[str] | None
    #: the data options the model was trained with (its stream among them), else {}
    data_options: dict[str, Any]
    #: the checkpoint, for the data facts it stored (None for an export)
    checkpoint: Checkpoint | None
    #: the network's configuration (its layout for the stream), where known
    model_config: dict[str, Any]

    def logits(self, sample: np.ndarray) -> np.ndarray:
        """Logits ``(num_class,)`` for one float32 clip ``(C, T, V, M)``."""
        ...

    def logits_batch(self, samples: np.ndarray) -> np.ndarray:
        """Logits ``(N, num_class)`` for ``N`` float32 clips of one shape ``(N, C, T, V,
        M)`` in one run of the model (``stgcn serve`` batches concurrent requests)."""
        ...

    def use_threads(self, threads: int) -> None:
        """Compute with ``threads`` threads (``predict --stream`` shares the CPU with the
        pose estimator and the decoder)."""
        ...


def _refuse_mismatch(sample: np.ndarray, expected: Sequence[Any], hint: str = "") -> None:
    """One line naming every axis where ``sample`` (C, T, V, M) differs from ``expected``
    (the model's input shape without its batch axis; None or a name means free)."""
    wrong = [
        f"{want} {axis} (the clip has {have})"
        for axis, want, have in zip(AXES[1:], expected, sample.shape, strict=True)
        if isinstance(want, int) and want != have
    ]
    if wrong:
        raise StgcnError(f"the model takes {', '.join(wrong)}{hint}")


class TorchEngine:
    """A checkpoint's network in PyTorch, through the core's :class:`Runtime` as it is
    (on the device of its weights, fp32, not prepared by a backend): its logits are the
    ones an export is verified against."""

    name = "pytorch"
    class_names: Sequence[str] | None = None

    def __init__(self, network: SkeletonModel, checkpoint: Checkpoint | None) -> None:
        module = as_module(network)
        self.runtime = Runtime.as_is(module.eval())
        self.network = network
        self.channels, self.joints, classes = model_input_facts(module)
        self.num_class: int | None = classes
        config = checkpoint.run_config if checkpoint is not None else {}
        self.checkpoint = checkpoint
        self.dataset_name = checkpoint.run_dataset if checkpoint is not None else None
        self.data_options = dict(config.get("data_options") or {})
        self.model_config = network.config()

    @property
    def model(self) -> SkeletonModel:
        """The network (``predict --explain`` asks it which joints mattered)."""
        return self.network

    def use_threads(self, threads: int) -> None:
        torch.set_num_threads(threads)

    def channels_last_copy(self, probe: np.ndarray) -> TorchEngine | None:
        """This engine with a copy of its network whose weights are stored channels-last,
        where oneDNN's convolutions run a batch of several clips faster (``stgcn serve``
        runs its batches so: on a Zen 5 core, fp32, the tests' 12-frame clips, 4.5 ms of
        CPU a clip at a batch of 8 against 5.2). None where the copy gives ``probe`` (one
        clip) other logits, or a view in the network needs the contiguous layout."""
        import copy

        network = copy.deepcopy(self.network)
        module = as_module(network)
        # Module.to takes memory_format, although torch's annotations leave it out
        module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        twin = copy.copy(self)
        twin.network, twin.runtime = network, Runtime.as_is(module.eval())
        try:
            same = np.allclose(twin.logits(probe), self.logits(probe), rtol=1e-4, atol=1e-5)
        except RuntimeError:  # a view the layout does not allow
            return None
        return twin if same else None

    def logits(self, sample: np.ndarray) -> np.ndarray:
        return self.logits_batch(sample[None])[0]

    def logits_batch(self, samples: np.ndarray) -> np.ndarray:
        _refuse_mismatch(samples[0], (self.channels, None, self.joints, None))
        logits = self.runtime.infer(torch.from_numpy(np.ascontiguousarray(samples)))
        return logits.float().cpu().numpy()


class OnnxEngine:
    name = "onnxruntime"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.session = open_session(path)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 5 or len(outputs[0].shape) != 2:
            raise StgcnError(
                f"{path} is not an ST-GCN export: it should take one (N, C, T, V, M) input "
                "and give (N, classes) logits"
            )
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        classes = outputs[0].shape[1]
        # a file from another exporter may leave the class axis unnamed: known after a run
        self.num_class = classes if isinstance(classes, int) else None
        metadata = read_metadata(self.session)
        self.checkpoint: Checkpoint | None = None
        self.dataset_name = metadata.get(DATASET_KEY)
        self.class_names: Sequence[str] | None = stored_class_names(metadata)
        self.data_options = stored_data_options(metadata)
        self.model_config = stored_model_config(metadata)
        #: the coordinate convention the export recorded (None: not recorded)
        self.coordinates = stored_coordinates(metadata)

    def use_threads(self, threads: int) -> None:
        self.session = open_session(self.path, threads)

    def logits(self, sample: np.ndarray) -> np.ndarray:
        hint = "; an export without --static takes any frames and persons"
        _refuse_mismatch(sample, self.input_shape[1:], hint)
        batch = self.input_shape[0]
        # a fixed-batch export still classifies one clip: its copies are independent rows
        repeats = batch if isinstance(batch, int) else 1
        inputs = np.ascontiguousarray(np.repeat(sample[None], repeats, axis=0))
        (logits,) = self.session.run(None, {self.input_name: inputs})
        return logits[0]

    def logits_batch(self, samples: np.ndarray) -> np.ndarray:
        if isinstance(self.input_shape[0], int):  # a fixed-batch export: a clip at a time
            return np.stack([self.logits(sample) for sample in samples])
        hint = "; an export without --static takes any frames and persons"
        _refuse_mismatch(samples[0], self.input_shape[1:], hint)
        (logits,) = self.session.run(None, {self.input_name: np.ascontiguousarray(samples)})
        return np.asarray(logits)


#: ``predict --engine``: ``auto`` takes :func:`faster_engine`'s choice
ENGINE_CHOICES = ("auto", "pytorch", "onnxruntime")


def faster_engine(kind: str, explain: bool) -> str:
    """The engine ``predict --checkpoint --engine auto`` runs, from measured figures.

    ``predict`` computes in fp32 on either engine (its logits are the ones an export is
    verified against). Measured on a 2-core Zen 5 EPYC (AVX512-BF16, no AMX), shared,
    one thread each (``OMP_NUM_THREADS=1 stgcn bench --mode eval --batch-size 1
    --engine E --model M``, 150 frames x 2 persons x 18 joints), clips/s, median of three
    rounds (range):

    ========  ================  ================  =================
    model     pytorch fp32      onnxruntime       (pytorch bf16)
    ========  ================  ================  =================
    stgcn     1.74 (1.70-1.94)  4.18 (4.12-4.88)  (7.31, 6.11-9.70)
    stgcnpp   1.93 (1.92-2.08)  5.40 (4.92-5.50)  (3.31, 3.20-4.04)
    ctrgcn    2.07 (2.05-2.41)  5.26 (4.74-5.66)  (3.00, 2.70-3.16)
    ========  ================  ================  =================

    onnxruntime is 2.4-2.8x faster in fp32 for every model, but a checkpoint must first
    be exported (the whole ``stgcn export onnx --no-verify`` command, start-up included,
    took 2.7 s of CPU; 4.0 s with its verification): that pays back after a handful of
    windows, so ``auto`` takes onnxruntime for a video, a stream
    and pose files (many windows) and PyTorch for one clip (``--input``) and for
    ``--explain``, which needs PyTorch's gradients.
    """
    if explain or kind == "input":
        return "pytorch"
    return "onnxruntime"


class ExportedCheckpointEngine(TorchEngine):
    """A checkpoint's network exported to ONNX at start-up (a temporary file, not
    verified: the exporter is the one ``stgcn export onnx`` verifies) and run by
    onnxruntime; the checkpoint's facts (dataset, data options, layout) are the
    PyTorch engine's, so predictions read the clip as they would with it."""

    name = "onnxruntime"

    def __init__(self, network: SkeletonModel, checkpoint: Checkpoint | None) -> None:
        import tempfile
        from pathlib import Path

        from stgcn_export.onnx_export import export_onnx

        super().__init__(network, checkpoint)
        self._folder = tempfile.TemporaryDirectory(prefix="stgcn-predict-")
        self._path = Path(self._folder.name) / "model.onnx"
        persons = int(self.model_config.get("persons", 2))
        module = as_module(network).cpu().eval()
        export_onnx(module, self._path, {"verify": False, "persons": persons})
        self.session = open_session(self._path)
        self.input_name = self.session.get_inputs()[0].name

    def use_threads(self, threads: int) -> None:
        self.session = open_session(self._path, threads)

    def logits_batch(self, samples: np.ndarray) -> np.ndarray:
        _refuse_mismatch(samples[0], (self.channels, None, self.joints, None))
        batch = np.ascontiguousarray(samples, dtype=np.float32)
        (logits,) = self.session.run(None, {self.input_name: batch})
        return np.asarray(logits)
