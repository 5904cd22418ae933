"""dbt-duckdb's external sources: a source table whose `external_location` (in its or its source's `meta`
or `config`) names a file or a table function; source() prints that instead of the relation.

The location is formatted with the table's names and settings (`name`, `identifier`, `schema`,
`database`, and every `meta` and `config` key) by its `formatter`: `newstyle` (`{name}`, the default),
`oldstyle` (`%(name)s`) or `template` (`${name}`). A result that is not a function call and not already
quoted is quoted as a path: `'data/orders.csv'`. Pure: no Jinja, no sqlglot.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.types import SourceTable

FORMATTERS = ("newstyle", "oldstyle", "template")


def external_text(
    table: SourceTable, *, name: str, identifier: str, schema: str, database: str | None
) -> str | None:
    """What source() prints for `table`, or None when it names no external_location.

    >>> t = SourceTable(source_name="raw", name="orders", path="m.yml", line=3, database=None,
    ...                 schema="raw", identifier="orders", meta={"external_location": "data/{name}.csv"})
    >>> external_text(t, name="orders", identifier="orders", schema="raw", database=None)
    "'data/orders.csv'"
    """
    settings: dict[str, Any] = {**table.meta, **table.config}
    template = settings.get("external_location")
    if template is None:
        return None
    where = SourceLocation(table.path, table.line)
    if not isinstance(template, str):
        raise ConfigError(
            f"external_location of source table '{table.source_name}.{table.name}' must be a string",
            location=where,
        )
    values = {"name": name, "identifier": identifier, "schema": schema, "database": database, **settings}
    text = _formatted(template, values, str(settings.get("formatter", "newstyle")), table, where)
    if "(" not in text and not text.startswith("'"):
        text = "'" + text.replace("'", "''") + "'"
    return text


def _formatted(
    template: str, values: Mapping[str, Any], formatter: str, table: SourceTable, where: SourceLocation
) -> str:
    what = f"external_location of source table '{table.source_name}.{table.name}'"
    try:
        if formatter == "newstyle":
            return template.format_map(values)
        if formatter == "oldstyle":
            return template % values
        if formatter == "template":
            return Template(template).substitute(values)
    except KeyError as exc:
        raise ConfigError(
            f"{what} names {exc}, which the table does not have",
            location=where,
            hint="add it under the table's config:, or, for braces that are not placeholders (read_csv "
            "types={...}), set formatter: oldstyle",
        ) from None
    except (ValueError, TypeError, IndexError) as exc:
        raise ConfigError(f"{what} cannot be formatted ({formatter}): {exc}", location=where) from None
    raise ConfigError(
        f"unknown formatter '{formatter}' for source table '{table.source_name}.{table.name}'",
        location=where,
        hint="use " + ", ".join(FORMATTERS),
    )
