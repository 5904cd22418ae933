"""Failures only a server can cause, on PostgreSQL: a backend terminated in the middle of a model's build
(pg_terminate_backend from another connection) leaves the previous table and its rows, the node fails with
the server's message, the thread's next statement reconnects and a rerun succeeds; and an unreachable
server gives one clear line through the CLI."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sqlflow.adapters import open_adapter
from sqlflow.errors import AdapterError
from tests.postgres import need_psycopg

from .engines import Engine, messages, pg_target, statuses

SLOW = """
{{ config(materialized='table') }}
{% if var('slow', false) %}
select 2 as id, 'new' as v from (select pg_sleep(30)) as slow
{% else %}
select 1 as id, 'old' as v
{% endif %}
"""
TERMINATED = "terminating connection due to administrator command"


def wait_for_backend(engine: Engine, like: str, timeout: float = 10.0) -> int:
    """The pid of the (other) session running a statement that contains `like`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = engine.query(
            "select pid from pg_stat_activity where pid <> pg_backend_pid() and state = 'active' "
            f"and application_name = 'sqlflow' and query ilike '%{like}%'"
        )
        if rows:
            return int(rows[0][0])
        time.sleep(0.05)
    raise AssertionError(f"no backend ran a statement like {like!r} within {timeout}s")


def test_a_terminated_backend_keeps_the_old_table_and_a_rerun_succeeds(postgres: Engine) -> None:
    engine = postgres
    engine.write({"models/slow.sql": SLOW, "models/after.sql": "select * from {{ ref('slow') }}"})
    assert set(statuses(engine.run("run")).values()) == {"success"}
    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.setdefault("out", engine.run("run", vars={"slow": True}, threads=1))
    )
    runner.start()
    try:
        pid = wait_for_backend(engine, f"{engine.schema}%pg_sleep")
        assert engine.query(f"select pg_terminate_backend({pid})") == [(True,)]
    finally:  # never leave the run sleeping past the test
        engine.query(
            "select pg_cancel_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() "
            f"and query ilike '%{engine.schema}%pg_sleep%'"
        )
        runner.join(timeout=30)
    assert not runner.is_alive()
    out = outcome["out"]
    assert statuses(out) == {"slow": "error", "after": "skipped"}
    assert TERMINATED in (messages(out)["slow"] or ""), messages(out)
    assert engine.rows("slow") == [(1, "old")]
    assert engine.rows("after") == [(1, "old")]
    # the run was still recorded (its thread reconnected), with the server's message
    runs = engine.query(f"select status from {engine.rel('runs', engine.state_schema)} order by started_at")
    assert runs == [("success",), ("error",)]
    failed = engine.query(
        f"select message from {engine.rel('node_runs', engine.state_schema)} "
        f"where unique_id = 'model.contract.slow' and status = 'error'"
    )
    assert len(failed) == 1 and TERMINATED in failed[0][0]
    # nothing left aside, and the next run publishes
    assert engine.query(
        f"select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        f"where n.nspname = '{engine.schema}' and c.relname like '%sqlflow%'"
    ) == [(0,)]
    out = engine.run("run", vars={"slow": False})
    assert set(statuses(out).values()) == {"success"}


def test_the_next_statement_on_a_terminated_thread_reconnects(postgres: Engine) -> None:
    adapter = open_adapter(pg_target(postgres.schema))
    try:
        adapter.execute(f'create schema "{postgres.schema}"')
        adapter.execute(f'create table "{postgres.schema}"."t" as select 1 as id')
        errors: list[BaseException] = []
        after: list[Any] = []

        def work() -> None:
            try:
                with adapter.transaction():
                    adapter.execute(f'drop table "{postgres.schema}"."t"')
                    adapter.execute(f"select pg_sleep(30) /* {postgres.schema} */")
            except AdapterError as exc:
                errors.append(exc)
            after.append(adapter.fetch("select 42")[1])  # same thread: a new connection

        thread = threading.Thread(target=work)
        thread.start()
        pid = wait_for_backend(postgres, f"pg_sleep(30) /* {postgres.schema}")
        assert pid in adapter.backend_pids()  # type: ignore[attr-defined]
        postgres.query(f"select pg_terminate_backend({pid})")
        thread.join(timeout=30)
        assert len(errors) == 1 and TERMINATED in str(errors[0])
        assert after == [[(42,)]]
        assert pid not in adapter.backend_pids()  # type: ignore[attr-defined]
        assert postgres.rows("t") == [(1,)]  # the drop was rolled back with the session
    finally:
        adapter.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_gives_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_psycopg()
    from sqlflow.cli.main import cli

    port = free_port()
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "sqlflow.yml").write_text("name: p\nprofile: p\n")
    (root / "models" / "m.sql").write_text("select 1 as x")
    (root / "profiles.yml").write_text(
        "p:\n  target: pg\n  outputs:\n"
        f"    pg: {{type: postgres, host: 127.0.0.1, port: {port}, user: postgres, dbname: test, "
        "schema: s}\n"
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    result = CliRunner().invoke(cli, ["--no-color", "build"], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    line = lines[0]
    assert line.startswith(f"Error: cannot connect to PostgreSQL at 127.0.0.1:{port} (database test): ")
    assert "check that the server runs and listens there" in line
