"""view, table, seed and incremental on a real DuckDB file: results, atomicity, hooks, strategies."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from sqlflow.adapters import Adapter
from sqlflow.adapters.duckdb import DuckDBAdapter
from sqlflow.errors import AdapterError, NodeFailedError
from sqlflow.materializations import materialize

from .helpers import context, duckdb_target, make_model, rows


class SwapAdapter(DuckDBAdapter):
    """DuckDB driven the way engines without an atomic CREATE OR REPLACE TABLE are: build aside and swap."""

    replace_table_atomically: ClassVar[bool] = False


class NoMergeAdapter(DuckDBAdapter):
    """DuckDB driven the way engines without MERGE are: UPDATE ... FROM, then INSERT the new keys."""

    supports_merge: ClassVar[bool] = False


@pytest.fixture(params=["atomic-replace", "swap"])
def table_adapter(request: pytest.FixtureRequest, db_path: Path, adapter: Adapter):
    if request.param == "atomic-replace":
        yield adapter
        return
    adapter.close()
    swap = SwapAdapter(duckdb_target(db_path))
    yield swap
    swap.close()


def relation_types(adapter: Adapter) -> dict[str, str]:
    return {name: kind for (_, name), kind in adapter.list_relations().relations.items()}


# -- view -------------------------------------------------------------------------------------------------


def test_view_is_created_and_replaced(adapter: Adapter, tmp_path: Path) -> None:
    result = materialize(make_model("v", "select 1 as x", materialized="view"), context(adapter, tmp_path))
    assert result.message == "CREATE VIEW" and result.rows_affected is None
    materialize(make_model("v", "select 2 as x, 3 as y", materialized="view"), context(adapter, tmp_path))
    assert rows(adapter, 'select * from "main"."v"') == [(2, 3)]
    assert relation_types(adapter) == {"v": "view"}


def test_view_replaces_a_table_of_the_same_name(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute("create table main.v as select 1 as x")
    materialize(make_model("v", "select 5 as x", materialized="view"), context(adapter, tmp_path))
    assert relation_types(adapter) == {"v": "view"}
    assert rows(adapter, "select * from main.v") == [(5,)]


def test_failing_view_leaves_the_table_it_would_replace(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute("create table main.v as select 1 as x")
    with pytest.raises(AdapterError, match=r"^Catalog Error: Table with name missing does not exist!$"):
        materialize(make_model("v", "select * from missing", materialized="view"), context(adapter, tmp_path))
    assert relation_types(adapter) == {"v": "table"}
    assert rows(adapter, "select * from main.v") == [(1,)]


# -- table ------------------------------------------------------------------------------------------------


def test_table_is_built_and_rebuilt(table_adapter: Adapter, tmp_path: Path) -> None:
    model = make_model("t", "select * from range(3) r(id)")
    result = materialize(model, context(table_adapter, tmp_path))
    assert (result.rows_affected, result.message) == (3, "CREATE TABLE 3")
    result = materialize(make_model("t", "select * from range(5) r(id)"), context(table_adapter, tmp_path))
    assert result.rows_affected == 5
    assert rows(table_adapter, "select count(*) from main.t") == [(5,)]
    assert relation_types(table_adapter) == {"t": "table"}  # nothing left aside


def test_failing_table_leaves_the_old_table_and_its_rows(table_adapter: Adapter, tmp_path: Path) -> None:
    materialize(make_model("t", "select 1 as id, 'old' as v"), context(table_adapter, tmp_path))
    broken = make_model("t", "select 2 as id, cast('x' as integer) as v")
    with pytest.raises(AdapterError, match=r"^Conversion Error: Could not convert string 'x' to INT32$"):
        materialize(broken, context(table_adapter, tmp_path))
    assert rows(table_adapter, "select * from main.t") == [(1, "old")]
    assert relation_types(table_adapter) == {"t": "table"}


def test_table_replaces_a_view(table_adapter: Adapter, tmp_path: Path) -> None:
    table_adapter.execute("create view main.t as select 1 as x")
    materialize(make_model("t", "select 2 as x"), context(table_adapter, tmp_path))
    assert relation_types(table_adapter) == {"t": "table"}
    assert rows(table_adapter, "select * from main.t") == [(2,)]


def test_failing_table_leaves_the_view_it_would_replace(table_adapter: Adapter, tmp_path: Path) -> None:
    table_adapter.execute("create view main.t as select 1 as x")
    with pytest.raises(AdapterError):
        materialize(make_model("t", "select 1 / 0 as x, cast('x' as int)"), context(table_adapter, tmp_path))
    assert relation_types(table_adapter) == {"t": "view"}


def test_table_in_a_custom_schema_with_odd_names(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute('create schema "Odd Schema"')
    model = make_model('we"ird', "select 1 as x", schema="Odd Schema")
    materialize(model, context(adapter, tmp_path))
    assert rows(adapter, 'select x from "Odd Schema"."we""ird"') == [(1,)]


def test_hooks_run_in_the_same_transaction(table_adapter: Adapter, tmp_path: Path) -> None:
    table_adapter.execute("create table main.audit (what varchar)")
    model = make_model(
        "t",
        "select 1 as id",
        pre_hook=("insert into main.audit values ('pre')",),
        post_hook=("insert into main.audit select 'post ' || count(*) from main.t",),
    )
    materialize(model, context(table_adapter, tmp_path))
    assert rows(table_adapter, "select * from main.audit") == [("pre",), ("post 1",)]
    failing = make_model(
        "t",
        "select 2 as id",
        pre_hook=("insert into main.audit values ('pre again')",),
        post_hook=("select * from no_such_table",),
    )
    with pytest.raises(AdapterError, match="no_such_table"):
        materialize(failing, context(table_adapter, tmp_path))
    # the failing post-hook rolled back the pre-hook and the new table
    assert rows(table_adapter, "select * from main.audit") == [("pre",), ("post 1",)]
    assert rows(table_adapter, "select * from main.t") == [(1,)]


def test_ephemeral_runs_nothing(adapter: Adapter, tmp_path: Path) -> None:
    result = materialize(make_model("e", "select 1", materialized="ephemeral"), context(adapter, tmp_path))
    assert result.rows_affected is None
    assert relation_types(adapter) == {}


def test_unknown_materialization_suggests(adapter: Adapter, tmp_path: Path) -> None:
    with pytest.raises(NodeFailedError, match="unknown materialization 'tabel'") as err:
        materialize(make_model("t", "select 1", materialized="tabel"), context(adapter, tmp_path))
    assert err.value.hint == "did you mean 'table'?"


# -- seed -------------------------------------------------------------------------------------------------


def write_seed(root: Path, name: str, text: str) -> str:
    path = root / "seeds" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return f"seeds/{name}.csv"


def test_seed_loads_csv_with_column_types(table_adapter: Adapter, tmp_path: Path) -> None:
    path = write_seed(tmp_path, "codes", "code,amount,label\n001,10,a\n002,20,b\n003,30,c\n")
    seed = make_model(
        "codes", "", resource_type="seed", materialized="seed", path=path, column_types={"code": "varchar"}
    )
    result = materialize(seed, context(table_adapter, tmp_path))
    assert (result.rows_affected, result.message) == (3, "INSERT 3")
    assert rows(table_adapter, "select code, amount from main.codes order by code") == [
        ("001", 10),
        ("002", 20),
        ("003", 30),
    ]
    types = rows(
        table_adapter,
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'codes' order by ordinal_position",
    )
    # whole numbers are INTEGER, as dbt (agate) types them
    assert types == [("code", "VARCHAR"), ("amount", "INTEGER"), ("label", "VARCHAR")]
    # reloading replaces the rows
    write_seed(tmp_path, "codes", "code,amount,label\n004,40,d\n")
    assert materialize(seed, context(table_adapter, tmp_path)).rows_affected == 1
    assert rows(table_adapter, "select code from main.codes") == [("004",)]


def test_seed_with_delimiter(adapter: Adapter, tmp_path: Path) -> None:
    path = write_seed(tmp_path, "semi", "a;b\n1;x\n2;y\n")
    seed = make_model("semi", "", resource_type="seed", materialized="seed", path=path, delimiter=";")
    materialize(seed, context(adapter, tmp_path))
    assert rows(adapter, "select a, b from main.semi order by a") == [(1, "x"), (2, "y")]


def test_missing_seed_file(adapter: Adapter, tmp_path: Path) -> None:
    seed = make_model("gone", "", resource_type="seed", materialized="seed", path="seeds/gone.csv")
    with pytest.raises(NodeFailedError, match=r"seed file seeds/gone\.csv not found"):
        materialize(seed, context(adapter, tmp_path))


# -- incremental ------------------------------------------------------------------------------------------

SOURCE = "create or replace table main.src as select * from (values {}) v(id, name, amount)"


def incremental(**config: object):
    return make_model(
        "inc",
        "select id, name, amount from main.src",
        materialized="incremental",
        incremental_sql="select id, name, amount from main.src where id >= 2",
        **config,
    )


def load_source(adapter: Adapter, values: str) -> None:
    adapter.execute(SOURCE.format(values))


def test_incremental_first_run_builds_the_table(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10), (2, 'b', 20)")
    result = materialize(incremental(), context(adapter, tmp_path))
    assert (result.rows_affected, result.message) == (2, "CREATE TABLE 2")


def test_incremental_append(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10), (2, 'b', 20)")
    materialize(incremental(), context(adapter, tmp_path))
    result = materialize(incremental(), context(adapter, tmp_path))
    assert (result.rows_affected, result.message) == (1, "APPEND 1")
    assert rows(adapter, "select id, name from main.inc order by id") == [(1, "a"), (2, "b"), (2, "b")]


@pytest.mark.parametrize("strategy_adapter", [DuckDBAdapter, NoMergeAdapter])
def test_incremental_merge(strategy_adapter: type[DuckDBAdapter], db_path: Path, tmp_path: Path) -> None:
    adapter = strategy_adapter(duckdb_target(db_path))
    try:
        load_source(adapter, "(1, 'a', 10), (2, 'b', 20)")
        model = incremental(unique_key=("id",))
        materialize(model, context(adapter, tmp_path))
        load_source(adapter, "(1, 'A', 11), (2, 'B', 21), (3, 'c', 30)")
        result = materialize(model, context(adapter, tmp_path))
        assert (result.rows_affected, result.message) == (2, "MERGE 2")  # id 2 updated, id 3 inserted
        assert rows(adapter, "select * from main.inc order by id") == [
            (1, "a", 10),
            (2, "B", 21),
            (3, "c", 30),
        ]
    finally:
        adapter.close()


def test_incremental_delete_insert(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10), (2, 'b', 20), (2, 'b2', 22)")
    model = incremental(unique_key=("id",), incremental_strategy="delete+insert")
    materialize(model, context(adapter, tmp_path))
    load_source(adapter, "(2, 'B', 21), (3, 'c', 30)")
    result = materialize(model, context(adapter, tmp_path))
    assert (result.rows_affected, result.message) == (2, "DELETE+INSERT 2")
    assert rows(adapter, "select id, name from main.inc order by id") == [(1, "a"), (2, "B"), (3, "c")]


def test_incremental_matches_columns_by_name(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10)")
    materialize(incremental(), context(adapter, tmp_path))
    reordered = make_model(
        "inc",
        "",
        materialized="incremental",
        incremental_sql="select 99 as extra, 5 as amount, 'z' as NAME, 7 as id",
        on_schema_change="ignore",
    )
    materialize(reordered, context(adapter, tmp_path))
    assert rows(adapter, "select * from main.inc order by id") == [(1, "a", 10), (7, "z", 5)]


def test_incremental_on_schema_change_fail(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10)")
    materialize(incremental(), context(adapter, tmp_path))
    changed = make_model(
        "inc",
        "",
        materialized="incremental",
        incremental_sql="select 1 as id, 'x' as name",
        on_schema_change="fail",
    )
    with pytest.raises(NodeFailedError, match=r"the columns of inc changed \(new: -; gone: amount\)"):
        materialize(changed, context(adapter, tmp_path))
    assert rows(adapter, "select count(*) from main.inc") == [(1,)]


def test_incremental_full_refresh_flag_and_config(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10), (2, 'b', 20)")
    materialize(incremental(), context(adapter, tmp_path))
    materialize(incremental(), context(adapter, tmp_path))
    assert rows(adapter, "select count(*) from main.inc") == [(3,)]
    result = materialize(incremental(), context(adapter, tmp_path, full_refresh=True))
    assert result.message == "CREATE TABLE 2"
    assert rows(adapter, "select count(*) from main.inc") == [(2,)]
    # full_refresh: true in the config rebuilds every time; false protects the table from the flag
    assert materialize(incremental(full_refresh=True), context(adapter, tmp_path)).message == "CREATE TABLE 2"
    protected = materialize(incremental(full_refresh=False), context(adapter, tmp_path, full_refresh=True))
    assert protected.message == "APPEND 1"


def test_incremental_strategy_needs_unique_key(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10)")
    materialize(incremental(), context(adapter, tmp_path))
    with pytest.raises(NodeFailedError, match="incremental_strategy 'merge' of inc needs a unique_key"):
        materialize(incremental(incremental_strategy="merge"), context(adapter, tmp_path))
    with pytest.raises(NodeFailedError, match="unknown incremental_strategy 'merg'") as err:
        materialize(incremental(incremental_strategy="merg", unique_key=("id",)), context(adapter, tmp_path))
    assert err.value.hint == "did you mean 'merge'?"


def test_failing_incremental_leaves_the_table(adapter: Adapter, tmp_path: Path) -> None:
    load_source(adapter, "(1, 'a', 10)")
    materialize(incremental(), context(adapter, tmp_path))
    broken = make_model(
        "inc",
        "",
        materialized="incremental",
        incremental_sql="select 2 as id, 'b' as name, 20 as amount",
        post_hook=("select cast('x' as integer)",),
    )
    with pytest.raises(AdapterError, match="Conversion Error"):
        materialize(broken, context(adapter, tmp_path))
    assert rows(adapter, "select id from main.inc") == [(1,)]
