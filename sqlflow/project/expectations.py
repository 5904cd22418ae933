"""Great Expectations checks in property YAML -> TestSpec(test_type="expectation"), one per expectation.

    expectations:                                    # on a model, seed, source table or column
      - expect_column_values_to_not_be_null: {}      # the short form: name -> kwargs (and config:)
      - expectation: expect_column_values_to_be_between
        kwargs: {min_value: 0, max_value: 100}
        config: {severity: warn}
    expectation_suite: gx/orders.json                # a GX suite file: {"expectations": [{"type", "kwargs"}]}

At the column level the `column` kwarg is filled in. Names are only checked to start with `expect_`;
great_expectations is never imported here. Imports only `sqlflow.errors` and this package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, relative_path
from sqlflow.project.config import normalise_config
from sqlflow.project.types import TestSpec
from sqlflow.project.yamlfile import (
    YamlMap,
    check_keys,
    expect_list,
    expect_map,
    expect_str,
    item_location,
    key_location,
    kind,
    plain,
)

LONG_FORM_KEYS = ("expectation", "kwargs", "config", "name", "description", "meta")
SUITE_KEYS = ("path", "config")
PREFIX = "expect_"
EXAMPLE = "like '- expect_column_values_to_not_be_null: {}' or '- expectation: <name>' with 'kwargs:'"


def parse_expectations(
    shown: str, entry: Mapping[str, Any], owner: str, column: str | None = None
) -> list[TestSpec]:
    """The `expectations:` of a model, seed, source table or column (`column` given)."""
    items = expect_list(shown, entry, "expectations", owner)
    return [_expectation(shown, items, i, owner, column) for i in range(len(items))]


def _expectation(shown: str, items: list[Any], index: int, owner: str, column: str | None) -> TestSpec:
    item = items[index]
    location = item_location(shown, items, index)
    config: dict[str, Any] = {}
    name_given = description = None
    if isinstance(item, str):
        name, kwargs = item, {}
    elif isinstance(item, dict) and "expectation" in item:
        name = expect_str(shown, item, "expectation", owner, default="")
        context = f"expectation '{name}' of {owner}"
        check_keys(shown, item, LONG_FORM_KEYS, context)
        kwargs = plain(expect_map(shown, item, "kwargs", context))
        config = _config(shown, item, context, location)
        name_given = expect_str(shown, item, "name", context)
        description = expect_str(shown, item, "description", context)
    elif isinstance(item, dict) and len(item) == 1:
        name, body = next(iter(item.items()))
        body = YamlMap() if body is None else body
        if not isinstance(body, dict):
            raise ConfigError(
                f"the kwargs of expectation '{name}' under {owner} must be a mapping, not {kind(body)}",
                location=location,
                hint=EXAMPLE,
            )
        config = _config(shown, body, f"expectation '{name}' of {owner}", location)
        kwargs = plain({k: v for k, v in body.items() if k != "config"})
    else:
        raise ConfigError(
            f"an expectation under {owner} must be a name or a mapping naming one expectation",
            location=location,
            hint=EXAMPLE,
        )
    _check_name(name, owner, location)
    return _spec(name, kwargs, config, column, shown, location.line, name_given, description or "")


def _config(shown: str, body: Mapping[str, Any], context: str, location: SourceLocation) -> dict[str, Any]:
    block = expect_map(shown, body, "config", context)
    return normalise_config(block, where=key_location(shown, body, "config"), context=f"config of {context}")


def _check_name(name: Any, owner: str, location: SourceLocation) -> None:
    if not isinstance(name, str) or not name.startswith(PREFIX) or len(name) == len(PREFIX):
        raise ConfigError(
            f"unknown expectation {name!r} under {owner}",
            location=location,
            hint="Great Expectations names start with expect_, like expect_column_values_to_not_be_null; "
            "sqlflow's own tests go under data_tests:",
        )


def _spec(
    name: str,
    kwargs: Mapping[str, Any],
    config: Mapping[str, Any],
    column: str | None,
    shown: str,
    line: int | None,
    name_given: str | None = None,
    description: str = "",
) -> TestSpec:
    kwargs = dict(kwargs)
    if column is not None:
        kwargs.setdefault("column", column)
    column_name = kwargs.get("column")
    return TestSpec(
        test_name=name,
        kwargs=kwargs,
        config=config,
        column_name=column_name if isinstance(column_name, str) else None,
        path=shown,
        line=line,
        name=name_given,
        description=description,
        test_type="expectation",
    )


def parse_suite(shown: str, entry: Mapping[str, Any], owner: str, root: Path | None) -> list[TestSpec]:
    """The expectations of the suite file named by `expectation_suite:` (a path, or {path, config})."""
    value = entry.get("expectation_suite")
    if value is None:
        return []
    location = key_location(shown, entry, "expectation_suite")
    config: dict[str, Any] = {}
    if isinstance(value, dict):
        context = f"expectation_suite of {owner}"
        check_keys(shown, value, SUITE_KEYS, context)
        config = _config(shown, value, context, location)
        value = value.get("path")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"'expectation_suite' of {owner} must be the path of a suite file, not {kind(value)}",
            location=location,
            hint="like expectation_suite: gx/expectations/orders.json",
        )
    path = Path(value) if Path(value).is_absolute() or root is None else root / value
    suite = relative_path(path, root) if root is not None else value
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"expectation suite '{value}' of {owner} not found",
            location=location,
            hint="the path is relative to the project root",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read expectation suite '{value}': {exc}", location=location) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"expectation suite is not valid JSON: {exc.msg}",
            location=SourceLocation(suite, exc.lineno),
            hint=f"named by {location}",
        ) from exc
    expectations = doc.get("expectations") if isinstance(doc, dict) else None
    if not isinstance(expectations, list):
        raise ConfigError(
            "expectation suite has no 'expectations' list",
            location=SourceLocation(suite),
            hint='a GX suite is {"expectations": [{"type": "expect_...", "kwargs": {...}}]}',
        )
    specs = []
    for number, item in enumerate(expectations, 1):
        where = SourceLocation(suite)
        name = None
        if isinstance(item, dict):
            name = item.get("type", item.get("expectation_type"))
        if not isinstance(name, str):
            raise ConfigError(
                f"expectation {number} of the suite has no 'type'",
                location=where,
                hint='each is {"type": "expect_...", "kwargs": {...}} ("expectation_type" in GX 0.x)',
            )
        _check_name(name, f"suite {suite}", where)
        kwargs = item.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ConfigError(
                f"the kwargs of expectation {number} ('{name}') of the suite must be an object",
                location=where,
            )
        specs.append(_spec(name, kwargs, config, None, shown, location.line))
    return specs
