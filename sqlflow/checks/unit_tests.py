"""Running one dbt unit test: fixtures cast to the column types of the real input relations (as dbt reads
them from the database), the model's output compared with `expect`, and a message showing each differing
row: `+` a row the model returned that `expect` lacks, `-` an expected row it did not return.

The SQL is built by `sqlflow.compile.nodes.unit_tests` from the parts the compiler kept in the test's kwargs.
As in dbt, a given input whose relation does not exist yet (build its parents first) is an error. Imports
no driver and nothing above `adapters` but that module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.compile.nodes.unit_tests import DIFF_COLUMN, actual_sql, quote, unit_test_sql
from sqlflow.engines import for_dialect
from sqlflow.errors import NodeFailedError, SqlflowError
from sqlflow.manifest import TestNode

SHOWN_ROWS = 20  # differing rows spelt out in the message


def run_unit_test(test: TestNode, adapter: Adapter, outcome: Any) -> Any:
    """Run `test` on `adapter`; `outcome(status, failures, message, sample)` builds the TestOutcome."""
    kwargs = test.kwargs
    fixture_types: dict[str, dict[str, str]] = {}
    for fixture in kwargs["fixtures"]:
        if fixture["format"] == "sql" or not fixture.get("relation"):
            continue
        fixture_types[fixture["cte"]] = _column_types(
            adapter,
            f"select * from {fixture['relation']}",
            what=f"{fixture['input']} ({fixture['relation']})",
        )
    actual_types = _column_types(adapter, actual_sql(kwargs, fixture_types), what=f"model {kwargs['model']}")
    expected = [c.lower() for c in kwargs["expect"]["columns"]]
    missing = [c for c in expected if c not in actual_types]
    if missing:
        raise NodeFailedError(
            f"unit test {test.name}: expect names column '{missing[0]}', which model {kwargs['model']} "
            f"does not return",
            hint="its columns: " + ", ".join(actual_types),
        )
    sql = unit_test_sql(kwargs, fixture_types, actual_types)
    columns, rows = adapter.fetch(sql)
    if not rows:
        return outcome("pass", 0, None, ())
    sample = tuple(dict(zip(columns, row, strict=False)) for row in rows)
    return outcome("fail", len(rows), describe_diff(columns, rows), sample[:5])


def describe_diff(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The message of a failed unit test: one line per differing row.

    >>> print(describe_diff(["diff", "id", "n"], [("+", 1, 3), ("-", 1, 2)]))
    actual differs from expected: 1 unexpected row, 1 missing row
      - expected {id: 1, n: 2}
      + actual   {id: 1, n: 3}
    """
    plus = [r for r in rows if r[0] == "+"]
    minus = [r for r in rows if r[0] == "-"]
    counts = [
        f"{len(plus)} unexpected row{'s' * (len(plus) != 1)}",
        f"{len(minus)} missing row{'s' * (len(minus) != 1)}",
    ]
    lines = ["actual differs from expected: " + ", ".join(c for c in counts if not c.startswith("0 "))]
    names = [c for c in columns if c != DIFF_COLUMN]
    shown = sorted(rows, key=lambda r: (tuple(_sortable(v) for v in r[1:]), r[0] == "+"))
    for row in shown[:SHOWN_ROWS]:
        values = ", ".join(f"{n}: {_show(v)}" for n, v in zip(names, row[1:], strict=False))
        lines.append(("  - expected " if row[0] == "-" else "  + actual   ") + "{" + values + "}")
    if len(rows) > SHOWN_ROWS:
        lines.append(f"  ... and {len(rows) - SHOWN_ROWS} more")
    return "\n".join(lines)


def _sortable(value: Any) -> tuple[int, str]:
    return (value is None, str(value))


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _column_types(adapter: Adapter, query: str, *, what: str) -> dict[str, str]:
    """lower-case column name -> type of what `query` returns, read without fetching a row."""
    try:
        names, _ = adapter.fetch(f"select * from (\n{query}\n) as sqlflow_columns limit 0")
    except SqlflowError as exc:
        raise NodeFailedError(
            f"cannot read the columns of {what}: {exc.message}",
            hint="a unit test reads the column types of its inputs: build the model's parents first",
        ) from exc
    if not names:
        return {}
    spec = for_dialect(adapter.dialect)
    typeof = spec.typeof_function if spec is not None else "typeof"
    listed = ", ".join(f"cast({typeof}({quote(n)}) as varchar)" for n in names)
    _, rows = adapter.fetch(
        f"select {listed} from (select 1 as sqlflow_one) as sqlflow_one "
        f"left join (select * from (\n{query}\n) as q limit 0) as sqlflow_typed on true"
    )
    types = rows[0] if rows else [None] * len(names)
    return {str(n).lower(): str(t) for n, t in zip(names, types, strict=False) if t} | {
        str(n).lower(): "varchar" for n, t in zip(names, types, strict=False) if not t
    }
