"""The schedule_ticks ledger of the state store, on DuckDB and on PostgreSQL (the server of tests/postgres.py:
skipped without it, failed instead with SQLFLOW_REQUIRE_POSTGRES=1): a tick is claimed once however many
schedulers race for it, max_active_runs holds across connections, and on PostgreSQL a claim in progress
elsewhere makes another one back off."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.project.types import Target
from sqlflow.state.store import LATEST_VERSION, MIGRATIONS, StateStore
from tests import postgres

T0 = datetime(2024, 1, 1, 6, tzinfo=UTC)
AT = datetime(2024, 1, 1, 6, 0, 1, tzinfo=UTC)


def duckdb_target(path: Path) -> Target:
    return Target(
        name="dev",
        profile_name="shop",
        type="duckdb",
        schema="main",
        database="state",
        settings={"path": str(path)},
    )


@pytest.fixture(params=["duckdb", "postgres"])
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Adapter]]:
    """Opens a new connection to one state store (its own schema on PostgreSQL, dropped afterwards)."""
    opened: list[Adapter] = []
    if request.param == "duckdb":
        target = duckdb_target(tmp_path / "state.duckdb")
        schema = "sqlflow_state"
    else:
        postgres.need_postgres()
        target = postgres.target("public")
        schema = f"{postgres.fresh_schema()}_state"

    def open_store() -> Adapter:
        adapter = open_adapter(target)
        opened.append(adapter)
        return adapter

    open_store.schema = schema  # type: ignore[attr-defined]
    try:
        yield open_store
    finally:
        for adapter in opened:
            adapter.close()
        if request.param == "postgres":
            postgres.drop_schemas(schema)


def store_on(connect: Callable[[], Adapter]) -> StateStore:
    store = StateStore(connect(), connect.schema)  # type: ignore[attr-defined]
    store.ensure()
    return store


def test_claim_once_finish_and_read_back(connect: Callable[[], Adapter]) -> None:
    store = store_on(connect)
    assert store.last_tick("nightly") is None
    assert store.claim_tick("nightly", T0, claimed_by="a", claimed_at=AT, run_id="r1") == "claimed"
    assert store.claim_tick("nightly", T0, claimed_by="b", claimed_at=AT) == "taken"
    assert store.claim_tick("other", T0, claimed_by="b", claimed_at=AT) == "claimed"  # per schedule
    (running,) = store.active_runs("nightly")
    assert (running.tick, running.status, running.run_id, running.claimed_by) == (T0, "running", "r1", "a")
    assert running.finished_at is None
    assert store.last_tick("nightly") == T0

    assert store.finish_tick(
        "nightly", T0, "success", finished_at=AT + timedelta(seconds=5), message="2 success"
    )
    assert not store.finish_tick("nightly", T0, "error", finished_at=AT)  # already finished: first word stays
    (last,) = store.recent_ticks("nightly")
    assert (last.status, last.message, last.finished_at) == (
        "success",
        "2 success",
        AT + timedelta(seconds=5),
    )
    assert store.active_runs("nightly") == []
    assert [r.schedule for r in store.active_runs()] == ["other"]


def test_manual_ticks_do_not_move_the_last_cron_tick(connect: Callable[[], Adapter]) -> None:
    store = store_on(connect)
    store.claim_tick("nightly", T0, claimed_by="a", claimed_at=AT)
    later = T0 + timedelta(hours=5, microseconds=123)
    assert (
        store.claim_tick("nightly", later, claimed_by="cli", claimed_at=later, trigger="manual") == "claimed"
    )
    assert store.last_tick("nightly") == T0
    assert store.recent_ticks("nightly")[0].trigger == "manual"
    assert store.recent_ticks("nightly")[0].tick == later  # microseconds survive


def test_max_active_runs_and_skipped_ticks(connect: Callable[[], Adapter]) -> None:
    store = store_on(connect)
    t1 = T0 + timedelta(hours=1)
    assert store.claim_tick("j", T0, claimed_by="a", claimed_at=AT, max_active=1) == "claimed"
    assert store.claim_tick("j", t1, claimed_by="a", claimed_at=AT, max_active=1) == "full"
    assert store.claim_tick("j", t1, claimed_by="a", claimed_at=AT, max_active=2) == "claimed"
    t2 = T0 + timedelta(hours=2)
    assert (
        store.claim_tick("j", t2, claimed_by="a", claimed_at=AT, status="skipped", max_active=1) == "claimed"
    )
    skipped = store.recent_ticks("j", limit=3)[0]
    assert (skipped.tick, skipped.status, skipped.finished_at) == (t2, "skipped", AT)
    assert store.last_tick("j") == t2  # a skipped tick is handled


def test_racing_connections_claim_a_tick_once(connect: Callable[[], Adapter]) -> None:
    store_on(connect)
    stores = [StateStore(connect(), connect.schema) for _ in range(6)]  # type: ignore[attr-defined]
    results: list[str] = []
    barrier = threading.Barrier(len(stores))

    def claim(store: StateStore, who: int) -> None:
        barrier.wait()
        for _ in range(200):
            result = store.claim_tick("race", T0, claimed_by=f"s{who}", claimed_at=AT, max_active=1)
            if result != "busy":  # PostgreSQL: another claim held the advisory lock; try again
                results.append(result)
                return

    threads = [threading.Thread(target=claim, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["claimed"] + ["taken"] * (len(stores) - 1)


def test_a_claim_in_progress_elsewhere_makes_postgres_back_off(connect: Callable[[], Adapter]) -> None:
    store = store_on(connect)
    if store.adapter.dialect != "postgres":
        pytest.skip("advisory locks are PostgreSQL's")
    other = connect()
    with other.transaction():
        other.execute(f"SELECT pg_advisory_xact_lock({store._lock_key('nightly')})")
        assert store.claim_tick("nightly", T0, claimed_by="a", claimed_at=AT) == "busy"
        assert store.claim_tick("hourly", T0, claimed_by="a", claimed_at=AT) == "claimed"
    assert store.claim_tick("nightly", T0, claimed_by="a", claimed_at=AT) == "claimed"


def test_a_version_2_store_gets_the_ticks_table(connect: Callable[[], Adapter]) -> None:
    adapter = connect()
    schema = connect.schema  # type: ignore[attr-defined]
    adapter.execute(f'CREATE SCHEMA "{schema}"')
    adapter.execute(
        f'CREATE TABLE "{schema}"."schema_version" ("version" integer NOT NULL, '
        '"applied_at" timestamp with time zone NOT NULL)'
    )
    for version, statements in MIGRATIONS[:2]:
        for statement in statements:
            adapter.execute(statement.format(s=f'"{schema}"'))
        adapter.execute(f'INSERT INTO "{schema}"."schema_version" VALUES ({version}, CURRENT_TIMESTAMP)')
    store = StateStore(adapter, schema)
    assert store.version() == 2
    assert store.ensure() == LATEST_VERSION >= 3
    assert store.claim_tick("nightly", T0, claimed_by="a", claimed_at=AT) == "claimed"
