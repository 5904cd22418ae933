"""Running one data test: count the failing rows its SQL returns, judge them by severity, keep a sample.

A test's compiled SQL selects the failing rows. It runs as `select count(*) from (<sql>)`; when rows fail,
up to five of them are fetched too. `severity`, `warn_if` and `error_if` decide between pass, warn and fail
as in dbt. With `store_failures` the failing rows are first kept in a table `<audit schema>.<test name>`
(replaced on each run) and counted from there. An expectation test (`test_type` "expectation") goes to
`sqlflow.checks.gx`, imported only then; a dbt unit test (`test_type` "unit") to `checks.unit_tests`.
Imports no driver and nothing above `adapters`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import operator
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import create_schema, create_table_as, drop_relation, relation_sql
from sqlflow.errors import ConfigError, NodeFailedError
from sqlflow.manifest import Relation, TestNode

SAMPLE_ROWS = 5
AUDIT_SCHEMA_SUFFIX = "_dbt_test__audit"
GX_INSTALL = "pip install 'sqlflow[gx]'"

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


TestStatus = Literal["pass", "warn", "fail"]  # a test that ran; errors are raised


@dataclass(frozen=True, slots=True)
class TestOutcome:
    status: TestStatus
    failures: int
    message: str | None
    sample_rows: tuple[Mapping[str, Any], ...] = ()
    stored_in: Relation | None = None  # the table holding the failing rows (store_failures)

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")


def audit_schema(target_schema: str) -> str:
    """The schema of stored failing rows, as in dbt.

    >>> audit_schema("main")
    'main_dbt_test__audit'
    """
    return target_schema + AUDIT_SCHEMA_SUFFIX


def condition_holds(condition: str, failures: int) -> bool:
    """Whether `failures` meets a dbt condition such as "!= 0" or ">10".

    >>> condition_holds("!= 0", 3), condition_holds(">10", 3), condition_holds("= 0", 0)
    (True, False, True)
    >>> condition_holds(">= 5", 5), condition_holds("<> 0", 0)
    (True, False)
    """
    match = _CONDITION.match(condition)
    if not match:
        raise NodeFailedError(
            f"cannot read the test condition '{condition}'", hint="write it like '!= 0' or '> 10'"
        )
    return _OPERATORS[match[1]](failures, int(match[2]))


def judge(test: TestNode, failures: int) -> tuple[TestStatus, str | None]:
    """(status, message) of a test that found `failures` rows: error_if decides fail (unless the severity is
    warn), then warn_if decides warn, else pass."""
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


def failures_relation(test: TestNode, schema: str) -> Relation:
    """Where `store_failures` keeps the failing rows of `test`: a table named after the test."""
    return Relation(database=None, schema=schema, identifier=test.name)


def run_test(
    test: TestNode, adapter: Adapter, *, relation: Relation | None = None, failures_schema: str | None = None
) -> TestOutcome:
    """Run any test once on `adapter`'s session: SQL tests, or expectations through `sqlflow.checks.gx`
    against `relation` (the tested node's). Raises SqlflowError when the test cannot run."""
    if test.test_type == "expectation":
        return run_expectation(test, adapter, relation)
    if test.test_type == "unit":
        from sqlflow.checks.unit_tests import run_unit_test

        return run_unit_test(test, adapter, TestOutcome)
    return run_data_test(test, adapter, failures_schema=failures_schema)


def run_data_test(test: TestNode, adapter: Adapter, *, failures_schema: str | None = None) -> TestOutcome:
    sql = failing_rows_sql(test)
    stored = None
    if test.config.store_failures and failures_schema:
        stored = failures_relation(test, failures_schema)
        adapter.execute(create_schema(stored.schema, adapter.dialect))
        if adapter.replace_table_atomically:
            adapter.execute(create_table_as(stored, sql, adapter.dialect, replace=True))
        else:  # no CREATE OR REPLACE TABLE (PostgreSQL)
            adapter.execute(drop_relation(stored, "table", adapter.dialect))
            adapter.execute(create_table_as(stored, sql, adapter.dialect))
        sql = f"select * from {relation_sql(stored, adapter.dialect)}"
    _, rows = adapter.fetch(f"select count(*) from (\n{sql}\n) as sqlflow_test")
    failures = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    status, message = judge(test, failures)
    sample: tuple[Mapping[str, Any], ...] = ()
    if failures:
        columns, rows = adapter.fetch(f"select * from (\n{sql}\n) as sqlflow_test limit {SAMPLE_ROWS}")
        sample = tuple({c: plain(v) for c, v in zip(columns, row, strict=False)} for row in rows)
    if stored is not None:
        where = f"failing rows in {stored}"
        message = f"{message}; {where}" if message else where
    return TestOutcome(status, failures, message, sample, stored)


def run_expectation(test: TestNode, adapter: Adapter, relation: Relation | None) -> TestOutcome:
    """A Great Expectations check through `sqlflow.checks.gx.run_expectation`, judged like a SQL test."""
    try:
        gx = importlib.import_module("sqlflow.checks.gx")
    except ImportError as exc:
        what = (
            "this version of sqlflow cannot run it"
            if exc.name == "sqlflow.checks.gx"
            else f"{exc.name or 'great-expectations'} is not installed"
        )
        raise ConfigError(
            f"{test.name} is a Great Expectations check, and {what}",
            hint=f"install the gx extra: {GX_INSTALL}",
        ) from exc
    if relation is None:
        raise NodeFailedError(f"{test.name} is not attached to a model, seed or source")
    outcome = gx.run_expectation(adapter, relation, test)
    failures = int(outcome.failures or 0)
    sample = sample_of(outcome.sample_rows, getattr(outcome, "columns", None))[:SAMPLE_ROWS]
    if outcome.passed:
        return TestOutcome("pass", failures, outcome.message or None, sample)
    # an expectation may fail without counting rows (a row count, a column set): one failure at least
    status, judged = judge(test, max(failures, 1))
    if status == "pass":  # thresholds let it through
        return TestOutcome("pass", failures, outcome.message or None, sample)
    return TestOutcome(status, failures, outcome.message or judged, sample)


def sample_of(
    rows: Sequence[Any] | None, columns: Sequence[str] | None = None
) -> tuple[Mapping[str, Any], ...]:
    """Sample rows as JSON-friendly mappings, whatever shape they came in (mappings, tuples named by
    `columns`, bare values).

    >>> sample_of([{"id": 1}, (2, "x"), 3])
    ({'id': 1}, {'column_1': 2, 'column_2': 'x'}, {'value': 3})
    >>> sample_of([(None,), (7,)], ["amount"])
    ({'amount': None}, {'amount': 7})
    """
    out: list[Mapping[str, Any]] = []
    for row in rows or ():
        if isinstance(row, Mapping):
            out.append({str(k): plain(v) for k, v in row.items()})
        elif isinstance(row, list | tuple):
            names = list(columns or ())
            if len(names) != len(row):
                names = [f"column_{i}" for i in range(1, len(row) + 1)]
            out.append({name: plain(v) for name, v in zip(names, row, strict=True)})
        else:
            out.append({"value": plain(row)})
    return tuple(out)


def plain(value: Any) -> Any:
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
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)
