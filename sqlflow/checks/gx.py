"""Great Expectations checks: validate a relation against GX expectations through sqlflow's own connection.

Rows are read with `adapter.fetch_arrow` on the calling thread's session, so data staged inside an open
transaction (write-audit-publish) is seen. Only what an expectation needs is read: the columns it names,
filtered in the engine by the test's `where`; a row count or the column list alone when that is all it needs.
GX's pandas engine then validates them, in one ephemeral, in-memory context per process that writes no
files. `unexpected_rows_expectation` (a SQL query over `{batch}`) runs in the engine itself.
great_expectations is imported on first use, never when sqlflow is imported. Imports only
`sqlflow.adapters`, `sqlflow.manifest` and `sqlflow.errors`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import quote, relation_sql
from sqlflow.errors import ConfigError, NodeFailedError, SourceLocation, SqlflowError, did_you_mean
from sqlflow.manifest import Relation, TestNode

SAMPLE_ROWS = 5  # unexpected values kept per failing expectation, as for SQL tests
INSTALL_HINT = "install it with: pip install 'sqlflow[gx]'"
ROWS_QUERY = "unexpected_rows_expectation"  # a SQL query; run in the engine, not by GX's pandas engine

# expectations that read the column names only / the row count only (unless they carry a row_condition)
SCHEMA_ONLY = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_column_count_to_be_between",
        "expect_table_column_count_to_equal",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
    }
)
COUNT_ONLY = frozenset({"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"})
# expectations GX evaluates only on a SQL datasource
SQL_ONLY = frozenset(
    {"expect_query_results_to_match_comparison", "expect_table_row_count_to_equal_other_table"}
)
_ALL = "*"  # a check that reads every column
# arguments that say where to look, not what to expect (left out of a failure's "expected ..." message)
_NOT_EXPECTED = frozenset(
    {
        "column",
        "column_A",
        "column_B",
        "column_list",
        "meta",
        "notes",
        "description",
        "result_format",
        "row_condition",
        "condition_parser",
        "catch_exceptions",
        "severity",
        "batch_id",
        "id",
    }
)


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """What one expectation found. `passed` is GX's verdict; `failures` is 0 when it passed, else the
    unexpected row count (1 for a failed aggregate such as a mean); `sample_rows` hold up to SAMPLE_ROWS
    unexpected values of `columns`."""

    passed: bool
    failures: int
    sample_rows: list[tuple[Any, ...]]
    columns: list[str]
    message: str


def run_expectation(adapter: Adapter, relation: Relation, test: TestNode) -> ExpectationOutcome:
    """Validate one expectation test against `relation`; SqlflowError when it cannot be evaluated."""
    result = run_expectations(adapter, relation, [test])[0]
    if isinstance(result, SqlflowError):
        raise result
    return result


def run_expectations(
    adapter: Adapter, relation: Relation, tests: Sequence[TestNode]
) -> list[ExpectationOutcome | SqlflowError]:
    """Validate several expectation tests on one relation, reading it once per `where` and validating each
    read as one GX suite (shared metrics). Results are in the order of `tests`; a test that cannot be
    evaluated (bad arguments, a missing column, a GX error) gets its error in its place. Raises ConfigError
    when great_expectations is missing, AdapterError when the relation cannot be read."""
    if not tests:
        return []
    gx = _gx(tests[0])
    probe = adapter.fetch_arrow(f"select * from {relation_sql(relation, adapter.dialect)} limit 0")
    actual = list(probe.column_names)
    results: list[ExpectationOutcome | SqlflowError | None] = [None] * len(tests)
    groups: dict[str | None, list[_Check]] = {}
    for i, test in enumerate(tests):
        try:
            check = _prepare(gx, test, actual, adapter.case_insensitive_identifiers, i)
        except SqlflowError as exc:
            results[i] = exc
            continue
        if check.need is SCHEMA_ONLY:
            _validate(gx, probe, [check], results)
        elif test.test_name == ROWS_QUERY:
            try:
                results[i] = _rows_query(adapter, relation, check)
            except SqlflowError as exc:  # the query's own error, e.g. a typo in a column name
                results[i] = exc
        else:
            groups.setdefault(test.config.where, []).append(check)
    for where, checks in groups.items():
        _validate(gx, _read(adapter, relation, where, checks), checks, results)
    return [r if r is not None else NodeFailedError("expectation not evaluated") for r in results]


def expectation_names() -> list[str]:
    """Every expectation GX has registered (core ones and any the process imported)."""
    return sorted(_gx(None).registry.list_registered_expectation_implementations())


# -- preparing one check ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Check:
    test: TestNode
    index: int
    expectation: Any  # a GX Expectation
    need: Any  # a tuple of column names, _ALL, SCHEMA_ONLY or COUNT_ONLY
    columns: list[str]  # the columns its samples show


def _prepare(gx: _Gx, test: TestNode, actual: list[str], fold: bool, index: int) -> _Check:
    name = _registered_name(gx, test)
    if name in SQL_ONLY:
        raise _config_error(
            test,
            f"expectation '{name}' on {_model(test)} runs only on a SQL datasource",
            hint="sqlflow validates through pandas; write a SQL test or an unexpected_rows_expectation",
        )
    cls = gx.registry.get_expectation_impl(name)
    fields = getattr(cls, "__fields__", {})
    kwargs = dict(test.kwargs)
    if test.column_name and "column" in fields and "column" not in kwargs:
        kwargs["column"] = test.column_name
    strict = name not in SCHEMA_ONLY  # expect_column_to_exist may name a missing column: GX says it fails
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = _resolve_column(test, kwargs[key], actual, fold, strict)
    if isinstance(kwargs.get("column_list"), list | tuple):
        kwargs["column_list"] = [
            _resolve_column(test, str(c), actual, fold, strict) for c in kwargs["column_list"]
        ]
    meta = dict(kwargs.pop("meta", None) or {}) | {"sqlflow_index": index}
    try:
        expectation = cls(**kwargs, meta=meta)
    except Exception as exc:  # pydantic's ValidationError, or GX's own checks of the arguments
        message, hint = _argument_error(exc, fields)
        raise _config_error(
            test, f"bad arguments for expectation '{name}' on {_model(test)}: {message}", hint=hint
        ) from exc
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
    columns += list(kwargs.get("column_list") or ())
    need: Any
    if kwargs.get("row_condition"):
        need = _ALL  # a condition may read any column
    elif name in SCHEMA_ONLY:
        need, columns = SCHEMA_ONLY, []
    elif name in COUNT_ONLY:
        need = COUNT_ONLY
    else:
        need = tuple(columns) if columns else _ALL
    return _Check(test, index, expectation, need, columns)


def _registered_name(gx: _Gx, test: TestNode) -> str:
    """The expectation's snake_case name; ExpectColumnValuesToNotBeNull is accepted too."""
    name = test.test_name
    known = gx.registry.list_registered_expectation_implementations()
    if name in known:
        return name
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if snake in known:
        return snake
    raise _config_error(
        test,
        f"unknown expectation '{name}' on {_model(test)}",
        hint=did_you_mean(snake, known) or "see the expectation gallery of Great Expectations",
    )


def _resolve_column(test: TestNode, column: str, actual: list[str], fold: bool, strict: bool) -> str:
    """The relation's spelling of `column`; ConfigError when it has no such column and `strict`."""
    if column in actual:
        return column
    if fold:
        for name in actual:
            if name.lower() == column.lower():
                return name
    if not strict:
        return column
    raise _config_error(
        test,
        f"expectation '{test.test_name}' on {_model(test)}: no column '{column}'",
        hint=did_you_mean(column, actual) or "columns: " + ", ".join(actual),
    )


def _argument_error(exc: Exception, fields: Mapping[str, Any]) -> tuple[str, str | None]:
    """GX's complaint about an expectation's arguments on one line, and a did-you-mean for an unknown one."""
    errors_of = getattr(exc, "errors", None)  # pydantic's list of {loc, msg, type}
    errors = errors_of() if callable(errors_of) else None
    if not errors:
        return " ".join(str(exc).split()), None
    parts: dict[str, str] = {}
    hint = None
    for error in errors:
        field = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        if error.get("type") in ("value_error.extra", "extra_forbidden"):
            parts.setdefault(field, f"unknown argument '{field}'")
            hint = hint or did_you_mean(field, fields)
        else:
            parts.setdefault(field, f"{field}: {error.get('msg')}" if field else str(error.get("msg")))
    return "; ".join(parts.values()), hint


# -- reading the relation --------------------------------------------------------------------------------


def _read(adapter: Adapter, relation: Relation, where: str | None, checks: list[_Check]) -> Any:
    """One arrow table with what `checks` need: their columns, every column, or only the row count."""
    dialect = adapter.dialect
    source = relation_sql(relation, dialect) + (f" where {where}" if where else "")
    needs = [c.need for c in checks]
    if _ALL in needs:
        return adapter.fetch_arrow(f"select * from {source}")
    columns = list(dict.fromkeys(col for need in needs if isinstance(need, tuple) for col in need))
    if columns:
        return adapter.fetch_arrow(f"select {', '.join(quote(c, dialect) for c in columns)} from {source}")
    return adapter.fetch_arrow(f"select count(*) as sqlflow_row_count from {source}")


def _rows_query(adapter: Adapter, relation: Relation, check: _Check) -> ExpectationOutcome:
    """unexpected_rows_expectation in the engine: `{batch}` is the relation; every returned row fails."""
    source = relation_sql(relation, adapter.dialect)
    if check.test.config.where:
        source = f"(select * from {source} where {check.test.config.where}) as batch"
    query = str(check.expectation.unexpected_rows_query).replace("{batch}", source).strip().rstrip(";")
    _, rows = adapter.fetch(f"select count(*) from ({query}) as sqlflow_gx")
    failures = int(rows[0][0]) if rows else 0
    if not failures:
        return ExpectationOutcome(True, 0, [], [], "no unexpected rows")
    columns, sample = adapter.fetch(f"select * from ({query}) as sqlflow_gx limit {SAMPLE_ROWS}")
    noun = "row" if failures == 1 else "rows"
    return ExpectationOutcome(
        False, failures, [tuple(r) for r in sample], columns, f"{failures} unexpected {noun}"
    )


def _frame(table: Any, count_only: bool) -> Any:
    """A pandas DataFrame of an arrow table (of the row count only when `count_only`); decimals become
    floats, as GX's pandas metrics need numbers."""
    import pandas as pd
    import pyarrow as pa

    if count_only:
        return pd.DataFrame(index=pd.RangeIndex(int(table.column(0)[0].as_py() or 0)))
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table.to_pandas()


# -- validating and reading GX's results -----------------------------------------------------------------


def _validate(gx: _Gx, table: Any, checks: list[_Check], results: list[Any]) -> None:
    """Validate `checks` on one read of the relation as one batch; each result lands at its test's index."""
    integers = {f.name for f in table.schema if _is_integer(f.type)}
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
    try:
        frame = _frame(table, all(c.need is COUNT_ONLY for c in checks))
        with gx.validate_lock:  # GX's batch bookkeeping is shared by the context: one validation at a time
            batch = gx.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            if len(checks) == 1:
                found = [batch.validate(checks[0].expectation, result_format=result_format)]
            else:
                suite = gx.suite_class(name="sqlflow", expectations=[c.expectation for c in checks])
                found = list(batch.validate(suite, result_format=result_format).results)
    except Exception as exc:  # GX (or pandas) failed outside an expectation: every check of the batch fails
        for check in checks:
            results[check.index] = _not_run(check, " ".join(f"{type(exc).__name__}: {exc}".split()))
        return
    by_index = {c.index: c for c in checks}
    for result in found:
        check = by_index[int(result.expectation_config.meta["sqlflow_index"])]
        try:
            results[check.index] = _outcome(check, result, integers)
        except SqlflowError as exc:
            results[check.index] = exc


def _outcome(check: _Check, result: Any, integers: set[str]) -> ExpectationOutcome:
    error = _exception_message(result.exception_info)
    if error:
        raise _not_run(check, error)
    found: Mapping[str, Any] = result.result or {}
    passed = bool(result.success)
    if "unexpected_count" in found:
        unexpected = int(found["unexpected_count"] or 0)
        total = found.get("element_count")
        noun = "value" if unexpected == 1 else "values"
        message = f"{unexpected} unexpected {noun}" + (f" of {total}" if total is not None else "")
        if passed and unexpected:
            message += f" (within mostly={check.expectation.mostly})"
        samples = [
            _sample_row(v, check.columns, integers) for v in found.get("partial_unexpected_list") or ()
        ]
        failures = 0 if passed else max(unexpected, 1)
        return ExpectationOutcome(passed, failures, samples if failures else [], check.columns, message)
    message = f"observed value: {_plain(found['observed_value'])!r}" if "observed_value" in found else ""
    details = (found.get("details") or {}).get("mismatched")
    if details:
        message += f"; mismatched: {_plain(details)!r}"
    message = message or ("passed" if passed else "failed")
    if not passed:
        expected = {k: v for k, v in check.test.kwargs.items() if k not in _NOT_EXPECTED}
        if expected:
            message += " (expected " + ", ".join(f"{k}={v!r}" for k, v in expected.items()) + ")"
    return ExpectationOutcome(passed, 0 if passed else 1, [], [], message)


def _not_run(check: _Check, error: str) -> NodeFailedError:
    return NodeFailedError(
        f"expectation '{check.test.test_name}' on {_model(check.test)} could not run: {error}",
        location=_location(check.test),
    )


def _exception_message(info: Any) -> str | None:
    """GX's error message from a result's exception_info (flat, or keyed by metric)."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("raised_exception"):
            return " ".join(str(entry.get("exception_message") or "error").split())
    return None


def _sample_row(value: Any, columns: list[str], integers: set[str]) -> tuple[Any, ...]:
    """A partial_unexpected_list entry (a value, a pair, or a {column: value} dict) as a row of `columns`."""
    if isinstance(value, Mapping):
        values = [value.get(c) for c in columns]
    elif isinstance(value, tuple | list) and len(columns) > 1:
        values = list(value)
    else:
        values = [value]
    return tuple(_plain(v, integer=c in integers) for c, v in zip(columns, values, strict=False))


def _plain(value: Any, *, integer: bool = False) -> Any:
    """A plain Python value: numpy and pandas scalars unwrapped, NaN/NaT as None, and integers that pandas
    turned into floats (a column with nulls) as integers again."""
    import numpy as np
    import pandas as pd

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_integer(arrow_type: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(arrow_type))


# -- the process's GX context ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Gx:
    registry: Any  # great_expectations.expectations.registry
    batch_definition: Any  # whole-dataframe batch definition of the "sqlflow" pandas data source
    suite_class: Any
    validate_lock: threading.Lock


_STATE: _Gx | None = None
_STATE_LOCK = threading.Lock()


def _gx(test: TestNode | None) -> _Gx:
    """The process's GX context and pandas data source, made on first use (thread-safe)."""
    global _STATE
    if _STATE is not None:
        return _STATE
    with _STATE_LOCK:
        if _STATE is None:
            _STATE = _open_gx(test)
        return _STATE


def _open_gx(test: TestNode | None) -> _Gx:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        import great_expectations as gx
        from great_expectations.core import ExpectationSuite
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.expectations import registry
    except ImportError as exc:
        what = f"expectation '{test.test_name}' on {_model(test)}" if test else "this"
        message = f"{what} needs Great Expectations"
        if (exc.name or "").split(".")[0] != "great_expectations":  # installed, but a dependency is broken
            message += f", which failed to import ({exc})"
        raise ConfigError(message, location=_location(test) if test else None, hint=INSTALL_HINT) from exc
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    registry.register_core_expectations()
    source = context.data_sources.add_pandas("sqlflow")
    batch_definition = source.add_dataframe_asset("relation").add_batch_definition_whole_dataframe("whole")
    return _Gx(registry, batch_definition, ExpectationSuite, threading.Lock())


# -- names for messages ----------------------------------------------------------------------------------


def _model(test: TestNode | None) -> str:
    """The tested model's name: "orders" for model.shop.orders, "raw.orders" for source.shop.raw.orders."""
    if test is None or not test.attached_node:
        return "its relation"
    parts = test.attached_node.split(".")
    return ".".join(parts[2:]) if parts[0] == "source" else parts[-1]


def _location(test: TestNode) -> SourceLocation | None:
    return SourceLocation(test.path, test.line) if test.path else None


def _config_error(test: TestNode, message: str, *, hint: str | None = None) -> ConfigError:
    return ConfigError(message, location=_location(test), hint=hint)


__all__ = ["ExpectationOutcome", "expectation_names", "run_expectation", "run_expectations"]
