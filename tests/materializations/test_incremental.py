"""Classic incremental models on a real DuckDB file: on_schema_change, incremental_predicates, atomicity of
schema changes, and reruns that add nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from sqlflow.adapters import Adapter
from sqlflow.adapters.duckdb import DuckDBAdapter
from sqlflow.adapters.sql import merge
from sqlflow.errors import AdapterError, NodeFailedError
from sqlflow.manifest import ModelNode, Relation
from sqlflow.materializations import materialize

from .helpers import context, duckdb_target, make_model, rows


class NoMergeAdapter(DuckDBAdapter):
    """DuckDB driven the way engines without MERGE are: UPDATE ... FROM, then INSERT the new keys."""

    supports_merge: ClassVar[bool] = False


@pytest.fixture(params=["merge", "no-merge"])
def any_adapter(request: pytest.FixtureRequest, db_path: Path) -> Any:
    cls = DuckDBAdapter if request.param == "merge" else NoMergeAdapter
    adapter = cls(duckdb_target(db_path))
    yield adapter
    adapter.close()


SOURCE = "create or replace table main.src as select * from (values {}) v(id, name, amount)"


def model(incremental_sql: str, **config: Any) -> ModelNode:
    return make_model(
        "inc",
        "select id, name, amount from main.src",
        materialized="incremental",
        incremental_sql=incremental_sql,
        **config,
    )


def first_build(adapter: Adapter, tmp_path: Path) -> None:
    """main.inc holds (1, 'a', 10), (2, 'b', 20): id INTEGER, name VARCHAR, amount INTEGER."""
    adapter.execute(SOURCE.format("(1, 'a', 10), (2, 'b', 20)"))
    assert materialize(model(""), context(adapter, tmp_path)).message == "CREATE TABLE 2"


def columns(adapter: Adapter) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in rows(adapter, 'DESCRIBE "main"."inc"')]


BEFORE = [("id", "INTEGER"), ("name", "VARCHAR"), ("amount", "INTEGER")]


# -- on_schema_change -------------------------------------------------------------------------------------


def test_fail_is_the_default_and_names_the_columns(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    changed = model("select 3 as id, 'c' as name, 'x' as note", unique_key=("id",))
    with pytest.raises(
        NodeFailedError, match=r"^the columns of inc changed \(new: note; gone: amount\) \(rebuild"
    ) as err:
        materialize(changed, context(adapter, tmp_path))
    assert err.value.hint == (
        "rebuild it with --full-refresh, or set on_schema_change to ignore, append_new_columns "
        "or sync_all_columns"
    )
    assert columns(adapter) == BEFORE
    assert rows(adapter, "select * from main.inc order by id") == [(1, "a", 10), (2, "b", 20)]


def test_fail_lets_the_same_columns_through(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    # other order, other case: the same columns
    same = model("select 30 as AMOUNT, 3 as id, 'c' as name")
    assert materialize(same, context(adapter, tmp_path)).message == "APPEND 1"
    assert rows(adapter, "select * from main.inc where id = 3") == [(3, "c", 30)]


def test_ignore_loads_the_shared_columns(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    changed = model("select 2 as id, 'B' as name, 'x' as note", unique_key=("id",), on_schema_change="ignore")
    result = materialize(changed, context(adapter, tmp_path))
    assert (result.rows_affected, result.message) == (1, "MERGE 1")
    assert columns(adapter) == BEFORE
    assert rows(adapter, "select * from main.inc order by id") == [(1, "a", 10), (2, "B", 20)]


def test_append_new_columns_adds_them_typed_and_keeps_the_gone_ones(
    any_adapter: Adapter, tmp_path: Path
) -> None:
    first_build(any_adapter, tmp_path)
    changed = model(
        "select 2 as id, 'B' as name, 'x' as note, cast(1.5 as decimal(9, 2)) as rate union all "
        "select 3, 'c', 'y', 2.25",
        unique_key=("id",),
        on_schema_change="append_new_columns",
    )
    result = materialize(changed, context(any_adapter, tmp_path))
    assert (result.rows_affected, result.message) == (2, "MERGE 2 (added: note, rate)")
    assert columns(any_adapter) == [*BEFORE, ("note", "VARCHAR"), ("rate", "DECIMAL(9,2)")]
    assert rows(
        any_adapter, "select id, name, amount, note, cast(rate as varchar) from main.inc order by id"
    ) == [
        (1, "a", 10, None, None),
        (2, "B", 20, "x", "1.50"),  # amount is gone from the model: a matched row keeps its value
        (3, "c", None, "y", "2.25"),  # a new row gets NULL in the gone column
    ]


def test_sync_all_columns_adds_drops_and_retypes_and_says_so(any_adapter: Adapter, tmp_path: Path) -> None:
    first_build(any_adapter, tmp_path)
    changed = model(
        "select 2 as id, cast(200 as bigint) as amount, 'x' as note union all select 3, 300, 'y'",
        unique_key=("id",),
        on_schema_change="sync_all_columns",
    )
    result = materialize(changed, context(any_adapter, tmp_path))
    assert result.message == "MERGE 2 (added: note; dropped: name; retyped: amount INTEGER -> BIGINT)"
    assert columns(any_adapter) == [("id", "INTEGER"), ("amount", "BIGINT"), ("note", "VARCHAR")]
    assert rows(any_adapter, "select * from main.inc order by id") == [
        (1, 10, None),
        (2, 200, "x"),
        (3, 300, "y"),
    ]


def test_sync_all_columns_without_a_change_says_nothing(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    same = model("select 3 as id, 'c' as name, 30 as amount", on_schema_change="sync_all_columns")
    assert materialize(same, context(adapter, tmp_path)).message == "APPEND 1"
    assert columns(adapter) == BEFORE


def test_sync_all_columns_refuses_to_drop_the_unique_key(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    keyless = model(
        "select 'c' as name, 30 as amount", unique_key=("id",), on_schema_change="sync_all_columns"
    )
    with pytest.raises(NodeFailedError, match="unique_key 'id' of inc is not a column of both"):
        materialize(keyless, context(adapter, tmp_path))
    assert columns(adapter) == BEFORE


def test_unknown_on_schema_change(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    with pytest.raises(NodeFailedError, match="unknown on_schema_change 'append_new_column' for inc") as err:
        materialize(model("select 1 as id", on_schema_change="append_new_column"), context(adapter, tmp_path))
    assert err.value.hint == "did you mean 'append_new_columns'?"


# -- atomicity --------------------------------------------------------------------------------------------


def test_a_failing_schema_change_leaves_the_table(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    # amount is dropped first, then name's 'a' cannot become an INTEGER: the drop is rolled back too
    bad_type = model("select 3 as id, 5 as name, 'x' as note", on_schema_change="sync_all_columns")
    with pytest.raises(AdapterError, match="Conversion Error"):
        materialize(bad_type, context(adapter, tmp_path))
    assert columns(adapter) == BEFORE
    assert rows(adapter, "select * from main.inc order by id") == [(1, "a", 10), (2, "b", 20)]


def test_a_failing_insert_takes_the_new_columns_back(adapter: Adapter, tmp_path: Path) -> None:
    first_build(adapter, tmp_path)
    # the column is added, then 'oops' cannot go into the INTEGER amount
    changed = model(
        "select 3 as id, 'c' as name, 'oops' as amount, 'x' as note", on_schema_change="append_new_columns"
    )
    with pytest.raises(AdapterError, match="Conversion Error"):
        materialize(changed, context(adapter, tmp_path))
    assert columns(adapter) == BEFORE
    assert rows(adapter, "select * from main.inc order by id") == [(1, "a", 10), (2, "b", 20)]


# -- incremental_predicates -------------------------------------------------------------------------------

DAYS = "create or replace table main.src as select * from (values {}) v(id, day, amount)"


def by_day(strategy: str, *predicates: str) -> ModelNode:
    return make_model(
        "inc",
        "select id, day, amount from main.src",
        materialized="incremental",
        incremental_sql="select id, day, amount from main.src where day >= 3",
        unique_key=("id",),
        incremental_strategy=strategy,
        incremental_predicates=predicates,
    )


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_predicates_leave_the_rows_outside_them_alone(
    any_adapter: Adapter, tmp_path: Path, strategy: str
) -> None:
    any_adapter.execute(DAYS.format("(1, 1, 10), (2, 2, 20), (3, 3, 30), (4, 4, 40)"))
    materialize(by_day(strategy), context(any_adapter, tmp_path))
    # id 1 moved to day 5: its old row (day 1) lies outside the predicate, so it is neither updated nor
    # deleted, and the new row is inserted beside it (as in dbt); id 3 is inside and replaced
    any_adapter.execute(DAYS.format("(1, 5, 11), (3, 3, 33), (5, 5, 50)"))
    model = by_day(strategy, "DBT_INTERNAL_DEST.day >= 3", "DBT_INTERNAL_SOURCE.day >= 3")
    result = materialize(model, context(any_adapter, tmp_path))
    assert result.rows_affected == 3
    assert rows(any_adapter, "select * from main.inc order by id, day") == [
        (1, 1, 10),
        (1, 5, 11),
        (2, 2, 20),
        (3, 3, 33),
        (4, 4, 40),
        (5, 5, 50),
    ]


def test_without_predicates_the_same_rows_are_replaced(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute(DAYS.format("(1, 1, 10), (2, 2, 20)"))
    materialize(by_day("merge"), context(adapter, tmp_path))
    adapter.execute(DAYS.format("(1, 5, 11)"))
    materialize(by_day("merge"), context(adapter, tmp_path))
    assert rows(adapter, "select * from main.inc order by id") == [(1, 5, 11), (2, 2, 20)]


def test_predicates_join_the_on_clause() -> None:
    rel = Relation(database=None, schema="main", identifier="t")
    sql = merge(
        rel,
        "s",
        [("id", "id"), ("x", "x")],
        [("id", "id")],
        "duckdb",
        predicates=("DBT_INTERNAL_DEST.d > 1",),
    )
    assert sql.startswith(
        'MERGE INTO "main"."t" AS DBT_INTERNAL_DEST USING "s" AS DBT_INTERNAL_SOURCE ON '
        'DBT_INTERNAL_SOURCE."id" = DBT_INTERNAL_DEST."id" AND (DBT_INTERNAL_DEST.d > 1) WHEN MATCHED'
    )


# -- reruns -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_a_rerun_on_the_same_input_adds_nothing(any_adapter: Adapter, tmp_path: Path, strategy: str) -> None:
    filtered = make_model(
        "inc",
        "select id, name, amount from main.src",
        materialized="incremental",
        incremental_sql="select id, name, amount from main.src "
        "where id > (select coalesce(max(id), 0) from main.inc)",
        unique_key=("id",),
        incremental_strategy=strategy,
    )
    any_adapter.execute(SOURCE.format("(1, 'a', 10), (2, 'b', 20)"))
    materialize(filtered, context(any_adapter, tmp_path))
    any_adapter.execute(SOURCE.format("(1, 'a', 10), (2, 'b', 20), (3, 'c', 30)"))
    first = materialize(filtered, context(any_adapter, tmp_path))
    assert first.rows_affected == 1
    content = rows(any_adapter, "select * from main.inc order by id")
    again = materialize(filtered, context(any_adapter, tmp_path))
    assert (again.rows_affected, again.message) == (0, f"{strategy.upper()} 0")
    assert (
        rows(any_adapter, "select * from main.inc order by id")
        == content
        == [
            (1, "a", 10),
            (2, "b", 20),
            (3, "c", 30),
        ]
    )
