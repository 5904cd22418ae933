"""The `sources:` entries of property YAML -> SourceTable, one per table.

A table inherits its source's database, schema (default: the source name), loaded_at_field, freshness,
tags, meta and `sensor:` settings, and may override them; a table's `sensor:` becomes the default `sensor`
config of each of its tests (and expectations), so they re-check until the data is there. Imports only
`sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlflow.errors import ConfigError
from sqlflow.project.columns import parse_columns, parse_tests
from sqlflow.project.config import merge_config
from sqlflow.project.expectations import parse_expectations, parse_suite
from sqlflow.project.poke import normalise_sensor
from sqlflow.project.types import SourceTable, TestSpec
from sqlflow.project.yamlfile import (
    check_keys,
    expect_list,
    expect_map,
    expect_str,
    expect_str_list,
    item_location,
    key_location,
    plain,
    wrong_type,
)

SOURCE_KEYS = (
    "name", "description", "database", "schema", "loader", "loaded_at_field", "freshness", "tags", "meta",
    "config", "tables", "quoting", "overrides", "loaded_at_query", "sensor",
)  # fmt: skip
TABLE_KEYS = (
    "name", "identifier", "description", "columns", "tests", "data_tests", "loaded_at_field", "freshness",
    "tags", "meta", "config", "quoting", "external", "loaded_at_query", "sensor", "expectations",
    "expectation_suite",
)  # fmt: skip
SOURCE_CONFIG_KEYS = ("enabled", "tags", "meta", "freshness", "loaded_at_field", "event_time", "sensor")
FRESHNESS_KEYS = ("warn_after", "error_after", "filter")
PERIODS = ("minute", "hour", "day")


def parse_source(
    shown: str, entries: list[Any], index: int, root: Path | None = None
) -> tuple[str, list[SourceTable]]:
    """The name of the source `entries[index]` and its tables (disabled ones left out)."""
    entry = entries[index]
    if not isinstance(entry, dict) or entry.get("name") is None:
        raise ConfigError("a source needs a 'name'", location=item_location(shown, entries, index))
    source = expect_str(shown, entry, "name", "sources")
    context = f"source '{source}'"
    check_keys(shown, entry, SOURCE_KEYS, context)
    inherited = _settings(
        shown, entry, context, {"tags": (), "meta": {}, "freshness": {}, "sensor": {}, "config": {}}
    )
    tables: list[SourceTable] = []
    lines: dict[str, int | None] = {}
    items = expect_list(shown, entry, "tables", context)
    for i, table in enumerate(items):
        location = item_location(shown, items, i)
        if not isinstance(table, dict) or table.get("name") is None:
            raise ConfigError(f"a table of {context} needs a 'name'", location=location)
        name = expect_str(shown, table, "name", context)
        table_context = f"source table '{source}.{name}'"
        check_keys(shown, table, TABLE_KEYS, table_context)
        if name in lines:
            raise ConfigError(
                f"table '{name}' is declared twice in {context} (first at line {lines[name]})",
                location=location,
            )
        lines[name] = location.line
        settings = _settings(shown, table, table_context, inherited)
        if not settings["enabled"]:
            continue
        columns, column_tests = parse_columns(shown, table, table_context)
        tests = [
            *parse_tests(shown, table, table_context),
            *parse_expectations(shown, table, table_context),
            *parse_suite(shown, table, table_context, root),
            *column_tests,
        ]
        tables.append(
            SourceTable(
                source_name=source,
                name=name,
                path=shown,
                line=location.line,
                database=expect_str(shown, entry, "database", context),
                schema=expect_str(shown, entry, "schema", context, default=source),
                identifier=expect_str(shown, table, "identifier", table_context, default=name),
                description=expect_str(shown, table, "description", table_context, default=""),
                columns=tuple(columns),
                loaded_at_field=settings["loaded_at_field"],
                freshness=settings["freshness"],
                tags=settings["tags"],
                meta=settings["meta"],
                tests=tuple(_with_sensor(spec, settings["sensor"]) for spec in tests),
                config=settings["config"],
            )
        )
    return source, tables


def _settings(
    shown: str, entry: Mapping[str, Any], context: str, inherited: Mapping[str, Any]
) -> dict[str, Any]:
    """enabled, tags, meta, freshness, loaded_at_field, sensor of a source or table, written at its top or
    under `config:`, on top of `inherited`; tags add up, meta and the other config keys update, the rest
    replace."""
    config = expect_map(shown, entry, "config", context)
    out = dict(inherited)
    # other config keys are kept, as dbt keeps them (dbt-duckdb reads external_location, formatter ...)
    out["config"] = {
        **out["config"],
        **{k: plain(v) for k, v in config.items() if k not in SOURCE_CONFIG_KEYS},
    }
    for place in (entry, config):
        tags = expect_str_list(shown, place, "tags", context) or ()
        out["tags"] = tuple(dict.fromkeys((*out["tags"], *tags)))
        out["meta"] = {**out["meta"], **plain(expect_map(shown, place, "meta", context))}
        if "freshness" in place:  # `freshness: null` turns it off
            out["freshness"] = _freshness(shown, place, context)
        if place.get("loaded_at_field") is not None:
            out["loaded_at_field"] = expect_str(shown, place, "loaded_at_field", context)
        if "sensor" in place:
            line = key_location(shown, place, "sensor").line
            out["sensor"] = normalise_sensor(
                place["sensor"], path=shown, line=line, context=context, base=out.get("sensor") or None
            )
    enabled = config.get("enabled", True)
    if not isinstance(enabled, bool):
        raise wrong_type(shown, config, "enabled", "true or false", f"config of {context}")
    out["enabled"] = enabled and inherited.get("enabled", True)
    out.setdefault("loaded_at_field", None)
    return out


def _with_sensor(spec: TestSpec, sensor: Mapping[str, Any]) -> TestSpec:
    """`spec` with the table's sensor settings as its default `sensor` config."""
    if not sensor:
        return spec
    return dataclasses.replace(spec, config=merge_config({"sensor": sensor}, spec.config))


def _freshness(shown: str, place: Mapping[str, Any], context: str) -> dict[str, Any]:
    """A checked `freshness:` block: {warn_after: {count: 12, period: hour}, error_after: .., filter: ..}."""
    block = expect_map(shown, place, "freshness", context)
    where = f"freshness of {context}"
    check_keys(shown, block, FRESHNESS_KEYS, where)
    for key in ("warn_after", "error_after"):
        after = expect_map(shown, block, key, where)
        if not after:
            continue
        check_keys(shown, after, ("count", "period"), f"{key} of {context}")
        count, period = after.get("count"), after.get("period")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(
                f"'count' of {key} of {context} must be a whole number of at least 1, not {count!r}",
                location=key_location(shown, after, "count"),
            )
        if period not in PERIODS:
            raise ConfigError(
                f"'period' of {key} of {context} must be one of {', '.join(PERIODS)}, not {period!r}",
                location=key_location(shown, after, "period"),
            )
    expect_str(shown, block, "filter", where)
    return plain(block)
