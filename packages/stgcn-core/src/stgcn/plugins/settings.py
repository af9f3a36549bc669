"""One parser for every family of settings: ``stgcn run``'s (``RunConfig``: config
files, the command line, a dataset's recipe), ``--backend-option``, ``--data-option``,
export options, ``--estimator-option``.

A family is a frozen dataclass that subclasses :class:`Settings`: its fields are the
keys, their types and defaults the values, and :func:`option` adds help and checks (a
least value or an interval, a set of choices, a parser of one's own). ``Family.parse(options)``
takes ``KEY=VALUE`` strings or a mapping (strings from the command line; numbers and
booleans from a config file are taken as they are) and refuses an unknown key or a bad
value in one :class:`StgcnError` line that names the family (or the source the values
came from) and, for an unknown key, lists the accepted ones; every float refuses NaN, the
infinities and numbers beyond float32's range. ``family.updated(options, source)``
lays values over a family's own, so that layers of settings (defaults, a recipe, a
file, the command line) go through the same checks::

    @dataclass(frozen=True)
    class ClipOptions(Settings):
        family: ClassVar[str] = "clips dataset"
        frames: int = option(64, "frames per clip", least=1)
        mirror: bool = option(False, "flip clips left to right")
        keep: float = option(0.5, "share of clips kept", within="(0, 1]")

    ClipOptions.parse({"frames": "32"})  # ClipOptions(frames=32, mirror=False, keep=0.5)

A field whose help is a :class:`Flag` is also a command-line option of the command
that takes the family (``stgcn run``'s are made from ``RunConfig``'s fields).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from stgcn.errors import StgcnError

TRUE = ("1", "true", "yes", "on")
#: the largest float32: every float setting ends up in float32 tensors or arithmetic
FLOAT32_MAX = 3.4028234663852886e38
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
    """A whole number, from a string, an int or a whole float (a config file's ``2.0``);
    a bool is not a number here."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise StgcnError(f"{what} expects a whole number, got {shown(value)}")
    try:
        return int(value)
    except ValueError:  # also a string of more digits than Python converts
        raise StgcnError(f"{what} expects a whole number, got {shown(value)}") from None


def parse_float(value: object, what: str) -> float:
    """A finite number, from a string, an int or a float. NaN and the infinities are
    refused: NaN passes every ``least`` check (it compares false) and would make a
    tolerance accept anything, and no option means "without limit" by infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise StgcnError(f"{what} expects a number, got {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        raise StgcnError(f"{what} expects a number, got {shown(value)}") from None
    if not math.isfinite(number):
        raise StgcnError(f"{what} expects a finite number, got {shown(value)}")
    if abs(number) > FLOAT32_MAX:  # a float32 tensor (a learning rate's step) overflows
        raise StgcnError(f"{what} expects a number within +-3.4e38 (float32), got {shown(value)}")
    return number


def shown(value: object) -> str:
    """``repr(value)`` for an error line, cut short: a config file's number can have
    thousands of digits."""
    text = repr(value) if not isinstance(value, int) else str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def parse_str(value: object, what: str) -> str:
    return str(value)


def parse_path(value: object, what: str) -> str:
    """A file or folder name: text without a NUL byte, which no file system takes (a
    config file can hold one, as ``"a\\0b"``)."""
    text = str(value)
    if "\x00" in text:
        raise StgcnError(f"{what}: a path cannot hold a NUL byte, got {shown(text)}")
    return text


def parse_table(value: object, what: str) -> dict[Any, Any]:
    """A table of ``KEY = VALUE`` (a config file's ``[data_options]``), as a dict."""
    if not isinstance(value, Mapping):
        raise StgcnError(f"{what} expects a table of KEY = VALUE, got {shown(value)}")
    return dict(value)


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


@dataclass(frozen=True)
class Flag:
    """A field's help line that also makes the field an option of the command that takes
    its family (``stgcn run`` for ``RunConfig``): the option's name (``--KEY`` with
    dashes unless given), its metavar (click's, from the type, unless given) and whether
    it repeats (each use adds one value to a list)."""

    help: str = ""
    name: str | None = None
    metavar: str | None = None
    repeat: bool = False
    #: ``--help`` shows the field's default (``[default: 17]``); a bool field whose
    #: default is true is always an on/off pair (``--verify/--no-verify``)
    show_default: bool = False

    def option_name(self, key: str) -> str:
        return self.name or "--" + key.replace("_", "-")


_INTERVAL = re.compile(r"^([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])$")


@dataclass(frozen=True)
class Interval:
    """The numbers a field accepts: from ``low`` to ``high``, each end in or out."""

    low: float
    high: float
    low_in: bool = True
    high_in: bool = False

    @classmethod
    def read(cls, text: str) -> Interval:
        """``[0, 1)``, ``(0, inf)``, ``[1, 10]``: written as in mathematics. A typo is
        the family's author's, so it fails when the family is declared."""
        match = _INTERVAL.match(text.strip())
        if not match:
            raise ValueError(f"not an interval: {text!r} (write e.g. [0, 1) or (0, inf))")
        opening, low, high, closing = match.groups()
        return cls(_number(low), _number(high), opening == "[", closing == "]")

    def holds(self, number: float) -> bool:
        above = number >= self.low if self.low_in else number > self.low
        below = number <= self.high if self.high_in else number < self.high
        return above and below

    def __str__(self) -> str:
        """As written in mathematics: ``[0, 1)``, ``(0, inf)``."""
        opening, closing = "[" if self.low_in else "(", "]" if self.high_in else ")"
        return f"{opening}{self.low}, {self.high}{closing}"

    def rule(self) -> str:
        """What a refusal says the value must be: "at least 1", "above 0", "in [0, 1)"."""
        if math.isinf(self.high):
            return f"be at least {self.low}" if self.low_in else f"be above {self.low}"
        return f"lie in {self}"


def _number(text: str) -> float:
    """A bound as written: ``1`` stays an int (so that a refusal says "at least 1")."""
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def option(
    default: Any = None,
    help: str | Flag = "",
    *,
    least: float | None = None,
    within: str | None = None,
    choices: Sequence[str] | None = None,
    parse: Parser | None = None,
) -> Any:
    """A field of a :class:`Settings` family: its default, its help line (a
    :class:`Flag` where the field is also a command-line option) and its checks:
    ``least`` (the smallest number accepted) or ``within`` (an interval such as
    ``"[0, 1)"``), ``choices``, and ``parse(value, what)``, which replaces the parser the
    field's type would choose."""
    if least is not None and within is not None:
        raise ValueError("give least or within, not both")
    bounds = Interval(least, math.inf) if least is not None else None
    if within is not None:
        bounds = Interval.read(within)
    flag = help if isinstance(help, Flag) else None
    metadata = {
        "help": flag.help if flag else help,
        "flag": flag,
        "bounds": bounds,
        "choices": choices,
        "parse": parse,
    }
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Settings:
    """The base of a family of settings; subclasses are frozen dataclasses."""

    #: who the options belong to, first in every error line: "backend 'cpu'"; where the
    #: values came from (a config file, "options") takes its place when given
    family: ClassVar[str] = "settings"
    #: the line for an unknown key ({family}, {key}, {known} filled in)
    unknown_line: ClassVar[str] = "{family}: unknown option {key!r}; known: {known}"
    #: what names a key in a bad value's line ({family}, {key})
    value_line: ClassVar[str] = "{family}: option {key}"
    #: list the accepted keys sorted rather than in the order they are declared
    sort_known: ClassVar[bool] = False
    #: keys may be written with dashes, as on the command line (``batch-size``)
    dashed_keys: ClassVar[bool] = False

    @classmethod
    def keys(cls) -> list[str]:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        return sorted(names) if cls.sort_known else names

    @classmethod
    def parse(
        cls: type[SettingsT],
        options: Mapping[Any, Any] | Iterable[str] | None,
        source: str | None = None,
    ) -> SettingsT:
        """The family from ``options`` (a mapping or ``KEY=VALUE`` strings), every key
        known and every value checked; keys left out keep their defaults."""
        return cls().updated(options, source)

    def updated(
        self: SettingsT,
        options: Mapping[Any, Any] | Iterable[str] | None,
        source: str | None = None,
    ) -> SettingsT:
        """A copy with ``options`` laid over this one's values, each key known and each
        value checked; a table (a dict field) is laid over this one's key by key, so that
        a preset's data options and the command line's add up. ``source`` names where the
        options came from in an error line (default: the family)."""
        family = source or self.family
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            options = parse_pairs(list(options), f"{family} option")
        known = self.keys()
        # keys from a config file need not be text (YAML reads `1:` as an int)
        unknown = sorted((raw for raw in options if self._key(raw) not in known), key=repr)
        if unknown:
            line = self.unknown_line.format(family=family, key=unknown[0], known=", ".join(known))
            raise StgcnError(line)
        fields = {f.name: f for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(type(self))
        values = {}
        for raw, value in options.items():
            key = self._key(raw)
            what = self.value_line.format(family=family, key=key)
            parsed = _value(fields[key], hints[key], value, what)
            current = getattr(self, key)
            if isinstance(parsed, dict) and isinstance(current, dict):
                parsed = {**current, **parsed}
            values[key] = parsed
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    @classmethod
    def layered(
        cls: type[SettingsT], layers: Iterable[tuple[str, Mapping[Any, Any] | None]]
    ) -> SettingsT:
        """The family from ``(source, options)`` layers over its defaults, later ones
        winning: one call says in which order a command's sources of settings count."""
        made = cls()
        for source, options in layers:
            made = made.updated(options, source)
        return made

    @classmethod
    def _key(cls, raw: Any) -> Any:
        """The field a key names: ``batch-size`` is ``batch_size`` where keys are dashed."""
        return raw.replace("-", "_") if cls.dashed_keys and isinstance(raw, str) else raw

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
        parser = PARSERS.get(value_type(hint), parse_str)
    parsed = parser(value, what)
    choices = meta.get("choices")
    if choices is not None and parsed not in choices:
        raise StgcnError(f"{what} must be one of {', '.join(choices)}, not {parsed!r}")
    bounds: Interval | None = meta.get("bounds")
    if bounds is not None and parsed is not None and not bounds.holds(parsed):
        raise StgcnError(f"{what} must {bounds.rule()}, got {shown(parsed)}")
    return parsed


def value_type(hint: Any) -> Any:
    """The type a field's values have, ``None`` left out: ``int`` for ``int | None``;
    the hint itself for anything else (``list[int]``, a union of several)."""
    if typing.get_origin(hint) not in (types.UnionType, typing.Union):
        return hint
    kinds = [k for k in typing.get_args(hint) if k is not type(None)]
    return kinds[0] if len(kinds) == 1 else hint
