"""What plugins provide: a backend, a dataset, an exporter, a logger, a pose estimator.

Backends are Protocols (a plugin implements the methods on any object it likes, or
subclasses :class:`stgcn.plugins.backend.BackendBase` for the defaults);
datasets and exporters are small frozen records built with a function or two.
Nothing here imports a device library: a record must be cheap to create so that
``stgcn plugins`` can list everything without touching hardware.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from stgcn.errors import StgcnError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch.utils.data import Dataset as TorchDataset

    from stgcn.model.graph import Layout
    from stgcn.plugins.backend import Precision
    from stgcn.plugins.settings import Settings


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here and, when it cannot, what the user should do."""

    available: bool
    reason: str = ""


@runtime_checkable
class Backend(Protocol):
    """A device family: where tensors live, which collective joins the cards, which
    precisions run fast; what a plugin registers. A run gets its own backend made from
    this record (:class:`RunBackend`), which adds the :class:`Accelerator`'s optional
    features.

    ``availability`` and ``device_count`` must be cheap and must not import the
    device library when the plugin module loads: they run for ``stgcn plugins``.
    """

    name: str
    description: str
    #: torch.distributed backend that joins several cards: "gloo", "nccl", "hccl".
    collective: str
    #: precisions this backend can train in, from "fp32", "bf16", "fp16".
    precisions: tuple[str, ...]

    def availability(self) -> Availability: ...

    def device_count(self) -> int: ...

    def default_precision(self) -> str: ...

    def configure(self, options: Mapping[str, str]) -> None:
        """Take the ``--backend-option KEY=VALUE`` pairs (``--compile`` arrives as
        ``compile=true``) before ``setup``; refuse an unknown key with StgcnError. The core
        calls it only on a copy made for one run (:class:`~stgcn.plugins.backend.
        LegacyBackend`); a :class:`~stgcn.plugins.backend.BackendBase` is created per run
        with ``for_run`` instead."""
        ...

    def setup(self, local_rank: int) -> torch.device:
        """Bind this process to its device and return it."""
        ...

    def autocast(self, precision: str) -> AbstractContextManager[Any]: ...

    def grad_scaler(self, precision: str) -> torch.amp.GradScaler | None:
        """A loss scaler where the precision needs one (fp16), else None."""
        ...

    def prepare_model(self, model: torch.nn.Module, precision: str) -> torch.nn.Module:
        """Device-specific tuning of a model already on the device (memory format, compile)."""
        ...

    def synchronize(self) -> None:
        """Wait for queued device work, so that timings are honest."""
        ...


@runtime_checkable
class Accelerator(Protocol):
    """The device part of a run's backend (the other part is its precision,
    :class:`stgcn.backends.precision.Precision`): where the run computes and how its
    processes join.

    The last four members are optional for a plugin: :class:`~stgcn.plugins.backend.
    BackendBase` declares their defaults (no pinned memory, the requested timeout as it
    is, no device generator), and the registry fills them in for a backend written
    against the older :class:`Backend` alone, so the core reads them all directly.
    """

    name: str
    #: torch.distributed backend that joins several cards: "gloo", "nccl", "hccl".
    collective: str
    #: whether DataLoaders pin host memory for this device: ``non_blocking`` copies from
    #: pinned memory overlap the device's work (torch-npu waits for the device otherwise)
    pin_memory: bool

    def availability(self) -> Availability: ...

    def device_count(self) -> int: ...

    def default_precision(self) -> str: ...

    def setup(self, local_rank: int) -> torch.device:
        """Bind this process to its device and return it."""
        ...

    def synchronize(self) -> None:
        """Wait for queued device work, so that timings are honest."""
        ...

    def collective_timeout(self, requested: timedelta) -> timedelta:
        """The timeout to hand ``init_process_group`` so that a collective waiting longer
        than ``requested`` fails, for collective libraries that read it their own way."""
        ...

    def rng_state(self) -> torch.Tensor | None:
        """The device's own random generator's state (after ``setup``), for a checkpoint;
        None where the device draws from the host's generator (the cpu)."""
        ...

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        """Restore what :meth:`rng_state` gave; None leaves the generator as it is."""
        ...

    def precision_part(self, precision: str) -> Precision | None:
        """The run's precision where the device needs more than the shared part built from
        ``autocast`` and ``grad_scaler`` (the npu's overflow status); None otherwise."""
        ...


@runtime_checkable
class RunBackend(Backend, Accelerator, Protocol):
    """One run's backend, what :meth:`stgcn.plugins.registry.Registry.ready_backend`
    returns: created from the registered record with the run's ``--backend-option``
    settings (the record itself is never changed), with every member of
    :class:`Backend` and :class:`Accelerator`."""


BuildDataset = Callable[[str, "Path | None", "Mapping[str, Any]"], "TorchDataset[Any]"]
#: ``build(split, data_path, options, training=...)`` (plugin API 1.4), for a record
#: declared with ``build_training=True``: ``training`` says whether the split is built to
#: train on (random sampling, augmentation) or to evaluate (the same clips every time)
BuildDatasetForPurpose = Callable[..., "TorchDataset[Any]"]
#: ``read_sample(path)``: one clip file read into a float32 array
ReadClip = Callable[["Path"], "np.ndarray"]
#: ``read_sample(path, options)`` (plugin API 1.2): read as the model's data options say
#: (see :meth:`Dataset.reads_sample_options`)
ReadClipWithOptions = Callable[["Path", "Mapping[str, Any]"], "np.ndarray"]
ReadSample = ReadClip | ReadClipWithOptions
#: ``read_named_clip(path, clip, options)`` (plugin API 1.4): the clip named ``clip``
#: inside the file at ``path`` that holds many (``stgcn predict --input FILE#CLIP``)
ReadNamedClip = Callable[["Path", str, "Mapping[str, Any]"], "np.ndarray"]
Describe = Callable[["Path | None", "Mapping[str, Any]"], "DataFacts"]
AugmentBatch = Callable[["torch.Tensor", "Mapping[str, Any]"], "torch.Tensor"]


@dataclass(frozen=True)
class DataFacts:
    """What a dataset learns about itself from its data (plugin API 1.2).

    ``Dataset.describe(data_path, options)`` returns one once the data path and the
    ``--data-option`` pairs are known; each field left None keeps the registered
    record's value. The trainer builds the model from the result and the checkpoint
    stores it, so evaluation, prediction and export need neither the plugin's
    load-time state nor the data.
    """

    num_class: int | None = None
    class_names: Sequence[str] | None = None
    layout: str | Layout | None = None
    in_channels: int | None = None
    num_person: int | None = None
    score_channel: bool | None = None


@dataclass(frozen=True)
class Dataset:
    """A skeleton dataset: its shape facts and a function that builds a split.

    ``build(split, data_path, options)`` returns a ``torch.utils.data.Dataset`` whose
    items are ``(float32 tensor (in_channels, T, V, num_person), int label)``, with
    ``split`` "train" or "val". ``options`` carries ``--data-option KEY=VALUE`` pairs.
    One declared with ``build_training=True`` (plugin API 1.4) also gets the keyword
    ``training``: True only for the split the trainer trains on, False for validation and
    for ``stgcn eval`` of either split, which must then give the same clips every time
    (no random windows, no augmentation).
    ``recipe`` holds the training settings this data wants by default (epochs,
    batch_size, lr, steps, ...); command-line options still win.
    ``read_sample(path)`` reads one clip in the dataset's own file format (a raw
    JSON clip, say) into a float32 numpy array (in_channels, T, V, num_person), so
    that ``stgcn predict`` can take files the user already has; one declared with
    ``read_sample_options=True`` (or of a plugin whose ``STGCN_API`` starts at 1.2)
    gets the model's data options as a second argument, so that the clip is read as
    the model was trained on it.
    ``read_named_clip(path, clip, options)`` (plugin API 1.4) reads one clip out of a
    file that holds many (an annotation pickle, a split's arrays), by the name the
    dataset gives it (its ``sample_names``): ``stgcn predict --input FILE#CLIP``.
    ``describe(data_path, options)`` (plugin API 1.2) gives the facts the data itself
    decides: classes, layout, channels, persons (:class:`DataFacts`). A dataset with
    one registers ``num_class=0`` when its classes are known only from its data.
    Validation items may carry a clip axis, ``(clips, in_channels, T, V, num_person)``:
    the evaluation averages the softmax scores over the clips.
    ``presets`` are named recipes (``stgcn run --preset NAME``), for example the
    published schedule beside a quicker default.
    ``augment_batch(batch, options)``, where given, applies the training augmentation
    to a whole collated batch on its device; a split built with ``options`` updated by
    ``batch_augment_options`` leaves that augmentation to it (``stgcn bench
    --with-data`` times both paths).
    ``score_channel`` (plugin API 1.1) says whether the last channel is a detection
    score; the core's bone and motion streams (``--data-option modality=``) need it.
    """

    name: str
    num_class: int
    build: BuildDataset | BuildDatasetForPurpose
    layout: str | Layout = "openpose"
    strategy: str = "spatial"
    in_channels: int = 3
    num_person: int = 2
    description: str = ""
    needs_data_path: bool = True
    class_names: Sequence[str] | None = None
    recipe: Mapping[str, Any] = field(default_factory=dict)
    read_sample: ReadSample | None = None
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    augment_batch: AugmentBatch | None = None
    batch_augment_options: Mapping[str, Any] = field(default_factory=dict)
    #: the last channel is a detection score (2D keypoints: x, y, score), not a
    #: coordinate (3D: x, y, z); bones and motion average it instead of subtracting
    score_channel: bool = True
    describe: Describe | None = None
    #: whether ``read_sample`` takes the data options as a second argument; None leaves
    #: it to the plugin's ``STGCN_API``: options when the range starts at 1.2 or later
    read_sample_options: bool | None = None
    read_named_clip: ReadNamedClip | None = None
    #: whether ``build`` takes the keyword ``training`` (plugin API 1.4); without it
    #: ``build`` gets three arguments, as before, and ``stgcn eval`` draws its random
    #: numbers from fixed seeds so that two evaluations agree
    build_training: bool = False
    #: the distribution that registered this record and the ``STGCN_API`` range its
    #: module declares: the registry fills both in, a plugin leaves them out
    plugin: str = field(default="", compare=False)
    plugin_api: str = field(default="", compare=False)

    def reads_sample_options(self) -> bool:
        """Whether ``read_sample`` gets the options: as the record declares, else as its
        plugin's declared API range says (a range admitting 1.0 or 1.1 means the path
        alone, since ``read_sample`` took only the path before 1.2)."""
        if self.read_sample_options is not None:
            return self.read_sample_options
        if not self.plugin_api:
            return False
        try:
            supported = SpecifierSet(self.plugin_api)
        except InvalidSpecifier:
            return False
        return not any(Version(old) in supported for old in ("1.0", "1.1"))

    def build_for(
        self, split: str, data_path: Path | None, options: Mapping[str, Any], training: bool
    ) -> TorchDataset[Any]:
        """``build`` called as the record declares: with ``training`` where it takes it."""
        if self.build_training:
            return cast(BuildDatasetForPurpose, self.build)(
                split, data_path, options, training=training
            )
        return cast(BuildDataset, self.build)(split, data_path, options)

    def with_facts(self, facts: DataFacts) -> Dataset:
        """This record with the facts that ``facts`` sets (None keeps a field)."""
        changes = {
            name: value
            for name in DataFacts.__dataclass_fields__
            if (value := getattr(facts, name)) is not None
        }
        if "class_names" in changes:
            changes["class_names"] = tuple(str(n) for n in changes["class_names"])
        return replace(self, **changes) if changes else self

    def data_path_for(self, data_path: str | Path | None) -> Path | None:
        """The folder or file to read, checked: present where needed, existing where given."""
        if self.needs_data_path and not data_path:
            raise StgcnError(f"dataset {self.name!r} needs --data-path")
        if data_path and not Path(data_path).exists():
            raise StgcnError(f"data path not found: {data_path}")
        return Path(data_path) if data_path else None


@runtime_checkable
class RunLogger(Protocol):
    """One run's record keeper: what a :class:`Logger` creates for a run. The trainer
    calls these on rank 0 only, in this order; a method that raises switches the logger
    off for the rest of the run (reported once), never stopping the run."""

    def run_started(self, config: Mapping[str, Any]) -> None:
        """The resolved configuration (``config.json``), before the first step."""
        ...

    def step(self, step: int, scalars: Mapping[str, float]) -> None:
        """Every ``--log-every`` steps: ``train/loss``, ``train/lr``,
        ``train/samples_per_s`` at the global step ``step`` (counted from 1)."""
        ...

    def epoch_ended(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        """The epoch's line of ``metrics.jsonl``, once it is written."""
        ...

    def checkpoint_saved(self, path: Path, epoch: int, best: bool) -> None: ...

    def run_ended(self, summary: Mapping[str, Any]) -> None:
        """The last metrics and ``best_top1``; also after a failure (``summary["error"]``),
        so that files are flushed and closed."""
        ...


@dataclass(frozen=True)
class LoggerContext:
    """What a logger is told about the run it records (plugin API 1.4): what
    ``create`` gets from a :class:`Logger` declared with ``create_with_context=True``.

    ``create`` must not write files: it runs before the work dir exists, and a logger
    that cannot start (a missing package) stops the run without leaving anything
    behind. Open files, servers' runs and the like in ``run_started``.
    """

    #: the run's work dir (it may not exist yet while ``create`` runs)
    work_dir: Path
    #: the resolved configuration, as ``config.json`` holds it
    config: Mapping[str, Any]
    #: the ``--logger NAME:KEY=VALUE`` options: an instance of the record's ``settings``
    #: family, or (a record without one, which takes no options) an empty mapping
    options: Any
    #: the steps between the ``step`` events this logger gets
    step_interval: int
    #: the global step the run goes on after, when it resumes from a checkpoint (after
    #: ``resuming_from_epoch`` whole epochs); None for a fresh run
    resuming_from_step: int | None = None
    resuming_from_epoch: int | None = None
    #: the last global step and epoch whose ``step`` and ``epoch_ended`` events an earlier
    #: process of this run sent to its loggers (0 where none): the core does not send
    #: them again, although the resumed run trains those steps once more
    sent_through_step: int = 0
    sent_through_epoch: int = 0

    @property
    def resuming(self) -> bool:
        """Whether the run goes on from a checkpoint (``stgcn run --resume``)."""
        return self.resuming_from_step is not None


@dataclass(frozen=True)
class Logger:
    """Records runs somewhere (TensorBoard, an experiment tracker), chosen with
    ``stgcn run --logger NAME`` (``--logger NAME:KEY=VALUE`` for each option).

    ``create(work_dir, config)`` returns a :class:`RunLogger` for one run (it may leave
    out any of the methods: the events it lacks are not sent to it); raise
    StgcnError there for what the user can fix (a missing package), before training
    starts. It must not write files (see :class:`LoggerContext`). A record declared
    with ``create_with_context=True`` (plugin API 1.4) has ``create(context)`` instead,
    given a :class:`LoggerContext`: the run's facts, whether it resumes, and its
    options parsed by ``settings``.
    """

    name: str
    #: returns a :class:`RunLogger`, or an object with only some of its methods
    create: Callable[..., RunLogger | object]
    description: str = ""
    #: whether ``create`` takes one :class:`LoggerContext` rather than
    #: ``(work_dir, config)`` (plugin API 1.4)
    create_with_context: bool = False
    #: the :class:`~stgcn.plugins.settings.Settings` family of the logger's
    #: ``--logger NAME:KEY=VALUE`` options; None: it takes none (plugin API 1.4)
    settings: type[Settings] | None = None
    #: the steps between this logger's ``step`` events, where it wants its own interval
    #: rather than ``--log-every``; the user's ``--logger NAME:every=N`` wins over both
    step_interval: int | None = None


@dataclass(frozen=True)
class Exporter:
    """Writes a trained model to another format.

    ``export(model, output, options)`` writes ``output`` from an eval-mode model;
    ``options`` are exporter-specific (opset, example shape, ...).
    """

    name: str
    export: Callable[[torch.nn.Module, Path, Mapping[str, Any]], None]
    description: str = ""
    suffix: str = ""


@runtime_checkable
class PoseModel(Protocol):
    """A pose estimator opened for one video: frames in, skeletons out.

    ``estimate`` takes one RGB image ``(height, width, 3)`` uint8 (OpenCV reads BGR:
    the caller converts) and returns one float32 array ``(joints, 3)`` per person found,
    x and y as fractions of the image width and height (0 at the left and top) and a
    score in [0, 1], in the estimator's own joint order (:attr:`PoseEstimator.joints`);
    an empty list when nobody is found. Frames come in video order, so a tracking
    estimator may use the previous ones.
    """

    def estimate(self, image: np.ndarray) -> Sequence[np.ndarray]: ...

    def close(self) -> None:
        """Free the model (called once, also after a failure)."""
        ...


@dataclass(frozen=True)
class PoseEstimator:
    """Turns video frames into skeletons (``stgcn predict --video``, ``stgcn data
    extract``), plugin API 1.3.

    ``open(options)`` returns a :class:`PoseModel` for one video; ``options`` are the
    ``--estimator-option KEY=VALUE`` pairs as strings (refuse an unknown key with
    StgcnError). ``joints`` names the estimator's own joints, in the order
    ``estimate`` returns them; ``layouts`` maps each stgcn layout it can feed
    (``"openpose"``, ``"coco"``) to a :class:`stgcn.pose.JointMap` from those joints,
    so that the core converts its output to whatever layout a model was trained on.
    ``max_persons`` is the most people ``estimate`` returns for one frame: 1 for a
    single-person estimator, None when it finds any number. ``people_option`` names the
    ``--estimator-option`` key (a whole number) that sets how many people it looks for;
    the core's ``--max-people N`` sets it to N. Without one (None) the estimator returns
    whom it finds and the core keeps the N most salient (highest summed score).
    Opening may be slow (a model loads); creating the record must not.
    """

    name: str
    open: Callable[[Mapping[str, str]], PoseModel]
    joints: Sequence[str]
    layouts: Mapping[str, Any]
    description: str = ""
    max_persons: int | None = None
    people_option: str | None = None
    #: the distribution that registered this record (named in a plugin's error line): the
    #: registry fills it in, a plugin leaves it out
    plugin: str = field(default="", compare=False)
