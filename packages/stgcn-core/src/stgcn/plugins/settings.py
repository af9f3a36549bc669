"""One parser for every ``KEY=VALUE`` family: ``--backend-option``, ``--data-option``,
export options, ``--estimator-option``.

A family is a frozen dataclass that subclasses :class:`Settings`: its fields are the
keys, their types and defaults the values, and :func:`option` adds help and checks (a
least value, a set of choices, a parser of one's own). ``Family.parse(options)`` takes
``KEY=VALUE`` strings or a mapping (strings from the command line; numbers and booleans
from a config file are taken as they are) and refuses an unknown key or a bad value in
one :class:`StgcnError` line that names the family and, for an unknown key, lists the
accepted ones::

    @dataclass(frozen=True)
    class ClipOptions(Settings):
        family: ClassVar[str] = "clips dataset"
        frames: int = option(64, "frames per clip", least=1)
        mirror: bool = option(False, "flip clips left to right")

    ClipOptions.parse({"frames": "32"})  # ClipOptions(frames=32, mirror=False)
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from stgcn.errors import StgcnError

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")

#: ``parse(value, what)``: a value of one's own kind, or StgcnError naming ``what``
Parser = Callable[[Any, str], Any]
SettingsT = TypeVar("SettingsT", bound="Settings")


def parse_bool(value: object, what: str) -> bool:
    """``true``/``false`` (and 1/0, yes/no, on/off) as typed on a command line."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise StgcnError(f"{what}: expected true or false, got {value!r}")


def parse_int(value: object, what: str) -> int:
    """A whole number, from a string or an int (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise StgcnError(f"{what} expects a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:  # also a string of more digits than Python converts
        raise StgcnError(f"{what} expects a whole number, got {_shown(value)}") from None


def parse_float(value: object, what: str) -> float:
    """A finite number, from a string, an int or a float. NaN and the infinities are
    refused: NaN passes every ``least`` check (it compares false) and would make a
    tolerance accept anything, and no option means "without limit" by infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise StgcnError(f"{what} expects a number, got {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        raise StgcnError(f"{what} expects a number, got {_shown(value)}") from None
    if not math.isfinite(number):
        raise StgcnError(f"{what} expects a finite number, got {_shown(value)}")
    return number


def _shown(value: object) -> str:
    """``repr(value)``, cut short: a config file's number can have thousands of digits."""
    text = repr(value) if not isinstance(value, int) else str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def parse_str(value: object, what: str) -> str:
    return str(value)


PARSERS: dict[type, Parser] = {bool: parse_bool, int: parse_int, float: parse_float, str: parse_str}


def parse_pairs(pairs: tuple[str, ...] | list[str], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` strings into a dict, refusing anything else in one line."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StgcnError(f"{flag} expects KEY=VALUE, got {pair!r}")
        options[key.strip()] = value.strip()
    return options


def option(
    default: Any = None,
    help: str = "",
    *,
    least: float | None = None,
    choices: Sequence[str] | None = None,
    parse: Parser | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    command_line: bool = True,
) -> Any:
    """A field of a :class:`Settings` family: its default, its help line and its checks.
    ``parse(value, what)`` replaces the parser the field's type would choose.

    Where a family becomes command-line options (an exporter's, ``stgcn export NAME``),
    the field is ``--KEY`` with dashes for underscores unless ``flag`` names another
    (``"--verify-shape"`` for ``verify_shapes``, repeatable as a tuple field is),
    shown with ``metavar``; ``command_line=False`` keeps it to programs."""
    metadata = {
        "help": help,
        "least": least,
        "choices": choices,
        "parse": parse,
        "flag": flag,
        "metavar": metavar,
        "command_line": command_line,
    }
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Settings:
    """The base of a ``KEY=VALUE`` family; subclasses are frozen dataclasses."""

    #: who the options belong to, first in every error line: "backend 'cpu'"
    family: ClassVar[str] = "settings"
    #: the line for an unknown key ({family}, {key}, {known} filled in)
    unknown_line: ClassVar[str] = "{family}: unknown option {key!r}; known: {known}"
    #: what names a key in a bad value's line ({family}, {key})
    value_line: ClassVar[str] = "{family}: option {key}"
    #: list the accepted keys sorted rather than in the order they are declared
    sort_known: ClassVar[bool] = False

    @classmethod
    def keys(cls) -> list[str]:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        return sorted(names) if cls.sort_known else names

    @classmethod
    def parse(cls: type[SettingsT], options: Mapping[str, Any] | Iterable[str] | None) -> SettingsT:
        """The family from ``options`` (a mapping or ``KEY=VALUE`` strings), every key
        known and every value checked; keys left out keep their defaults."""
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            options = parse_pairs(list(options), f"{cls.family} option")
        known = cls.keys()
        # keys from a config file need not be text (YAML reads `1:` as an int)
        unknown = sorted(set(options) - set(known), key=repr)
        if unknown:
            line = cls.unknown_line.format(
                family=cls.family, key=unknown[0], known=", ".join(known)
            )
            raise StgcnError(line)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        values = {}
        for key, value in options.items():
            what = cls.value_line.format(family=cls.family, key=key)
            values[key] = _value(fields[key], hints[key], value, what)
        return cls(**values)

    @classmethod
    def help(cls) -> list[tuple[str, str, str]]:
        """``(key, default, help)`` for each key, in declared order, for documentation."""
        rows = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            factory = f.default_factory
            default = factory() if callable(factory) else f.default
            rows.append((f.name, repr(default), str(f.metadata.get("help", ""))))
        return rows


def _value(field: dataclasses.Field[Any], hint: Any, value: Any, what: str) -> Any:
    """One value parsed by its field's parser or type, then checked."""
    meta = field.metadata
    optional = typing.get_origin(hint) in (types.UnionType, typing.Union)
    if value is None and optional:  # a config file's (or a caller's) "not set"
        return None
    parser = meta.get("parse")
    if parser is None:
        kinds = [k for k in typing.get_args(hint) if k is not type(None)] if optional else [hint]
        parser = PARSERS.get(kinds[0], parse_str) if len(kinds) == 1 else parse_str
    parsed = parser(value, what)
    choices = meta.get("choices")
    if choices is not None and parsed not in choices:
        raise StgcnError(f"{what} must be one of {', '.join(choices)}, not {parsed!r}")
    least = meta.get("least")
    if least is not None and parsed is not None and parsed < least:
        raise StgcnError(f"{what} must be at least {least}, got {parsed}")
    return parsed
