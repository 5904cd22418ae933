"""The `columns:` and `tests:` / `data_tests:` entries of property YAML, shared by models, seeds and sources.

A test entry is `not_null`, `{accepted_values: {values: [..], config: {severity: warn}}}`, the dbt 1.10 form
with `arguments:`, or `{name: custom, test_name: accepted_values, ...}`; each becomes a TestSpec whose
kwargs and config are split apart; a column's `expectations:` are read by `expectations.py`. Imports only
`sqlflow.errors`, `sqlflow.manifest` and this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlflow.errors import ConfigError
from sqlflow.manifest import ColumnInfo
from sqlflow.project.config import Warn, normalise_config
from sqlflow.project.expectations import parse_expectations
from sqlflow.project.types import TestSpec
from sqlflow.project.yamlfile import (
    YamlMap,
    check_keys,
    expect_list,
    expect_map,
    expect_str,
    item_location,
    kind,
    plain,
    warn_unknown_keys,
)

COLUMN_KEYS = ("name", "description", "data_type", "tests", "data_tests", "expectations", "meta", "config")
COLUMN_TOLERATED = ("quote", "constraints", "tags", "policy_tags", "granularity")
# keys dbt accepts beside a test's arguments and moves into its config
TEST_CONFIG_KEYS = frozenset(
    {"severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "store_failures", "meta",
     "database", "schema", "alias", "sensor"}
)  # fmt: skip
_TEST_OWN_KEYS = ("config", "arguments", "name", "description", "column_name", "test_name")


def parse_tests(
    shown: str, entry: Mapping[str, Any], owner: str, column: str | None = None, warn: Warn | None = None
) -> list[TestSpec]:
    """The tests of `entry` (its `tests:` and `data_tests:` lists); `owner` names it in messages, `warn`
    receives the likely typos of config keys."""
    specs: list[TestSpec] = []
    for key in ("tests", "data_tests"):
        items = expect_list(shown, entry, key, owner)
        specs += [_test(shown, items, i, owner, column, warn) for i in range(len(items))]
    return specs


def _test(
    shown: str, items: list[Any], index: int, owner: str, column: str | None, warn: Warn | None
) -> TestSpec:
    item = items[index]
    location = item_location(shown, items, index)
    if isinstance(item, str):
        return TestSpec(test_name=item, column_name=column, path=shown, line=location.line)
    if not isinstance(item, dict) or not item:
        raise ConfigError(
            f"a test under {owner} must be a test name or a mapping, not {kind(item)}",
            location=location,
            hint="write '- not_null' or '- accepted_values: {values: [a, b]}'",
        )
    if "test_name" in item:
        name, body = expect_str(shown, item, "test_name", owner, default=""), item
        if not name:
            raise ConfigError(f"'test_name' under {owner} must name a test", location=location)
    elif len(item) == 1:
        name, body = next(iter(item.items()))
        body = YamlMap() if body is None else body
        if not isinstance(body, dict):
            raise ConfigError(
                f"the arguments of test '{name}' under {owner} must be a mapping, not {kind(body)}",
                location=location,
            )
    else:
        raise ConfigError(
            f"a test entry under {owner} must name one test, not {', '.join(repr(k) for k in item)}",
            location=location,
            hint="check the indentation of the test's arguments",
        )
    context = f"test '{name}' of {owner}"
    config_block = expect_map(shown, body, "config", context)
    config_raw = YamlMap({k: v for k, v in body.items() if k in TEST_CONFIG_KEYS} | config_block)
    config_raw.key_lines = {**getattr(body, "key_lines", {}), **config_block.key_lines}
    config = normalise_config(config_raw, where=location, context=context, warn=warn)
    kwargs = {k: v for k, v in body.items() if k not in TEST_CONFIG_KEYS and k not in _TEST_OWN_KEYS}
    kwargs.update(expect_map(shown, body, "arguments", context))
    column_name = expect_str(shown, body, "column_name", context, default=column)
    return TestSpec(
        test_name=name,
        kwargs=plain(kwargs),
        config=config,
        column_name=column_name,
        path=shown,
        line=location.line,
        name=expect_str(shown, body, "name", context),
        description=expect_str(shown, body, "description", context, default=""),
    )


def parse_columns(
    shown: str, entry: Mapping[str, Any], owner: str, warn: Warn | None = None
) -> tuple[list[ColumnInfo], list[TestSpec]]:
    """The `columns:` of `entry` and the tests (and expectations) declared on them."""
    columns: dict[str, ColumnInfo] = {}
    lines: dict[str, int | None] = {}
    tests: list[TestSpec] = []
    items = expect_list(shown, entry, "columns", owner)
    for index, item in enumerate(items):
        location = item_location(shown, items, index)
        if not isinstance(item, dict) or item.get("name") is None:
            raise ConfigError(f"a column under {owner} needs a 'name'", location=location)
        name = expect_str(shown, item, "name", owner)
        context = f"column '{name}' of {owner}"
        if warn is None:
            check_keys(shown, item, COLUMN_KEYS + COLUMN_TOLERATED, context)
        else:  # dbt warns and ignores them
            warn_unknown_keys(shown, item, COLUMN_KEYS + COLUMN_TOLERATED, context, warn)
        if name in columns:
            raise ConfigError(
                f"column '{name}' of {owner} is described twice (first at line {lines[name]})",
                location=location,
                hint="merge the two entries",
            )
        config = expect_map(shown, item, "config", context)
        meta = {**expect_map(shown, config, "meta", context), **expect_map(shown, item, "meta", context)}
        columns[name] = ColumnInfo(
            name=name,
            data_type=expect_str(shown, item, "data_type", context),
            description=expect_str(shown, item, "description", context, default=""),
            meta=plain(meta),
        )
        lines[name] = location.line
        tests += parse_tests(shown, item, context, column=name, warn=warn)
        tests += parse_expectations(shown, item, context, column=name)
    return list(columns.values()), tests
