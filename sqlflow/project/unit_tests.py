"""dbt unit tests: the `unit_tests:` entries of property YAML -> UnitTestSpec.

An entry names a `model`, gives rows for its inputs (`given: [{input: ref('x') | source('a', 'b') | this,
rows: [...], format: dict | csv | sql}]`, or `fixture: name` for `<test path>/fixtures/name.csv|.sql`) and
the rows it must return (`expect`). `overrides:` may set `macros: {is_incremental: true}`, `vars:` and
`env_vars:`. Shapes are checked here with the YAML line; whether the model and inputs exist is the
compiler's check. Imports only `sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlflow.errors import ConfigError
from sqlflow.project.config import normalise_config
from sqlflow.project.types import UnitTestSpec
from sqlflow.project.yamlfile import (
    check_keys,
    expect_list,
    expect_map,
    expect_str,
    item_location,
    key_location,
    kind,
    plain,
)

ENTRY_KEYS = ("name", "model", "given", "expect", "overrides", "description", "config", "versions")
GIVEN_KEYS = ("input", "rows", "format", "fixture")
EXPECT_KEYS = ("rows", "format", "fixture")
FORMATS = ("dict", "csv", "sql")
_INPUT = re.compile(r"""^\s*(ref|source)\s*\(.*\)\s*$|^\s*this\s*$""", re.S)


def parse_unit_tests(
    shown: str, entries: list[Any], *, root: Path | None, test_paths: Iterable[str]
) -> list[UnitTestSpec]:
    """The unit tests of one property file's `unit_tests:` list."""
    return [_entry(shown, entries, index, root, tuple(test_paths)) for index in range(len(entries))]


def _entry(
    shown: str, entries: list[Any], index: int, root: Path | None, test_paths: tuple[str, ...]
) -> UnitTestSpec:
    entry = entries[index]
    location = item_location(shown, entries, index)
    if not isinstance(entry, dict) or not entry.get("name"):
        raise ConfigError("a unit test needs a 'name'", location=location, hint="write '- name: my_test'")
    name = expect_str(shown, entry, "name", "unit_tests")
    context = f"unit test '{name}'"
    check_keys(shown, entry, ENTRY_KEYS, context)
    model = expect_str(shown, entry, "model", context)
    if not model:
        raise ConfigError(f"{context} needs a 'model'", location=key_location(shown, entry, "name"))
    given = []
    items = expect_list(shown, entry, "given", context)
    for position, item in enumerate(items):
        where = item_location(shown, items, position)
        if not isinstance(item, dict):
            raise ConfigError(f"an input of {context} must be a mapping, not {kind(item)}", location=where)
        check_keys(shown, item, GIVEN_KEYS, f"an input of {context}")
        written = expect_str(shown, item, "input", context)
        if not written or not _INPUT.match(written):
            raise ConfigError(
                f"an input of {context} must name ref('model'), source('source', 'table') or this",
                location=where,
                hint="write 'input: ref(\"stg_orders\")'",
            )
        data = _rows(shown, item, f"input {written} of {context}", root, test_paths)
        given.append({"input": written.strip(), **data, "line": where.line})
    if "expect" not in entry:
        raise ConfigError(
            f"{context} needs 'expect: {{rows: [...]}}'", location=key_location(shown, entry, "name")
        )
    expect = _rows(
        shown, expect_map(shown, entry, "expect", context), f"expect of {context}", root, test_paths
    )
    overrides = expect_map(shown, entry, "overrides", context)
    check_keys(shown, overrides, ("macros", "vars", "env_vars"), f"overrides of {context}")
    config = expect_map(shown, entry, "config", context)
    return UnitTestSpec(
        name=name,
        model=model,
        path=shown,
        line=key_location(shown, entry, "name").line,
        given=tuple(given),
        expect=expect,
        overrides=plain(overrides),
        description=expect_str(shown, entry, "description", context, default=""),
        config=normalise_config(
            config, where=key_location(shown, entry, "config"), context=f"config of {context}"
        ),
    )


def _rows(
    shown: str, item: Any, context: str, root: Path | None, test_paths: tuple[str, ...]
) -> dict[str, Any]:
    """{"rows": ..., "format": ...} of a given input or of expect: a list of mappings (dict), or the text of
    csv rows or of a SQL select; `fixture: name` reads `<test path>/fixtures/name.csv` (or .sql)."""
    check_keys(shown, item, GIVEN_KEYS if "input" in item else EXPECT_KEYS, context)
    fmt = expect_str(shown, item, "format", context, default="dict")
    if fmt not in FORMATS:
        raise ConfigError(
            f"'format' of {context} must be one of {', '.join(FORMATS)}, not '{fmt}'",
            location=key_location(shown, item, "format"),
        )
    fixture = expect_str(shown, item, "fixture", context)
    if fixture is not None:
        fmt = "csv" if fmt == "dict" else fmt
        rows: Any = _fixture(shown, item, fixture, fmt, context, root, test_paths)
    else:
        rows = plain(item.get("rows"))
    if fmt == "dict":
        rows = [] if rows is None else rows
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ConfigError(
                f"the rows of {context} must be a list of mappings (format dict)",
                location=key_location(shown, item, "rows"),
                hint="write 'rows: [{id: 1, status: placed}]', or set format: csv / sql",
            )
        rows = [{str(k): v for k, v in r.items()} for r in rows]
    elif not isinstance(rows, str):
        raise ConfigError(
            f"the rows of {context} must be text (format {fmt})",
            location=key_location(shown, item, "rows"),
            hint="write 'rows: |' followed by the lines",
        )
    return {"rows": rows, "format": fmt}


def _fixture(
    shown: str, item: Any, name: str, fmt: str, context: str, root: Path | None, test_paths: tuple[str, ...]
) -> str:
    suffix = ".sql" if fmt == "sql" else ".csv"
    for folder in test_paths:
        path = (root or Path()) / folder / "fixtures" / f"{name}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8-sig")
    raise ConfigError(
        f"fixture '{name}' of {context} not found",
        location=key_location(shown, item, "fixture"),
        hint=f"put it in {(test_paths or ('tests',))[0]}/fixtures/{name}{suffix}",
    )
