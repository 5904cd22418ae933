"""Descriptions of nodes, sources and columns with each `{{ doc('name') }}` replaced by its docs block
(`{% docs name %}` in a .md file). Pure functions; no jinja2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.manifest import ColumnInfo
from sqlflow.project.types import DocBlock

_DOC = re.compile(r"""{{-?\s*doc\(\s*(['"])(?P<name>[^'"]+)\1\s*\)\s*-?}}""")


def render_description(text: str, blocks: Mapping[str, DocBlock], where: SourceLocation) -> str:
    """`text` with each `{{ doc('name') }}` replaced by the docs block's text.

    >>> blocks = {"status": DocBlock(name="status", text="Placed or shipped.", path="m.md", line=1)}
    >>> render_description("Status. {{ doc('status') }}", blocks, SourceLocation("s.yml", 3))
    'Status. Placed or shipped.'
    """
    if "doc(" not in text:
        return text

    def block(match: re.Match[str]) -> str:
        name = match.group("name")
        found = blocks.get(name)
        if found is None:
            raise ConfigError(
                f"doc('{name}') names no docs block",
                location=where,
                hint=did_you_mean(name, blocks)
                or "write {% docs " + name + " %}...{% enddocs %} in a .md file",
            )
        return found.text

    return _DOC.sub(block, text)


def described_columns(
    columns: Iterable[ColumnInfo], blocks: Mapping[str, DocBlock], where: SourceLocation
) -> tuple[ColumnInfo, ...]:
    return tuple(
        replace(c, description=render_description(c.description, blocks, where))
        if "doc(" in c.description
        else c
        for c in columns
    )
