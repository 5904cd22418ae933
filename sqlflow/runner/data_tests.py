"""Running one data test: count the failing rows its SQL returns, judge them by severity, keep a sample.

A test's compiled SQL selects the failing rows. It runs as `select count(*) from (<sql>)`; when rows fail,
up to five of them are fetched too. `severity`, `warn_if` and `error_if` decide between pass, warn and fail
as in dbt.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.errors import NodeFailedError
from sqlflow.manifest import TestNode

SAMPLE_ROWS = 5

_CONDITION = re.compile(r"^\s*(==|=|!=|<>|>=|<=|>|<)\s*(\d+)\s*$")
_OPERATORS: Mapping[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class TestOutcome:
    status: str  # pass, warn, fail
    failures: int
    message: str | None
    sample_rows: tuple[Mapping[str, Any], ...] = ()


def condition_holds(condition: str, failures: int) -> bool:
    """Whether `failures` meets a dbt condition such as "!= 0" or ">10".

    >>> condition_holds("!= 0", 3), condition_holds(">10", 3), condition_holds("= 0", 0)
    (True, False, True)
    """
    match = _CONDITION.match(condition)
    if not match:
        raise NodeFailedError(
            f"cannot read the test condition '{condition}'", hint="write it like '!= 0' or '> 10'"
        )
    return _OPERATORS[match[1]](failures, int(match[2]))


def judge(test: TestNode, failures: int) -> tuple[str, str | None]:
    """(status, message) of a test that found `failures` rows."""
    config = test.config
    noun = "result" if failures == 1 else "results"
    if config.severity.lower() != "warn" and condition_holds(config.error_if, failures):
        return "fail", f"Got {failures} {noun}, configured to fail if {config.error_if}"
    if condition_holds(config.warn_if, failures):
        return "warn", f"Got {failures} {noun}, configured to warn if {config.warn_if}"
    return "pass", None


def failing_rows_sql(test: TestNode) -> str:
    """The test's SQL, limited by its `limit` config."""
    if test.compiled_sql is None:
        raise NodeFailedError(f"{test.name} has no compiled SQL", hint="compile the project first")
    sql = test.compiled_sql.strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    if test.config.limit is not None:
        sql = f"select * from (\n{sql}\n) as sqlflow_limited limit {int(test.config.limit)}"
    return sql


def run_data_test(test: TestNode, adapter: Adapter) -> TestOutcome:
    sql = failing_rows_sql(test)
    _, rows = adapter.fetch(f"select count(*) from (\n{sql}\n) as sqlflow_test")
    failures = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    status, message = judge(test, failures)
    sample: tuple[Mapping[str, Any], ...] = ()
    if failures:
        columns, rows = adapter.fetch(f"select * from (\n{sql}\n) as sqlflow_test limit {SAMPLE_ROWS}")
        sample = tuple({c: _plain(v) for c, v in zip(columns, row, strict=False)} for row in rows)
    return TestOutcome(status, failures, message, sample)


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a database value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value) if value % 1 else int(value)
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
