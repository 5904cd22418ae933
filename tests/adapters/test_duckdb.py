"""The DuckDB adapter on real files: statements, catalog, transactions, threads, errors, lazy loading."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.errors import AdapterError, ConfigError
from sqlflow.manifest import Relation

from .helpers import duckdb_target


def rel(name: str, schema: str = "main") -> Relation:
    return Relation(database="db", schema=schema, identifier=name)


def test_execute_reports_rows_and_fetch_returns_columns(adapter: Adapter, db_path: Path) -> None:
    assert db_path.exists()  # the folder was created
    assert adapter.execute("create table t as select * from range(4) r(id)") == 4
    assert adapter.execute("create view v as select * from t") is None
    assert adapter.execute("insert into t values (9), (10)") == 2
    assert adapter.execute("delete from t where id > 8") == 2
    assert adapter.fetch("select id, id * 2 as twice from t where id < 2 order by id") == (
        ["id", "twice"],
        [(0, 0), (1, 2)],
    )
    table = adapter.fetch_arrow("select id from t order by id")
    assert table.column_names == ["id"] and table.num_rows == 4


def test_catalog(adapter: Adapter) -> None:
    adapter.execute("create schema staging")
    adapter.execute("create table staging.t as select 1 as x")
    adapter.execute("create view main.v as select 1 as x")
    catalog = adapter.list_relations()
    assert {"main", "staging"} <= catalog.schemas
    assert dict(catalog.relations) == {("staging", "t"): "table", ("main", "v"): "view"}
    assert adapter.relation_type(rel("t", "staging")) == "table"
    assert adapter.relation_type(rel("V", "MAIN")) == "view"  # DuckDB folds case
    assert adapter.relation_type(rel("nope")) is None
    assert adapter.relation_exists(rel("v")) and not adapter.relation_exists(rel("t"))


def test_engine_errors_keep_the_first_line(adapter: Adapter) -> None:
    with pytest.raises(AdapterError) as err:
        adapter.execute("select * from missing_table")
    assert str(err.value) == "Catalog Error: Table with name missing_table does not exist!"
    assert err.value.__cause__ is not None  # the engine's error, with its full text
    with pytest.raises(AdapterError, match=r'^Parser Error: syntax error at or near "selec"$'):
        adapter.fetch("selec 1")


def test_transaction_commits_or_rolls_back(adapter: Adapter) -> None:
    with adapter.transaction():
        adapter.execute("create table t as select 1 as x")
    with pytest.raises(AdapterError), adapter.transaction():
        adapter.execute("insert into t values (2)")
        adapter.execute("insert into t values ('not a number')")
    assert adapter.fetch("select x from t")[1] == [(1,)]
    with pytest.raises(RuntimeError), adapter.transaction():
        adapter.execute("drop table t")
        raise RuntimeError("not the engine's fault")
    assert adapter.fetch("select x from t")[1] == [(1,)]
    with adapter.transaction():  # the thread's session is usable again
        adapter.execute("insert into t values (3)")
    assert adapter.fetch("select count(*) from t")[1] == [(2,)]


def test_each_thread_has_its_own_session(adapter: Adapter) -> None:
    adapter.execute("create table t (x integer)")
    inside = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def writer() -> None:
        with adapter.transaction():
            adapter.execute("insert into t values (1)")
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    seen.append(adapter.fetch("select count(*) from t")[1][0][0])  # not committed yet: invisible here
    release.set()
    thread.join()
    seen.append(adapter.fetch("select count(*) from t")[1][0][0])
    assert seen == [0, 1]


def test_memory_database_when_no_path(tmp_path: Path) -> None:
    target = dataclasses.replace(duckdb_target(tmp_path), settings={})
    adapter = open_adapter(target)
    try:
        assert adapter.fetch("select 42")[1] == [(42,)]
    finally:
        adapter.close()


def test_closed_adapter_refuses_new_sessions(db_path: Path) -> None:
    adapter = open_adapter(duckdb_target(db_path))
    adapter.close()
    adapter.close()  # twice is fine
    errors: list[Exception] = []

    def use() -> None:
        try:
            adapter.execute("select 1")
        except AdapterError as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert [str(e) for e in errors] == [f"the connection to {db_path} is closed"]


def test_file_locked_by_another_process(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db_path)!r}); print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(AdapterError) as err:
            open_adapter(duckdb_target(db_path))
        message = str(err.value)
        assert message.startswith(f"cannot open {db_path}: another process (")
        assert f"PID {holder.pid}) holds it" in message
        assert "close the other program" in message
    finally:
        holder.communicate("")


def test_unknown_target_type_names_the_supported_ones(tmp_path: Path) -> None:
    target = dataclasses.replace(duckdb_target(tmp_path / "x.duckdb"), type="snowflake")
    expected = r"^unknown target type 'snowflake' \(supported: duckdb, postgres\)$"
    with pytest.raises(ConfigError, match=expected):
        open_adapter(target)


def test_postgres_without_its_driver_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *args: None if name == "psycopg" else real(name, *args)
    )
    target = dataclasses.replace(duckdb_target(tmp_path / "x.duckdb"), type="postgres")
    with pytest.raises(ConfigError) as err:
        open_adapter(target)
    assert str(err.value) == (
        "target type 'postgres' needs the psycopg package, which is not installed "
        "(install the postgres extra: pip install 'sqlflow[postgres]')"
    )


def test_importing_adapters_loads_no_driver() -> None:
    code = (
        "import sys\n"
        "import sqlflow.adapters, sqlflow.materializations, sqlflow.runner.execute\n"
        "print(sorted(m for m in ('duckdb', 'psycopg') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
