"""Reading the string values of ``--data-option`` and ``--backend-option`` pairs."""

from __future__ import annotations

from stgcn.errors import StgcnError

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


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


def parse_pairs(pairs: tuple[str, ...] | list[str], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` strings into a dict, refusing anything else in one line."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StgcnError(f"{flag} expects KEY=VALUE, got {pair!r}")
        options[key.strip()] = value.strip()
    return options
