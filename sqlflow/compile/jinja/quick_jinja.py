"""A fast path for the templates most models are: text with `{{ ref('x') }}`, `{{ source('a', 'b') }}`,
`{{ config(materialized='table') }}`, `{{ this }}`, macro calls with literal arguments, comments, and
`{% if is_incremental() %} ... {% else %} ... {% endif %}`.

Compiling such a template with Jinja costs about a millisecond (most of a cold compile); reading it here
costs microseconds. The output is the same as Jinja's (newlines normalised, one trailing newline dropped);
anything else (filters, attributes, `{%- -%}`, set, for, unknown names) returns None from `QuickTemplate.read`
and the caller uses Jinja. Pure Python; no jinja2 import.

>>> t = QuickTemplate.read("from {{ ref('a') }}\\n{# c #}{% if is_incremental() %}where x{% endif %}\\n")
>>> t.render({"ref": lambda name: f"<{name}>", "is_incremental": lambda: False}, lambda line: None)
'from <a>\\n'
>>> QuickTemplate.read("{{ ref('a') | upper }}") is None
True
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

_TAG = re.compile(r"{{(.*?)}}|{%(.*?)%}|{#.*?#}", re.S)
_NEWLINES = re.compile(r"\r\n|\r|\n")
_IF = re.compile(r"^if\s+(not\s+)?is_incremental\(\s*\)$")


class NotQuick(Exception):
    """The template needs real Jinja after all (an unexpected error while rendering)."""


class QuickTemplate:
    """A template read into steps: ("text", s), ("expr", name, args, kwargs, line), ("if", negate),
    ("else",), ("endif",)."""

    __slots__ = ("_steps",)

    def __init__(self, steps: list[tuple[Any, ...]]) -> None:
        self._steps = steps

    @classmethod
    def read(cls, text: str) -> QuickTemplate | None:
        lines = _NEWLINES.split(text)
        if lines[-1] == "":
            del lines[-1]
        text = "\n".join(lines)
        steps: list[tuple[Any, ...]] = []
        depth = 0
        pos = 0
        line = 1
        for match in _TAG.finditer(text):
            chunk = text[pos : match.start()]
            line += chunk.count("\n")
            if chunk:
                steps.append(("text", chunk))
            pos = match.end()
            tag = match.group(0)
            if tag[2] in "-+" or tag[-3] in "-+":
                return None
            if match.group(1) is not None:
                step = _expression(match.group(1), line)
                if step is None:
                    return None
                steps.append(step)
            elif match.group(2) is not None:
                statement = " ".join(match.group(2).split())
                found = _IF.match(statement)
                if found:
                    steps.append(("if", bool(found.group(1))))
                    depth += 1
                elif statement in ("else", "endif") and depth:
                    steps.append((statement,))
                    depth -= statement == "endif"
                else:
                    return None
            line += tag.count("\n")
        if depth:
            return None
        if pos < len(text):
            steps.append(("text", text[pos:]))
        return cls(steps)

    def render(self, names: Mapping[str, Any], at_line: Callable[[int], None]) -> str:
        """The text; `names` are the template globals, `at_line(n)` is told the line of each call."""
        out: list[str] = []
        frames: list[list[bool]] = []  # per open if: [enclosing branch active, condition, in else]
        active = True
        for step in self._steps:
            kind = step[0]
            if kind == "if":
                condition = active and bool(_call(names, "is_incremental", (), {})) != step[1]
                frames.append([active, condition, False])
            elif kind == "else":
                frames[-1][2] = True
            elif kind == "endif":
                frames.pop()
            elif active and kind == "text":
                out.append(step[1])
            elif active:
                _, name, args, kwargs, line = step
                at_line(line)
                if args is None:
                    if name not in names:
                        raise NotQuick(name)
                    value = names[name]
                else:
                    value = _call(names, name, args, kwargs)
                out.append(str(value))
            if kind in ("if", "else", "endif"):
                active = not frames or (frames[-1][0] and frames[-1][1] != frames[-1][2])
        return "".join(out)


def _call(names: Mapping[str, Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    function = names.get(name)
    if not callable(function):
        raise NotQuick(name)
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        if type(exc).__module__.startswith("sqlflow."):
            raise
        raise NotQuick(name) from exc


def _expression(source: str, line: int) -> tuple[Any, ...] | None:
    """("expr", name, None, None, line) for a bare name, ("expr", name, args, kwargs, line) for a call."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Name):
        return ("expr", node.id, None, None, line)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    try:
        args = tuple(_literal(a) for a in node.args)
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
    except ValueError:
        return None
    if len(kwargs) != len(node.keywords):
        return None
    return ("expr", node.func.id, args, kwargs, line)


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Starred | ast.Set) or any(isinstance(n, ast.Name) for n in ast.walk(node)):
        raise ValueError("not a literal")
    return ast.literal_eval(node)
