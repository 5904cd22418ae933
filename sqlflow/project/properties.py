"""Property YAML (`version: 2` files beside the models) -> NodeProperties per model/seed/snapshot,
SourceTables and SensorSpecs.

Two entries for one model (or two sources, or two sensors, of one name) are an error naming both places.
Whether a model with properties exists is the compiler's check. Imports only `sqlflow.errors`,
`sqlflow.manifest` and this package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.project.columns import parse_columns, parse_tests
from sqlflow.project.config import Warn, config_key, merge_config, normalise_config
from sqlflow.project.expectations import parse_expectations, parse_suite
from sqlflow.project.sensors import parse_sensors
from sqlflow.project.sources import parse_source
from sqlflow.project.types import NodeProperties, SensorSpec, SourceTable, UnitTestSpec
from sqlflow.project.unit_tests import parse_unit_tests
from sqlflow.project.yamlfile import (
    YamlMap,
    expect_list,
    expect_map,
    expect_str,
    item_location,
    key_location,
    kind,
    load_yaml,
    warn_unknown_keys,
)

FILE_KEYS = ("version", "models", "seeds", "snapshots", "sources", "sensors", "unit_tests")
# other dbt property kinds: read without being used (yet)
FILE_TOLERATED = (
    "macros", "exposures", "metrics", "analyses", "semantic_models", "saved_queries", "groups",
)  # fmt: skip
NODE_KEYS = (
    "name", "description", "config", "columns", "tests", "data_tests", "expectations", "expectation_suite",
    "meta", "docs", "tags",
)  # fmt: skip
NODE_TOLERATED = (
    "access", "constraints", "deprecation_date", "group", "latest_version", "versions", "time_spine",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Properties:
    """Everything the property files of a project say."""

    models: dict[str, NodeProperties]
    seeds: dict[str, NodeProperties]
    source_tables: tuple[SourceTable, ...]
    sensors: tuple[SensorSpec, ...] = ()
    snapshots: dict[str, NodeProperties] = field(default_factory=dict)
    unit_tests: tuple[UnitTestSpec, ...] = ()
    warnings: tuple[tuple[str, SourceLocation], ...] = ()  # keys dbt ignores or keeps, likely typos


def read_properties(
    files: Iterable[tuple[str, Path]], root: Path | None = None, *, test_paths: Iterable[str] = ("tests",)
) -> Properties:
    """Read every property file (relative path, absolute path) and check for duplicate entries.

    `root` is the project folder, against which `expectation_suite:` paths are read (and unit tests'
    fixtures, under `test_paths`).
    """
    unit_tests: dict[str, UnitTestSpec] = {}
    found: dict[str, dict[str, NodeProperties]] = {"models": {}, "seeds": {}, "snapshots": {}}
    sources: dict[str, SourceLocation] = {}
    tables: list[SourceTable] = []
    sensors: dict[str, SensorSpec] = {}
    warnings: list[tuple[str, SourceLocation]] = []

    def warn(message: str, at: SourceLocation) -> None:
        warnings.append((message, at))

    for shown, path in files:
        doc = load_yaml(path, shown)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ConfigError(
                f"a property file must be a mapping (version:, models:, ...), not {kind(doc)}",
                location=SourceLocation(shown, 1),
            )
        for key in doc:
            if key not in FILE_KEYS + FILE_TOLERATED:  # dbt ignores it, with a warning
                hint = did_you_mean(str(key), FILE_KEYS)
                ignored = f"unknown key '{key}' in a property file is ignored" + (
                    f" ({hint})" if hint else ""
                )
                warn(ignored, key_location(shown, doc, key))
        if doc.get("version", 2) != 2:
            raise ConfigError(
                f"unsupported property file version {doc['version']!r}",
                location=key_location(shown, doc, "version"),
                hint="write 'version: 2'",
            )
        for section, seen in found.items():
            entries = expect_list(shown, doc, section, "")
            for index in range(len(entries)):
                props = _node(shown, entries, index, section[:-1], root, warn)
                if props.name in seen:
                    first = seen[props.name]
                    raise ConfigError(
                        f"{section[:-1]} '{props.name}' already has properties in {first.path}:{first.line}",
                        location=SourceLocation(shown, props.line),
                        hint="merge the two entries into one",
                    )
                seen[props.name] = props
        entries = expect_list(shown, doc, "sources", "")
        for index in range(len(entries)):
            name, source_tables = parse_source(shown, entries, index, root)
            location = key_location(shown, entries[index], "name")
            if name in sources:
                raise ConfigError(
                    f"source '{name}' is already declared in {sources[name]}",
                    location=location,
                    hint="declare each source once; list all its tables under it",
                )
            sources[name] = location
            tables += source_tables
        for sensor in parse_sensors(shown, expect_list(shown, doc, "sensors", "")):
            declared = sensors.get(sensor.name)
            if declared is not None:
                raise ConfigError(
                    f"sensor '{sensor.name}' is already declared in {declared.path}:{declared.line}",
                    location=SourceLocation(shown, sensor.line),
                    hint="sensor names are unique in a project; rename one of them",
                )
            sensors[sensor.name] = sensor
        entries = expect_list(shown, doc, "unit_tests", "")
        for unit in parse_unit_tests(shown, entries, root=root, test_paths=test_paths):
            other = unit_tests.get(unit.name)
            if other is not None:
                raise ConfigError(
                    f"unit test '{unit.name}' is already declared in {other.path}:{other.line}",
                    location=SourceLocation(shown, unit.line),
                    hint="unit test names are unique in a project; rename one of them",
                )
            unit_tests[unit.name] = unit
    return Properties(
        models=found["models"],
        seeds=found["seeds"],
        source_tables=tuple(tables),
        sensors=tuple(sensors.values()),
        snapshots=found["snapshots"],
        unit_tests=tuple(unit_tests.values()),
        warnings=tuple(warnings),
    )


def _node(
    shown: str, entries: list[Any], index: int, what: str, root: Path | None, warn: Warn
) -> NodeProperties:
    """One `models:` / `seeds:` / `snapshots:` entry."""
    entry = entries[index]
    if not isinstance(entry, dict) or entry.get("name") is None:
        raise ConfigError(f"a {what} entry needs a 'name'", location=item_location(shown, entries, index))
    name = expect_str(shown, entry, "name", f"{what}s")
    context = f"{what} '{name}'"
    warn_unknown_keys(shown, entry, NODE_KEYS + NODE_TOLERATED, context, warn)  # dbt warns and ignores them
    # meta / docs / tags beside the config block are configs too (dbt's older style)
    loose = YamlMap({k: entry[k] for k in ("meta", "docs", "tags") if k in entry})
    loose.key_lines = getattr(entry, "key_lines", {})
    block = expect_map(shown, entry, "config", context)
    config = merge_config(
        normalise_config(loose, where=key_location(shown, entry), context=context, warn=warn),
        normalise_config(
            block, where=key_location(shown, entry, "config"), context=f"config of {context}", warn=warn
        ),
    )
    columns, column_tests = parse_columns(shown, entry, context, warn)
    lines = {k: v for k, v in loose.key_lines.items() if k in loose} | block.key_lines
    return NodeProperties(
        name=name,
        path=shown,
        line=key_location(shown, entry, "name").line,
        description=expect_str(shown, entry, "description", context, default=""),
        columns=tuple(columns),
        config=config,
        tests=(
            *parse_tests(shown, entry, context, warn=warn),
            *parse_expectations(shown, entry, context),
            *parse_suite(shown, entry, context, root),
            *column_tests,
        ),
        config_lines={config_key(k): line for k, line in lines.items()},
    )
