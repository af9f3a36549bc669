"""The resolved configuration of a training run: a family of settings.

Values come from four places, later ones winning: built-in defaults, the dataset's
recipe (or one of its presets), a ``--config`` file (TOML or YAML), the command line.
Each goes through the one parser of :mod:`stgcn.plugins.settings` (``RunConfig.layered``),
so a value is checked the same way wherever it was written, and the ``data_options``
and ``backend_options`` tables add up key by key. The fields whose help is a
:class:`~stgcn.plugins.settings.Flag` are ``stgcn run``'s options, made from them.
``config.json`` in the work dir records the result, so a run can be repeated or
resumed from it alone.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from stgcn.errors import StgcnError, first_line
from stgcn.model import INIT_SCHEMES
from stgcn.plugins.settings import (
    Flag,
    Settings,
    option,
    parse_int,
    parse_path,
    parse_table,
    shown,
)
from stgcn.training.preemption.schedule import CheckpointEvery

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: the choices of ``--precision``, ``--lr-schedule`` and ``--lr-scaling``
PRECISIONS = ("fp32", "bf16", "fp16")
SCHEDULES = ("step", "cosine")
LR_SCALINGS = ("none", "linear")
#: the largest batch a loader takes (torch slices a split with a C index)
MOST_PER_BATCH = 2**31 - 1


def parse_steps(value: object, what: str) -> list[int]:
    """Epoch numbers, sorted: a list, or text such as ``20,30,40`` (``--steps``)."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        raise StgcnError(f"{what} expects epoch numbers such as 20,30,40, got {shown(value)}")
    steps = sorted(parse_int(step, what) for step in value)
    if any(step < 1 for step in steps):
        raise StgcnError(f"{what} must be epoch numbers of at least 1, got {steps}")
    return steps


def parse_names(value: object, what: str) -> list[str]:
    """Names, each once and in order: a list, or text such as ``a,b`` (``loggers``)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise StgcnError(f"{what} expects names, got {shown(value)}")
    return list(dict.fromkeys(str(name).strip() for name in value if str(name).strip()))


def parse_checkpoint_every(value: object, what: str) -> str:
    """``500`` steps, ``10m`` minutes or ``90s`` seconds, checked, kept as written."""
    text = str(value)
    CheckpointEvery.parse(text, what)
    return text


LOGGER_HELP = (
    "Send the run's events to this logger (e.g. tensorboard); repeatable, also to give "
    "a logger its options one KEY=VALUE at a time (every=N: its steps between step "
    "scalars)."
)


@dataclass(frozen=True)
class RunConfig(Settings):
    """Every setting of a training run. The fields with a :class:`Flag` are ``stgcn
    run``'s options, in the order ``--help`` lists them (their help is the option's,
    the default shown in it where it says one); the others are set by a recipe, a config
    file or their own options (``--data-option``, ``--backend-option``)."""

    family: ClassVar[str] = "run settings"
    unknown_line: ClassVar[str] = "{family}: unknown setting {key!r}"
    value_line: ClassVar[str] = "{family}: {key}"
    dashed_keys: ClassVar[bool] = True

    backend: str | None = option(None, Flag("Device backend (default: the best available)."))
    cards: int = option(1, Flag("Devices per host (default 1); one worker each."), least=1)
    sync_bn: bool = option(False, Flag("Synchronise BatchNorm across cards."))
    lr_scaling: str = option("none", Flag("Scale --lr by batch."), choices=LR_SCALINGS)
    lr_reference_batch: int | None = option(None, Flag("Total batch --lr was tuned for."), least=1)
    dataset: str = option("synthetic", Flag("Dataset name (default: synthetic)."))
    model: str = option("stgcn", Flag("Network (default: stgcn); stgcn plugins lists them."))
    data_path: str | None = option(
        None, Flag("Dataset folder or file, for datasets that read files."), parse=parse_path
    )
    epochs: int = option(50, Flag(), least=1)
    batch_size: int = option(
        64, Flag("Samples per card per step."), within=f"[1, {MOST_PER_BATCH}]"
    )
    lr: float = option(0.1, Flag("Base learning rate."), within="(0, inf)")
    weight_decay: float = option(1e-4, Flag(), least=0)
    steps: list[int] = option(
        [20, 30, 40, 50],
        Flag("Epochs at which the lr drops tenfold, e.g. 20,30,40."),
        parse=parse_steps,
    )
    lr_schedule: str = option("step", Flag(), choices=SCHEDULES)
    warmup_epochs: float = option(0.0, Flag("Linear lr warm-up, in epochs."), least=0)
    precision: str | None = option(None, Flag("Default: the backend's."), choices=PRECISIONS)
    dropout: float = option(0.0, Flag(), within="[0, 1)")
    label_smoothing: float = option(
        0.0,
        Flag("Training targets mix this share of a uniform distribution (0: off)."),
        within="[0, 1)",
    )
    init: str = option(
        "reference",
        Flag("Fresh weights: the reference's N(0, 0.02) or PyTorch's fan-in draw."),
        choices=INIT_SCHEMES,
    )
    work_dir: str | None = option(
        None, Flag("Output folder (default: runs/<timestamp>)."), parse=parse_path
    )
    #: numpy's seeds are 32-bit; the run's generators are seeded from it times a factor
    seed: int = option(
        0, Flag("Seed of every random draw, 0 to 4294967295."), within="[0, 4294967295]"
    )
    weights: str | None = option(
        None,
        Flag("Initialise from a checkpoint, a state_dict or released weights by name."),
        parse=parse_path,
    )
    #: beyond a thousand processes per card a host runs out of processes or memory while
    #: they start (10**23 of them froze the machine rather than failing)
    workers: int = option(0, Flag("DataLoader worker processes."), within="[0, 1024]")
    #: registered loggers the run's events go to
    loggers: list[str] = option(
        [],
        Flag(LOGGER_HELP, name="--logger", metavar="NAME[:KEY=VALUE]", repeat=True),
        parse=parse_names,
    )
    log_every: int = option(
        50,
        Flag("Steps between step scalars for the loggers without their own interval (50)."),
        least=1,
    )
    keep: int = option(0, Flag("Also keep the last N epoch checkpoints (default 0)."), least=0)
    #: None: a step checkpoint at the end of each epoch only
    checkpoint_every: str | None = option(
        None,
        Flag("Also write latest every N steps, or every N minutes with m (500, 10m)."),
        parse=parse_checkpoint_every,
    )
    # set by a recipe, a config file or their own options, not options of their own
    data_options: dict[str, Any] = option(
        {}, "the dataset's options (--data-option KEY=VALUE adds one)", parse=parse_table
    )
    #: PYSKL tests with num_clips=10 where training validates with one clip
    eval_data_options: dict[str, Any] = option(
        {}, "data options that stgcn eval of this run adds", parse=parse_table
    )
    backend_options: dict[str, Any] = option(
        {}, "the backend's options (--backend-option KEY=VALUE adds one)", parse=parse_table
    )
    model_options: dict[str, Any] = option(
        {}, "the model's options (--model-option KEY=VALUE adds one)", parse=parse_table
    )
    momentum: float = option(0.9, "SGD momentum")
    nesterov: bool = option(True, "Nesterov momentum")
    gamma: float = option(0.1, "the factor of each lr drop at steps")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Settings from a TOML (.toml) or YAML (.yaml/.yml) file, keys as the options."""
    path = Path(path)
    if not path.is_file():
        raise StgcnError(f"config file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise StgcnError(
            f"config file {path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise StgcnError(f"config file {path} cannot be read: {error.strerror or error}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise StgcnError(f"config file {path}: use a .toml, .yaml or .yml file")
    except StgcnError:
        raise
    except Exception as error:  # any parse error becomes one line
        raise StgcnError(f"config file {path} cannot be parsed: {first_line(error)}") from None
    if not isinstance(data, dict):
        raise StgcnError(f"config file {path}: expected a table of settings")
    return data
