"""The SQL of sqlflow's built-in generic tests: each selects the failing rows of a relation.

    not_null, unique, accepted_values, relationships           (dbt's own)
    unique_combination_of_columns, accepted_range, expression_is_true   (dbt_utils', `dbt_utils.` prefix ok)
    row_count (min/max: one row with the actual count), freshness (max(column) older than max_age)

A project's own `{% test %}` of one of the newer names replaces it (a vendored dbt_utils copy keeps working).

SQL is written in the target dialect with identifiers quoted through the `sql` module (handed in, so that a
cache hit never imports sqlglot). Arguments are checked here, with the test's file:line. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.project.durations import DURATION_HINT, parse_duration
from sqlflow.project.types import TestSpec
from sqlflow.project.yamlfile import kind

DBT_UTILS_TESTS = ("unique_combination_of_columns", "accepted_range", "expression_is_true")
BUILTIN_TESTS = (
    "not_null", "unique", "accepted_values", "relationships", *DBT_UTILS_TESTS, "row_count", "freshness",
)  # fmt: skip
# the newer tests, which a project's own `{% test %}` of the same name replaces
OVERRIDABLE_TESTS = BUILTIN_TESTS[4:]
# the arguments each newer test takes (dbt's four keep accepting anything, as before)
ARGUMENTS: Mapping[str, tuple[str, ...]] = {
    "unique_combination_of_columns": ("combination_of_columns", "quote_columns"),
    "accepted_range": ("min_value", "max_value", "inclusive"),
    "expression_is_true": ("expression",),
    "row_count": ("min", "max"),
    "freshness": ("max_age", "column"),
}
EXAMPLES: Mapping[str, str] = {
    "unique_combination_of_columns": "like 'unique_combination_of_columns: {combination_of_columns: [a, b]}'",
    "accepted_range": "like 'accepted_range: {min_value: 0, max_value: 100}'",
    "expression_is_true": "like 'expression_is_true: {expression: \"amount >= 0\"}'",
    "row_count": "like 'row_count: {min: 1, max: 1000000}'",
    "freshness": "like 'freshness: {max_age: 24h}' or 'max_age: {count: 12, period: hour}'",
}
_EXPRESSION = re.compile(r"[()|+*/:]")  # a column_name that is an expression, not a name
_PREFIX = "dbt_utils."


def canonical_test_name(name: str) -> str:
    """The built-in test a name means: `dbt_utils.accepted_range` -> `accepted_range`; others unchanged.

    >>> canonical_test_name("dbt_utils.expression_is_true"), canonical_test_name("dbt_utils.recency")
    ('expression_is_true', 'dbt_utils.recency')
    """
    if name.startswith(_PREFIX) and name[len(_PREFIX) :] in DBT_UTILS_TESTS:
        return name[len(_PREFIX) :]
    return name


def column_sql(sql: ModuleType, column: str, dialect: str) -> str:
    """A column name as SQL; a `column_name` written as an expression is kept as written."""
    return column if _EXPRESSION.search(column) else sql.quote_name(column, dialect)


def builtin_sql(
    sql: ModuleType,
    spec: TestSpec,
    args: Mapping[str, Any],
    *,
    relation: str,
    to_relation: str | None,
    dialect: str,
    where: str | None,
    limit: int | None,
) -> str:
    """The SQL of a built-in generic test over `relation` (already SQL text): it selects the failing rows.

    `args` are the test's arguments (Jinja in them already rendered), without column_name.
    """
    check = _Checker(spec, args)
    source = relation if not where else f"(select * from {relation} where {where}) as dbt_subquery"
    name = spec.test_name
    if name in ARGUMENTS:
        check.known(ARGUMENTS[name])
    if name == "unique_combination_of_columns":
        columns = check.str_list("combination_of_columns")
        listed = ", ".join(column_sql(sql, c, dialect) for c in columns)
        text = (
            f"select {listed}, count(*) as n_records\nfrom {source}\ngroup by {listed}\nhaving count(*) > 1"
        )
    elif name == "expression_is_true":
        expression = check.text("expression")
        column = spec.column_name or args.get("column_name")
        if isinstance(column, str) and column:  # dbt_utils: `<column> <expression>`
            expression = f"{column_sql(sql, column, dialect)} {expression}"
        text = f"select *\nfrom {source}\nwhere not ({expression})"
    elif name == "row_count":
        low, high = check.whole("min"), check.whole("max")
        if low is None and high is None:
            raise check.error("test 'row_count' needs min or max", hint=EXAMPLES[name])
        if low is not None and high is not None and low > high:
            raise check.error(f"'min' of test 'row_count' ({low}) is more than its 'max' ({high})")
        outside = [f"row_count {op} {bound}" for op, bound in (("<", low), (">", high)) if bound is not None]
        text = (
            f"select row_count\nfrom (select count(*) as row_count from {source}) as counted\n"
            f"where {' or '.join(outside)}"
        )
    elif name == "freshness":
        col = column_sql(sql, check.column("column"), dialect)
        ago = sql.interval_ago(check.duration("max_age"), dialect)
        text = (
            f"select latest, {ago} as oldest_allowed\n"
            f"from (select max({col}) as latest from {source}) as freshness\n"
            f"where latest is null or latest < {ago}"
        )
    else:
        col = column_sql(sql, check.column(), dialect)
        text = _dbt_test(sql, check, col, source, to_relation, dialect)
    if limit is not None:
        text += f"\nlimit {int(limit)}"
    return text


def _dbt_test(
    sql: ModuleType, check: _Checker, col: str, source: str, to_relation: str | None, dialect: str
) -> str:
    """not_null, unique, accepted_values, relationships, and accepted_range (all on a column)."""
    name, args = check.spec.test_name, check.args
    if name == "not_null":
        return f"select {col}\nfrom {source}\nwhere {col} is null"
    if name == "unique":
        return (
            f"select {col} as unique_field, count(*) as n_records\nfrom {source}\n"
            f"where {col} is not null\ngroup by {col}\nhaving count(*) > 1"
        )
    if name == "accepted_values":
        values = args.get("values")
        if not isinstance(values, list | tuple) or not values:
            raise check.error(
                "test 'accepted_values' needs a list of values",
                hint="write 'accepted_values: {values: [a, b]}'",
            )
        quote = args.get("quote", True)
        listed = ", ".join(sql.quote_value(str(v), dialect) if quote else str(v) for v in values)
        return (
            f"select {col} as value_field, count(*) as n_records\nfrom {source}\n"
            f"where {col} not in ({listed})\ngroup by {col}"
        )
    if name == "accepted_range":
        bounds = []
        inclusive = check.flag("inclusive", default=True)
        for key, op in (("min_value", ">=" if inclusive else ">"), ("max_value", "<=" if inclusive else "<")):
            value = check.bound(key)
            if value is not None:
                bounds.append(f"{col} {op} {value}")
        if not bounds:
            raise check.error("test 'accepted_range' needs min_value or max_value", hint=EXAMPLES[name])
        return f"select *\nfrom {source}\nwhere not ({' and '.join(bounds)})"
    field = args.get("field")  # relationships
    if not field or to_relation is None:
        raise check.error(
            "test 'relationships' needs 'to' and 'field'",
            hint="write 'relationships: {to: ref(\\'customers\\'), field: id}'",
        )
    parent_col = column_sql(sql, str(field), dialect)
    return (
        f"select child.from_field\n"
        f"from (select {col} as from_field from {source} where {col} is not null) as child\n"
        f"left join (select {parent_col} as to_field from {to_relation}) as parent\n"
        f"  on child.from_field = parent.to_field\n"
        f"where parent.to_field is null"
    )


class _Checker:
    """Reads and checks the arguments of one test; errors name the test's file:line."""

    def __init__(self, spec: TestSpec, args: Mapping[str, Any]) -> None:
        self.spec = spec
        self.args = args
        self.location = SourceLocation(spec.path, spec.line)

    def error(self, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, location=self.location, hint=hint)

    def _bad(self, key: str, expected: str, value: Any) -> ConfigError:
        shown = repr(value) if isinstance(value, str) else kind(value)
        return self.error(f"'{key}' of test '{self.spec.test_name}' must be {expected}, not {shown}")

    def known(self, allowed: tuple[str, ...]) -> None:
        for key in self.args:
            if key not in allowed and key != "column_name":  # column_name under dbt 1.10's `arguments:`
                raise self.error(
                    f"unknown argument '{key}' of test '{self.spec.test_name}'",
                    hint=did_you_mean(key, allowed) or "it takes " + ", ".join(allowed),
                )

    def column(self, alias: str | None = None) -> str:
        column = (
            self.spec.column_name or self.args.get("column_name") or (self.args.get(alias) if alias else None)
        )
        if not isinstance(column, str) or not column:
            also = f", or give column_name or {alias}" if alias else ", or give column_name"
            raise self.error(
                f"test '{self.spec.test_name}' needs a column", hint=f"declare it under a column{also}"
            )
        return column

    def text(self, key: str) -> str:
        value = self.args.get(key)
        if value is None or value == "":
            raise self.error(
                f"test '{self.spec.test_name}' needs {key}", hint=EXAMPLES.get(self.spec.test_name)
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._bad(key, "a SQL expression", value)
        return str(value)

    def str_list(self, key: str) -> list[str]:
        value = self.args.get(key)
        if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
            raise self.error(
                f"test '{self.spec.test_name}' needs {key}: a list of column names",
                hint=EXAMPLES.get(self.spec.test_name),
            )
        return list(value)

    def whole(self, key: str) -> int | None:
        value = self.args.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._bad(key, "a whole number of 0 or more", value)
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.args.get(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def bound(self, key: str) -> str | None:
        """A bound: a number, or a SQL expression written as a string (`"current_date"`)."""
        value = self.args.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            raise self._bad(key, "a number or a SQL expression", value)
        return str(value)

    def duration(self, key: str) -> float:
        value = self.args.get(key)
        if value is None:
            raise self.error(f"test '{self.spec.test_name}' needs {key}", hint=EXAMPLES[self.spec.test_name])
        try:
            seconds = parse_duration(value)
        except ValueError:
            shown = repr(value) if isinstance(value, str) else kind(value)
            raise self.error(
                f"'{key}' of test '{self.spec.test_name}' must be a duration, not {shown}", hint=DURATION_HINT
            ) from None
        if seconds <= 0:
            raise self.error(
                f"'{key}' of test '{self.spec.test_name}' must be more than 0", hint=DURATION_HINT
            )
        return seconds
