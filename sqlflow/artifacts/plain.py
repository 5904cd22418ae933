"""The constants of dbt's artifact schemas, and `plain`: records as JSON-able data. Imports nothing from
sqlflow."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

# the dbt release whose artifact schemas these follow; tools read `dbt_version` to know what to expect
DBT_VERSION = "1.10.0"
MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
TEST_AUDIT_SUFFIX = "_dbt_test__audit"  # dbt's schema for stored test failures, after the target schema
# top-level manifest keys dbt writes that sqlflow has nothing for (yet)
EMPTY_SECTIONS = (
    "macros",
    "docs",
    "exposures",
    "metrics",
    "groups",
    "selectors",
    "disabled",
    "group_map",
    "saved_queries",
    "semantic_models",
)
# node attributes that are sqlflow's, not dbt's: written under config.sqlflow when they hold something
SQLFLOW_FACTS = (
    "incremental_sql",
    "external_tables",
    "inferred_columns",
    "file_reads",
    "file_loads",
    "test_type",
    "test_name",
    "kwargs",
    "line",
)


def plain(value: Any) -> Any:
    """Dataclasses, mappings and tuples as JSON-able dicts and lists.

    >>> plain({"a": (1, 2)})
    {'a': [1, 2]}
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass -> its field names (read once per class)
