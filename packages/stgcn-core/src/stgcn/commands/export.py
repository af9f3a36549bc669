"""``stgcn export NAME``: one command per registered exporter, made from its record.

An exporter plugin writes no command: :func:`wire_exporters` gives every registered
:class:`~stgcn.plugins.records.Exporter` the command ``stgcn export NAME`` with the options
all exports share (``--checkpoint``, ``--output``, ``--dataset`` and, for a bare
state_dict, ``--layout``, ``--strategy``, ``--num-class``), its own options from its
``settings`` family (or ``--option KEY=VALUE`` where it declares none), the refusals
every export needs (the checkpoint itself, a folder, an existing file of another type),
and the printing of its report. The command is noted as the exporter's plugin's, in
``stgcn plugins``, as if the plugin had added it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from stgcn.commands import group
from stgcn.commands.options import (
    bare_model_options,
    checkpoint_option,
    given,
    settings_options,
)
from stgcn.errors import PluginError, StgcnError, plugin_code
from stgcn.plugins.kinds import EXPORTERS
from stgcn.plugins.loading import fail
from stgcn.plugins.records import Exporter, ExportReport, ExportRequest
from stgcn.plugins.settings import Flag, Settings, parse_pairs

if TYPE_CHECKING:
    from stgcn.model.checkpoint import Checkpoint
    from stgcn.plugins.registry import Registry

#: the help of the ``stgcn export`` group
EXPORT_HELP = "Write a trained model to another format."
#: the persons of an export's sample when neither the user nor the dataset says
DEFAULT_PERSONS = 2
#: the options every ``stgcn export NAME`` has, which an exporter's settings cannot take
SHARED = ("checkpoint", "output", "dataset", "layout", "strategy", "num_class")


def wire_exporters(cli: click.Group, registry: Registry) -> None:
    """Add ``stgcn export NAME`` for every exporter in ``registry`` that its plugin has
    not added a command for itself; an exporter whose command cannot be made (a settings
    field the command line cannot take) is reported as its plugin's failure."""
    for name, record in registry.table(EXPORTERS).items():
        owner = registry.owner_of(EXPORTERS, name)
        had_group = "export" in cli.commands
        try:
            exports = group(cli, "export", help=EXPORT_HELP)
            existing = exports.commands.get(name)
            if existing is not None and not isinstance(existing, ExporterCommand):
                continue  # the plugin wrote its own
            exports.add_command(exporter_command(record), name)
        except Exception as error:  # a broken record costs its own command only
            if owner is None:
                raise
            fail(owner, "command registration", error)
            continue
        # noted once, though a process may build the group again (tests do)
        if owner is not None and not {"export", f"export {name}"} & set(owner.commands):
            owner.commands = sorted([*owner.commands, f"export {name}" if had_group else "export"])


class ExporterCommand(click.Command):
    """A command made from an exporter record (made anew with each registry)."""


def exporter_command(record: Exporter) -> ExporterCommand:
    """The command ``stgcn export NAME`` of ``record`` (see the module's docstring)."""
    description = record.description.rstrip(".") or f"the {record.name} format"

    @click.command(
        record.name,
        cls=ExporterCommand,
        help=f"Write a checkpoint's model with the {record.name} exporter: {description}.",
        short_help=record.description or None,
    )
    @checkpoint_option(required=True)
    @click.option(
        "--output", required=True, help=f"The {record.suffix or 'exported'} file to write."
    )
    @own_options(record)
    @click.option(
        "--dataset", help="Dataset whose class names to store. Default: the checkpoint's."
    )
    @click.pass_context
    def export(ctx: click.Context, **values: Any) -> None:
        request = export_request(record, values, given(ctx, **values))
        for line in run_export(record, request).lines():
            click.echo(line)

    return cast(ExporterCommand, bare_model_options(export))


def own_options(record: Exporter) -> Callable[[Any], Any]:
    """The exporter's own options: one per field of its settings family that is a
    command-line option (its help a :class:`~stgcn.plugins.settings.Flag`), else
    ``--option KEY=VALUE``."""
    if record.settings is None:
        return click.option(
            "--option",
            multiple=True,
            metavar="KEY=VALUE",
            help=f"An option of the {record.name} exporter; repeatable.",
        )
    taken = sorted(set(_flagged(record.settings)) & set(SHARED))
    if taken:
        raise TypeError(
            f"exporter {record.name!r}: settings field {taken[0]!r} is an option every "
            "export has; rename it"
        )
    return settings_options(record.settings)


def _flagged(family: type[Settings]) -> dict[str, dataclasses.Field[Any]]:
    """The family's command-line fields (their help a Flag), by name."""
    fields = dataclasses.fields(family)  # type: ignore[arg-type]
    return {f.name: f for f in fields if isinstance(f.metadata.get("flag"), Flag)}


def typed_options(family: type[Settings], typed: Mapping[str, Any]) -> dict[str, Any]:
    """The options the user typed for ``family``'s fields, each field with a parser of its
    own parsed here, so that its error names the flag typed (``--verify-shape``)."""
    options = {}
    for name, field in _flagged(family).items():
        if name in typed:
            parse, flag = field.metadata["parse"], field.metadata["flag"]
            value = typed[name]
            options[name] = parse(value, flag.option_name(name)) if parse else value
    return options


def export_request(
    record: Exporter, values: Mapping[str, Any], typed: Mapping[str, Any]
) -> ExportRequest:
    """The request of one ``stgcn export NAME`` command line: the output checked, the
    model loaded (a bare state_dict too) and what its checkpoint says about its data;
    ``typed`` holds the options the user typed (the others keep the family's defaults)."""
    from stgcn.commands.model_source import find_dataset, load_checkpoint_model
    from stgcn.data.facts import coordinates_of
    from stgcn.networks.loading import registered_name

    checkpoint, output = Path(values["checkpoint"]), Path(values["output"])
    refuse_overwrite(output, checkpoint, record.suffix)
    bare = (values["layout"], values["strategy"], values["num_class"])
    model, saved = load_checkpoint_model(str(checkpoint), *bare)
    named = values["dataset"]
    name = named or (saved.run_dataset if saved is not None else None)
    data = find_dataset(name, explicit=bool(named), num_class=model.num_class, checkpoint=saved)
    if record.settings is not None:
        options = typed_options(record.settings, typed)
    else:
        options = parse_pairs(values["option"], "--option")
    return ExportRequest(
        model,
        output,
        options,
        dataset=name,
        class_names=_class_names(saved, data, model.num_class),
        data_options=dict(saved.run_config.get("data_options") or {})
        if saved is not None and not named
        else {},
        persons=data.num_person if data is not None else DEFAULT_PERSONS,
        frames=_trained_frames(saved),
        checkpoint=checkpoint,
        model_name=registered_name(model),
        coordinates=coordinates_of(data, saved),
    )


def run_export(record: Exporter, request: ExportRequest) -> ExportReport:
    """``record.export(request)``, its failures one line naming the exporter and its
    plugin, its result checked to be a report."""
    what = f"exporter {record.name!r}"
    with plugin_code(what, record.plugin, "export"):
        report = record.export(request)
    if not isinstance(report, ExportReport):
        raise PluginError(
            f"{what} returned {type(report).__name__}, not an ExportReport (a path and "
            "its lines())",
            record.plugin,
            "export",
        )
    return report


def refuse_overwrite(output: Path, checkpoint: Path, suffix: str) -> None:
    """An export replaces an older export (a file ending in the exporter's ``suffix``),
    never the checkpoint, a folder or another kind of file."""
    if output.exists() and checkpoint.exists() and output.resolve() == checkpoint.resolve():
        raise StgcnError(f"--output {output} is the checkpoint itself; choose another file")
    if output.is_dir():
        example = f"model{suffix}" if suffix else "model.out"
        raise StgcnError(f"output {output} is a folder; give a file name such as {example}")
    if not output.exists():
        _refuse_file_as_folder(output)
        return
    if not suffix:
        raise StgcnError(f"{output} exists; not overwriting it")
    if not output.name.lower().endswith(suffix.lower()):
        article = "an" if suffix[1:2].lower() in "aefhilmnorsx" else "a"
        raise StgcnError(f"{output} exists and is not {article} {suffix} file; not overwriting it")


def _refuse_file_as_folder(output: Path) -> None:
    """An output whose folder would have to be made where a file is (``/etc/passwd/x``)
    is refused naming that file, rather than by the exporter's "File exists"."""
    for folder in output.parents:
        if folder.exists():
            if not folder.is_dir():
                raise StgcnError(f"cannot write {output}: {folder} is a file, not a folder")
            return


def _class_names(saved: Checkpoint | None, data: Any, num_class: int) -> tuple[str, ...] | None:
    """The class names the checkpoint stored, else the dataset's, where they fit."""
    from stgcn.commands.model_source import class_names_of
    from stgcn.data.class_names import class_names

    stored = class_names(num_class, saved.class_names if saved is not None else None)
    names = stored if stored is not None else class_names_of(data, num_class)
    return tuple(names) if names is not None else None


def _trained_frames(saved: Checkpoint | None) -> int | None:
    """The frames of the clips the checkpoint's model was trained on, where recorded."""
    from stgcn.model.checkpoint import CLIP_FRAMES_KEY

    facts = saved.data_facts if saved is not None else None
    frames = facts.get(CLIP_FRAMES_KEY) if isinstance(facts, Mapping) else None
    return int(frames) if frames else None
