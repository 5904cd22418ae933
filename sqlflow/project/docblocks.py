"""dbt's Markdown docs blocks (`{% docs name %} ... {% enddocs %}`) and packages.yml / dependencies.yml.

Docs blocks are read with a regular expression (no Jinja): each becomes a DocBlock that `doc('name')` in a
description names; two blocks of one name are an error naming both places. `read_packages` lists what a
project's packages.yml asks for: sqlflow installs no packages, and says so. Imports only `sqlflow.errors`,
`sqlflow.manifest` and this package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.types import DocBlock, SourceFile
from sqlflow.project.yamlfile import expect_list, load_yaml

_BLOCK = re.compile(
    r"{%-?\s*docs\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*-?%}(?P<body>.*?){%-?\s*enddocs\s*-?%}", re.S
)
PACKAGE_FILES = ("packages.yml", "dependencies.yml")


def read_doc_blocks(files: Iterable[SourceFile]) -> dict[str, DocBlock]:
    """The docs blocks of the Markdown `files`, by name.

    >>> f = SourceFile(path="models/docs.md", abs_path=None, checksum="",
    ...                text="# x\\n{% docs status %}\\nOne of *placed*, *shipped*.\\n{% enddocs %}\\n")
    >>> read_doc_blocks([f])["status"].text, read_doc_blocks([f])["status"].line
    ('One of *placed*, *shipped*.', 2)
    """
    blocks: dict[str, DocBlock] = {}
    for file in files:
        for match in _BLOCK.finditer(file.text):
            line = file.text.count("\n", 0, match.start()) + 1
            name = match.group("name")
            if name in blocks:
                first = blocks[name]
                raise ConfigError(
                    f"docs block '{name}' is defined twice",
                    location=SourceLocation(file.path, line),
                    hint=f"the other is in {first.path}:{first.line}; rename one of them",
                )
            blocks[name] = DocBlock(name=name, text=match.group("body").strip(), path=file.path, line=line)
    return blocks


def read_packages(root: Path) -> tuple[tuple[str, SourceLocation], ...]:
    """The packages packages.yml (or dependencies.yml) lists, with where each is written."""
    out: list[tuple[str, SourceLocation]] = []
    for name in PACKAGE_FILES:
        path = root / name
        if not path.is_file():
            continue
        doc = load_yaml(path, name)
        if not isinstance(doc, dict):
            continue
        items = expect_list(name, doc, "packages", "")
        for index, item in enumerate(items):
            line = items.item_lines[index] if index < len(items.item_lines) else None
            label = str(item)
            if isinstance(item, dict):
                label = str(
                    item.get("package") or item.get("git") or item.get("local") or item.get("name") or item
                )
            out.append((label, SourceLocation(name, line)))
    return tuple(out)
