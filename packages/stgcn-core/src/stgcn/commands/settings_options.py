"""A :class:`~stgcn.plugins.settings.Settings` family as command-line options: one
``--KEY`` per field (an exporter's options on ``stgcn export NAME``), so that a plugin
declares its options once, as data, and writes no click code.

A field's type picks the option's: ``bool`` a flag (``--key/--no-key`` where the default
is true), ``int`` and ``float`` numbers (at least ``least`` where given), a ``str`` with
``choices`` a choice, a ``tuple`` a repeatable option; a field with a parser of its own
takes text and is parsed by it, its errors naming the flag. The values come back as the
mapping the family parses (:func:`option_values`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

import click

from stgcn.plugins.settings import Settings


def _flag(field: dataclasses.Field[Any]) -> str:
    return str(field.metadata.get("flag") or "--" + field.name.replace("_", "-"))


def _fields(family: type[Settings]) -> list[dataclasses.Field[Any]]:
    """The family's fields that are command-line options, in declared order."""
    fields = dataclasses.fields(family)  # type: ignore[arg-type]
    return [f for f in fields if f.metadata.get("command_line", True)]


def _base_type(hint: Any) -> Any:
    """``int`` of ``int | None``; the hint itself otherwise."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)]
        return kinds[0] if len(kinds) == 1 else str
    return hint


def settings_options(family: type[Settings]) -> list[click.Option]:
    """One click option per command-line field of ``family`` (see the module's docstring)."""
    hints = typing.get_type_hints(family)
    options = []
    for field in _fields(family):
        meta, flag = field.metadata, _flag(field)
        kind = _base_type(hints[field.name])
        factory = field.default_factory
        default = factory() if callable(factory) else field.default
        settings: dict[str, Any] = {
            "help": meta.get("help") or None,
            "metavar": meta.get("metavar"),
        }
        declared = [flag]
        least, choices = meta.get("least"), meta.get("choices")
        if typing.get_origin(kind) is tuple:
            settings.update(multiple=True, type=str)
        elif kind is bool:
            if default:  # on unless switched off: --verify/--no-verify
                declared = [f"{flag}/--no-{flag.removeprefix('--')}"]
                settings.update(default=True)
            else:
                settings.update(is_flag=True, default=False)
        elif meta.get("parse") is not None:
            settings.update(type=str)
        elif choices is not None:
            settings.update(type=click.Choice(list(choices)))
        elif kind is int:
            settings.update(type=click.IntRange(min=least) if least is not None else int)
        elif kind is float:
            settings.update(type=click.FloatRange(min=least) if least is not None else float)
        else:
            settings.update(type=str)
        if typing.get_origin(kind) is not tuple and kind is not bool:
            settings["default"] = default
        settings["show_default"] = default not in (None, False, ()) and not isinstance(
            default, Mapping
        )
        options.append(click.Option([*declared, field.name], **settings))
    return options


def option_values(family: type[Settings], values: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping ``family`` parses, from the click values of :func:`settings_options`:
    a field with a parser of its own is parsed here, so that its error names the flag
    the user typed; an empty repeatable option and an option left unset are left out,
    so that the family's default applies."""
    parsed = {}
    for field in _fields(family):
        value = values.get(field.name)
        if value is None or value == ():
            continue
        parse = field.metadata.get("parse")
        parsed[field.name] = parse(value, _flag(field)) if parse is not None else value
    return parsed
