"""Options and checks that several commands share, defined once.

:func:`settings_options` makes a command's options from a family of settings (``stgcn
run``'s from ``RunConfig``), so that an option says what its field says. The backend
options serve ``stgcn run`` and ``stgcn bench``; the pose-input options
serve ``stgcn data extract`` and a plugin's ``stgcn predict --video`` (stgcn-export),
so that both spell and check them the same way.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from stgcn.errors import StgcnError
from stgcn.model.graph import STRATEGIES
from stgcn.plugins.settings import Flag, Settings, value_type

Command = TypeVar("Command", bound=Callable[..., Any])
Decorator = Callable[[Command], Command]


def settings_options(
    family: type[Settings], between: Mapping[str, Sequence[Decorator[Any]]] | None = None
) -> Decorator[Any]:
    """The family's fields whose help is a :class:`Flag` as click options, in the order
    they are declared: each option's name, help, type (a flag for a bool, a choice for
    a field with choices, ``INTEGER`` or ``FLOAT`` for a number) and repetition come from
    its field. None has a default of its own (but for ``--help``, where the Flag says
    ``show_default``), so that the command sees only what was typed (:func:`given`) and
    the family's defaults count where nothing else sets a value.
    ``between[key]`` are the command's other options, listed in ``--help`` after the
    option of the field ``key``. The command receives each value under its field's name."""
    between = dict(between or {})
    hints = typing.get_type_hints(family)
    decorators: list[Decorator[Any]] = []
    for field in dataclasses.fields(family):  # type: ignore[arg-type]
        flag = field.metadata.get("flag")
        if isinstance(flag, Flag):
            decorators.append(_field_option(field, flag, value_type(hints[field.name])))
        decorators.extend(between.pop(field.name, ()))
    if between:
        raise ValueError(f"{family.__name__} has no option {sorted(between)[0]!r} to follow")

    def add(command: Command) -> Command:
        for decorator in reversed(decorators):  # click lists the last one added first
            command = decorator(command)
        return command

    return add


def _field_option(field: dataclasses.Field[Any], flag: Flag, kind: Any) -> Decorator[Any]:
    """One field's click option (``kind``: the type of its values)."""
    declared: dict[str, Any] = {"help": flag.help or None, "metavar": flag.metavar}
    name = flag.option_name(field.name)
    if kind is bool and field.default is True:  # on unless switched off: --verify/--no-verify
        name = f"{name}/--no-{name.removeprefix('--')}"
        declared.update(default=None)
    elif kind is bool:
        declared.update(is_flag=True, default=None)
    elif flag.repeat:
        declared["multiple"] = True
    elif field.metadata.get("choices") is not None:
        declared["type"] = click.Choice(field.metadata["choices"])
    elif kind in (int, float):
        declared["type"] = kind
    if flag.show_default:  # click's default, for --help: given() still tells what was typed
        declared.update(default=field.default, show_default=True)
    return click.option(name, field.name, **declared)


def given(ctx: click.Context, **values: Any) -> dict[str, Any]:
    """The options the user actually typed (not click's defaults)."""
    return {
        name: value
        for name, value in values.items()
        if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
    }


def backend_option_flags(command: Command) -> Command:
    """``--backend-option KEY=VALUE`` and its shorthand ``--compile``."""
    command = click.option(
        "--compile",
        "compile_model",
        is_flag=True,
        help="torch.compile the model (same as --backend-option compile=true).",
    )(command)
    return click.option(
        "--backend-option",
        "backend_option",
        multiple=True,
        metavar="KEY=VALUE",
        help="Backend-specific setting; repeatable (see the backend's README).",
    )(command)


def backend_options(pairs: tuple[str, ...], compile_model: bool) -> dict[str, str]:
    """The backend's settings from ``--backend-option`` pairs and ``--compile``."""
    from stgcn.plugins.settings import parse_pairs

    options = parse_pairs(pairs, "--backend-option")
    if compile_model:
        options["compile"] = "true"
    return options


def estimator_options(video_flag: str) -> Callable[[Command], Command]:
    """``--estimator NAME`` and ``--estimator-option KEY=VALUE``, for the videos that
    ``video_flag`` (``--video``, ``--videos``) names."""

    def add(command: Command) -> Command:
        command = click.option(
            "--estimator-option",
            "estimator_option",
            multiple=True,
            metavar="KEY=VALUE",
            help="Estimator-specific setting; repeatable.",
        )(command)
        return click.option(
            "--estimator",
            default="mediapipe",
            show_default=True,
            help=f"Pose estimator ({video_flag}).",
        )(command)

    return add


def max_people_option(default: int | None, help: str) -> Callable[[Command], Command]:
    """``--max-people N``: at most N people a frame, the most salient; an estimator that
    takes a people option (``PoseEstimator.people_option``) looks for N."""
    return click.option(
        "--max-people",
        type=int,
        default=default,
        show_default=default is not None,
        metavar="N",
        help=help,
    )


def frame_size_option(help: str) -> Callable[[Command], Command]:
    """``--frame-size WIDTHxHEIGHT``: OpenPose and COCO results files hold pixels."""
    return click.option("--frame-size", metavar="WxH", help=help)


def one_input(*choices: tuple[str, str, str | None]) -> tuple[str, str]:
    """The one input given among ``(kind, "--flag METAVAR", value)`` choices, as
    ``(kind, value)``; none or several given end in one line naming them all."""
    given_ = [(kind, value) for kind, _, value in choices if value]
    if len(given_) != 1:
        flags = [flag for _, flag, _ in choices]
        raise StgcnError(f"give one of {', '.join(flags[:-1])} and {flags[-1]}")
    return given_[0]


def frame_size_for(kind: str, text: str | None) -> tuple[int, int] | None:
    """The ``--frame-size`` that pose files (``openpose``, ``coco-results``) need to turn
    their pixels into fractions of the frame; None for a video, which knows its size."""
    if kind == "video":
        return None
    from stgcn.pose.readers import parse_frame_size

    return parse_frame_size(text, f"--{kind}")


def bare_model_params() -> list[click.Option]:
    """--layout, --strategy, --num-class: for a bare state_dict that cannot tell them
    (:func:`stgcn.commands.model_source.load_checkpoint_model` takes them)."""
    return [
        click.Option(
            ["--layout"],
            help="For a bare state_dict: openpose, ntu-rgb+d, ntu_edge, coco, or a .json "
            "file {num_node, edges, center}. Default: inferred.",
        ),
        click.Option(
            ["--strategy"],
            type=click.Choice(STRATEGIES),
            help="For a bare state_dict. Default: inferred.",
        ),
        click.Option(
            ["--num-class"], type=int, help="For a bare state_dict: check the class count."
        ),
    ]


def bare_model_options(command: click.Command) -> click.Command:
    """A command with :func:`bare_model_params` as its last options (applied above
    ``@click.command()``)."""
    command.params.extend(bare_model_params())
    return command


def weights_file_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """The callback of every option that takes a checkpoint or state_dict
    (``--checkpoint``): a weights file, or the name of released weights (``stgcn weights
    list``) turned into its file, downloaded first where not yet cached
    (:func:`stgcn.networks.released.weights_file`, the one place names are looked up)."""
    if value is None:
        return None
    from stgcn.networks.released import weights_file

    return weights_file(value)


#: how those options show their value in ``--help``
WEIGHTS_METAVAR = "FILE|NAME"

#: what ``--checkpoint`` takes, as eval and export say it
CHECKPOINT_HELP = "A stgcn checkpoint, a reference state_dict or released weights' name."


def checkpoint_option(
    help: str = CHECKPOINT_HELP, *, required: bool = False, dest: str = "checkpoint"
) -> Callable[[Command], Command]:
    """``--checkpoint FILE|NAME``: a weights file or released weights' name, which the
    command receives as a file (:func:`weights_file_option`), so that every command
    that loads a model takes the same thing. ``help`` says what the command makes of
    it; ``dest``, the parameter's name where the command takes the checkpoint in
    another way too (``stgcn info CHECKPOINT``)."""
    return click.option(
        "--checkpoint",
        dest,
        required=required,
        callback=weights_file_option,
        metavar=WEIGHTS_METAVAR,
        help=help,
    )
