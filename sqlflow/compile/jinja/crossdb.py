"""dbt's cross-database macros (`dbt.datediff`, `dbt.type_string`, ...) as Python functions writing the SQL
dbt-duckdb and dbt-postgres write, and dbt's default naming macros (`default__generate_schema_name` ...).

`builtin_macros(adapter_type, target)` gives name -> function for one target; the template context reaches
them through `adapter.dispatch(name, 'dbt')`, the `dbt.` namespace and as plain globals (a project's own
macro of the same name wins). Arguments are SQL text as dbt's macros take them. Pure; no jinja2, no sqlglot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlflow.engines import quote_string
from sqlflow.errors import TemplateError

# api.Column.translate_type of dbt's base Column (dbt-duckdb and dbt-postgres keep it)
_TYPE_LABELS = {"STRING": "TEXT"}


def translate_type(dtype: str) -> str:
    """dbt's `api.Column.translate_type`.

    >>> translate_type("string"), translate_type("integer")
    ('TEXT', 'integer')
    """
    return _TYPE_LABELS.get(dtype.upper(), dtype)


def _duckdb_datediff(first: Any, second: Any, datepart: Any) -> str:
    if str(datepart).lower() == "week":
        return (
            f"({_duckdb_datediff(first, second, 'day')} // 7 + case\n"
            f"    when date_part('dow', ({first})::timestamp) <= "
            f"date_part('dow', ({second})::timestamp) then\n"
            f"        case when {first} <= {second} then 0 else -1 end\n"
            f"    else\n        case when {first} <= {second} then 1 else 0 end\nend)"
        )
    return f"(date_diff('{datepart}', {first}::timestamp, {second}::timestamp ))"


def _postgres_datediff(first: Any, second: Any, datepart: Any) -> str:
    part = str(datepart).lower()
    year = f"(date_part('year', ({second})::date) - date_part('year', ({first})::date))"
    if part == "year":
        return year
    if part == "quarter":
        return (
            f"({year} * 4 + date_part('quarter', ({second})::date) - date_part('quarter', ({first})::date))"
        )
    if part == "month":
        return f"({year} * 12 + date_part('month', ({second})::date) - date_part('month', ({first})::date))"
    day = f"(({second})::date - ({first})::date)"
    if part == "day":
        return day
    if part == "week":
        return (
            f"({day} / 7 + case\n"
            f"    when date_part('dow', ({first})::timestamp) <= "
            f"date_part('dow', ({second})::timestamp) then\n"
            f"        case when {first} <= {second} then 0 else -1 end\n"
            f"    else\n        case when {first} <= {second} then 1 else 0 end\nend)"
        )
    smaller = {"hour": ("day", 24), "minute": ("hour", 60), "second": ("minute", 60)}
    if part in smaller:
        unit, factor = smaller[part]
        inner = _postgres_datediff(first, second, unit)
        field = f"date_part('{part}', ({{}})::timestamp)"
        if part == "second":
            field = f"floor({field})"
        return f"({inner} * {factor} + {field.format(second)} - {field.format(first)})"
    if part == "millisecond":
        inner = _postgres_datediff(first, second, "minute")
        return (
            f"({inner} * 60000 + floor(date_part('millisecond', ({second})::timestamp)) - "
            f"floor(date_part('millisecond', ({first})::timestamp)))"
        )
    raise TemplateError(f"unsupported datepart for macro datediff in postgres: {datepart!r}")


def _dateadd(adapter: str) -> Callable[..., str]:
    def duckdb(datepart: Any, interval: Any, from_date: Any) -> str:
        unit = str(datepart).lower()
        if unit == "quarter":
            return f"({from_date} + (cast({interval} as bigint) * 3) * interval 1 month)"
        if unit == "week":
            return f"({from_date} + (cast({interval} as bigint) * 7) * interval 1 day)"
        return f"({from_date} + cast({interval} as bigint) * interval 1 {unit})"

    def postgres(datepart: Any, interval: Any, from_date: Any) -> str:
        return f"{from_date} + ((interval '1 {datepart}') * ({interval}))"

    return duckdb if adapter == "duckdb" else postgres


def _listagg(adapter: str) -> Callable[..., str]:
    def listagg(
        measure: Any, delimiter_text: Any = "','", order_by_clause: Any = None, limit_num: Any = None
    ) -> str:
        order = f" {order_by_clause}" if order_by_clause else ""
        if adapter == "duckdb":
            if limit_num:
                return (
                    f"list_aggr((array_agg({measure}{order}))[1:{limit_num}], 'string_agg', {delimiter_text})"
                )
            return f"string_agg({measure}, {delimiter_text}{order})"
        if limit_num:
            return f"array_to_string((array_agg({measure}{order}))[1:{limit_num}], {delimiter_text})"
        return f"string_agg({measure}, {delimiter_text}{order})"

    return listagg


def _split_part(adapter: str) -> Callable[..., str]:
    def split_part(string_text: Any, delimiter_text: Any, part_number: Any) -> str:
        if adapter == "duckdb":
            return f"string_split({string_text}, {delimiter_text})[ {part_number} ]"
        if str(part_number).strip().startswith("-"):
            return (
                f"split_part({string_text}, {delimiter_text}, length({string_text}) - "
                f"length(replace({string_text}, {delimiter_text}, '')) + 2 + {part_number})"
            )
        return f"split_part({string_text}, {delimiter_text}, {part_number})"

    return split_part


def builtin_macros(adapter: str) -> dict[str, Callable[..., Any]]:
    """The built-in macros for an adapter type ("duckdb" | "postgres"), by the name users call them."""
    dateadd = _dateadd(adapter)

    def date_trunc(datepart: Any, date: Any) -> str:
        return f"date_trunc('{datepart}', {date})"

    def last_day(date: Any, datepart: Any) -> str:
        if str(datepart).lower() == "quarter":
            return f"cast({dateadd('day', '-1', dateadd('month', '3', date_trunc(datepart, date)))} as date)"
        return f"cast({dateadd('day', '-1', dateadd(datepart, '1', date_trunc(datepart, date)))} as date)"

    def concat(fields: Sequence[Any]) -> str:
        if isinstance(fields, str):
            raise TemplateError("dbt.concat() takes a list of expressions, not a string")
        return " || ".join(str(f) for f in fields)

    def cast(field: Any, type: Any) -> str:
        return f"cast({field} as {type})"

    def escape_single_quotes(expression: Any) -> str:
        return quote_string(expression)[1:-1]  # the literal's body: inner quotes doubled

    macros: dict[str, Callable[..., Any]] = {
        "datediff": _duckdb_datediff if adapter == "duckdb" else _postgres_datediff,
        "dateadd": dateadd,
        "date_trunc": date_trunc,
        "last_day": last_day,
        "safe_cast": cast,  # dbt-duckdb and dbt-postgres keep dbt's default: a plain cast
        "cast": cast,
        "concat": concat,
        "hash": lambda field: f"md5(cast({field} as {translate_type('string')}))",
        "type_string": lambda: translate_type("string"),
        "type_timestamp": lambda: "timestamp",
        "type_float": lambda: "float",
        "type_numeric": lambda: "numeric(28,6)",
        "type_bigint": lambda: "bigint",
        "type_int": lambda: "integer",
        "type_boolean": lambda: "boolean",
        "current_timestamp": lambda: "now()",
        "current_timestamp_backcompat": lambda: "current_timestamp::timestamp",
        "current_timestamp_in_utc_backcompat": lambda: "current_timestamp::timestamp",
        "split_part": _split_part(adapter),
        "listagg": _listagg(adapter),
        "any_value": (lambda e: f"arbitrary({e})") if adapter == "duckdb" else (lambda e: f"min({e})"),
        "bool_or": lambda e: f"bool_or({e})",
        "cast_bool_to_text": lambda field: f"cast({field} as {translate_type('string')})",
        "escape_single_quotes": escape_single_quotes,
        "string_literal": lambda value: f"'{value}'",
        "length": lambda e: f"length({e})",
        "position": lambda substring, string: f"position({substring} in {string})",
        "replace": lambda field, old, new: f"replace({field}, {old}, {new})",
        "right": lambda string, length: f"right({string}, {length})",
        "except": lambda: "except",
        "intersect": lambda: "intersect",
        "array_construct": _array_construct,
        "array_append": lambda array, new: (
            f"list_append({array}, {new})" if adapter == "duckdb" else f"array_append({array}, {new})"
        ),
        "array_concat": lambda a, b: (
            f"list_concat({a}, {b})" if adapter == "duckdb" else f"array_cat({a}, {b})"
        ),
        "equals": lambda a, b: f"(({a} = {b}) or ({a} is null and {b} is null))",
    }
    return macros


def _array_construct(inputs: Sequence[Any] = (), data_type: Any = "integer") -> str:
    if inputs:
        return "array[ " + " , ".join(str(i) for i in inputs) + " ]"
    return f"array[]::{data_type}[]"


def generate_schema_name(target: Mapping[str, Any]) -> Callable[..., str]:
    """dbt's default__generate_schema_name: the target schema, or `<target schema>_<custom>`."""

    def default(custom_schema_name: Any = None, node: Any = None) -> str:
        if custom_schema_name is None:
            return str(target["schema"])
        return f"{target['schema']}_{str(custom_schema_name).strip()}"

    return default


def generate_schema_name_for_env(target: Mapping[str, Any]) -> Callable[..., str]:
    """dbt's generate_schema_name_for_env: the custom schema as it is on a target named prod."""

    def for_env(custom_schema_name: Any = None, node: Any = None) -> str:
        if target.get("name") == "prod" and custom_schema_name is not None:
            return str(custom_schema_name).strip()
        return str(target["schema"])

    return for_env


def generate_alias_name(custom_alias_name: Any = None, node: Any = None) -> str:
    """dbt's default__generate_alias_name: the alias, else the node's name (a versioned model's `_v<n>`)."""
    if custom_alias_name is not None:
        return str(custom_alias_name).strip()
    name = node["name"] if node is not None else ""
    version = node.get("version") if node is not None else None
    return f"{name}_v{version}" if version not in (None, "") else str(name)


def generate_database_name(target: Mapping[str, Any]) -> Callable[..., str]:
    """dbt's default__generate_database_name: the custom database, else the target's."""

    def default(custom_database_name: Any = None, node: Any = None) -> str:
        if custom_database_name is None:
            return str(target["database"])
        return str(custom_database_name).strip()

    return default
