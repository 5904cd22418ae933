"""What write-audit-publish relies on, checked on a real DuckDB file: DDL and DML inside BEGIN .. ROLLBACK
leave the previous table contents, view definitions and catalog exactly as they were; and load_arrow."""

from __future__ import annotations

from typing import Any

import pytest

from sqlflow.adapters import Adapter
from sqlflow.manifest import Relation


class Rollback(Exception):
    pass


def snapshot(adapter: Adapter) -> dict[str, Any]:
    """Everything a rollback must restore: relations, their kinds, columns, rows, view SQL."""
    catalog = adapter.list_relations()
    state: dict[str, Any] = {
        "schemas": sorted(catalog.schemas),
        "relations": sorted(catalog.relations.items()),
    }
    for (schema, name), _ in sorted(catalog.relations.items()):
        columns, rows = adapter.fetch(f'select * from "{schema}"."{name}" order by all')
        state[f"{schema}.{name}"] = (columns, rows)
    views = "select view_name, sql from duckdb_views() where not internal order by 1"
    state["views"] = adapter.fetch(views)[1]
    state["types"] = adapter.fetch(
        "select table_name, column_name, data_type from information_schema.columns order by all"
    )[1]
    return state


def rolled_back(adapter: Adapter, *statements: str) -> None:
    """Run statements in a transaction, check they took effect inside it, then roll back."""
    with pytest.raises(Rollback), adapter.transaction():
        for sql in statements:
            adapter.execute(sql)
        raise Rollback


@pytest.fixture
def db(adapter: Adapter) -> Adapter:
    adapter.execute("create table orders as select * from (values (1, 'a', 10.5), (2, 'b', 3.0)) t(id, s, x)")
    adapter.execute("create view recent as select id, s from orders where id > 1")
    adapter.execute("create view will_be_table as select 1 as q")
    adapter.execute("create table will_be_view as select 7 as q")
    return adapter


def test_create_or_replace_table_rolls_back_to_the_old_rows_and_columns(db: Adapter) -> None:
    before = snapshot(db)
    with pytest.raises(Rollback), db.transaction():
        db.execute("create or replace table orders as select 9 as other, 'z' as s")
        assert db.fetch("select * from orders")[1] == [(9, "z")]  # the staged data, seen by this session
        raise Rollback
    assert snapshot(db) == before


def test_incremental_merge_and_delete_insert_roll_back(db: Adapter) -> None:
    before = snapshot(db)
    rolled_back(
        db,
        "create temporary table orders__sqlflow_incr as "
        "select * from (values (2, 'B', 4.0), (3, 'c', 1.0)) t(id, s, x)",
        "merge into orders as t using orders__sqlflow_incr as s on s.id = t.id "
        "when matched then update set s = s.s, x = s.x when not matched then insert values (s.id, s.s, s.x)",
        "delete from orders where id = 1",
        "insert into orders select * from orders__sqlflow_incr",
        "drop table orders__sqlflow_incr",
    )
    assert snapshot(db) == before


def test_create_or_replace_view_rolls_back_to_the_old_definition(db: Adapter) -> None:
    before = snapshot(db)
    with pytest.raises(Rollback), db.transaction():
        db.execute("create or replace view recent as select id, s, x, 'new' as extra from orders")
        assert db.fetch("select * from recent")[0] == ["id", "s", "x", "extra"]
        raise Rollback
    assert snapshot(db) == before
    assert db.fetch("select * from recent")[0] == ["id", "s"]


def test_swapping_kinds_new_schemas_and_new_tables_roll_back(db: Adapter) -> None:
    before = snapshot(db)
    rolled_back(
        db,
        'drop view if exists "main"."will_be_table"',
        'create table "main"."will_be_table" as select 2 as q',
        'drop table if exists "main"."will_be_view"',
        'create view "main"."will_be_view" as select 8 as q',
        "create schema if not exists staging",
        "create table staging.brand_new as select 1 as x",
        "create table orders__sqlflow_tmp as select 1 as x",
    )
    assert snapshot(db) == before


def test_rollback_after_an_engine_error_keeps_the_old_state(db: Adapter) -> None:
    before = snapshot(db)
    with pytest.raises(Exception, match="Conversion Error"), db.transaction():
        db.execute("create or replace table orders as select 1 as id")
        db.execute("select cast('x' as integer)")
    assert snapshot(db) == before


def test_load_arrow_replaces_a_table_with_an_arrow_table(db: Adapter) -> None:
    data = db.fetch_arrow("select id, s from orders order by id")
    db.execute("create schema audit")
    rel = Relation(database=None, schema="audit", identifier="kept rows")
    assert db.load_arrow(rel, data) == 2
    assert db.load_arrow(rel, data) == 2  # replaced, not appended
    assert db.fetch('select * from audit."kept rows" order by id')[1] == [(1, "a"), (2, "b")]
    # the registered view of the arrow table does not outlive the call
    assert "sqlflow_arrow" not in str(db.fetch("select view_name from duckdb_views()")[1])
