"""The core's functions take few parameters: at most six, constructors and click
commands aside (those map one option or field to one parameter). A function that needs
more takes a request object (``EvalRequest``, ``BenchRequest``, ``ExtractRequest``), which
can grow without changing a signature."""

from __future__ import annotations

import ast
from pathlib import Path

import stgcn

#: the most parameters (positional and keyword-only, self and cls not counted)
LIMIT = 6
CORE = Path(stgcn.__file__).parent


def _is_click_command(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated ``@click.command(...)``, ``@click.group(...)`` or ``@group.command(...)``."""
    for decorator in function.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and call.attr in ("command", "group"):
            return True
    return False


def wide_functions(source: str, where: str) -> list[str]:
    """``where:line name (count)`` for each function of ``source`` over :data:`LIMIT`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name == "__init__" or _is_click_command(node):
            continue
        arguments = node.args
        names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
        count = len([name for name in names if name not in ("self", "cls")])
        if count > LIMIT:
            found.append(f"{where}:{node.lineno} {node.name} ({count})")
    return found


def test_the_check_finds_a_wide_function_and_passes_the_exceptions() -> None:
    source = """
import click

def wide(a, b, c, d, e, f, g): ...

class Thing:
    def __init__(self, a, b, c, d, e, f, g): ...
    def narrow(self, a, b, c, d, e, f): ...
    @classmethod
    def made(cls, a, b, c, d, e, f, *, g): ...

@click.command()
def command(a, b, c, d, e, f, g): ...
"""
    assert wide_functions(source, "example.py") == [
        "example.py:4 wide (7)",
        "example.py:10 made (7)",
    ]


def test_no_core_function_takes_more_than_six_parameters() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 50  # the whole core is walked, not an empty folder
    found = [
        line
        for path in files
        for line in wide_functions(path.read_text(encoding="utf-8"), str(path.relative_to(CORE)))
    ]
    assert not found, f"over {LIMIT} parameters (take a request object): " + ", ".join(found)
