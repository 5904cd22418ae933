"""The state store on a real DuckDB: schema and migrations, run history, the ledger, backfills, and that
every write is part of the caller's transaction."""

from __future__ import annotations

import pytest

from sqlflow.adapters import Adapter
from sqlflow.errors import AdapterError
from sqlflow.state.intervals import Interval, RangeSet, utc
from sqlflow.state.store import LATEST_VERSION, StateSchemaError, StateStore

UID = "model.shop.events"


def day(d: int, e: int | None = None) -> Interval:
    return Interval(utc(2024, 1, d), utc(2024, 1, e if e is not None else d + 1))


@pytest.fixture
def store(adapter: Adapter) -> StateStore:
    s = StateStore(adapter)
    s.ensure()
    return s


def test_ensure_creates_the_schema_once(adapter: Adapter) -> None:
    store = StateStore(adapter, "my_state")
    assert store.version() == 0
    assert store.ensure() == LATEST_VERSION
    assert store.ensure() == LATEST_VERSION
    _, rows = adapter.fetch('select count(*) from "my_state"."schema_version"')
    assert rows[0][0] == LATEST_VERSION  # one row per applied migration, not per ensure()


def test_a_version_1_store_is_migrated_with_its_data(adapter: Adapter) -> None:
    from sqlflow.state.store import MIGRATIONS

    adapter.execute('create schema "sqlflow_state"')
    adapter.execute(
        'create table "sqlflow_state"."schema_version" ("version" integer not null, '
        '"applied_at" timestamp with time zone not null)'
    )
    for statement in MIGRATIONS[0][1]:
        adapter.execute(statement.format(s='"sqlflow_state"'))
    adapter.execute('insert into "sqlflow_state"."schema_version" values (1, current_timestamp)')
    old = StateStore(adapter)
    old.record_interval(UID, day(1), None)
    assert old.ensure() == LATEST_VERSION
    assert old.done(UID) == RangeSet.of(day(1))
    assert old.running_backfills() == []  # the table of version 2 exists


def test_a_newer_store_is_refused(store: StateStore, adapter: Adapter) -> None:
    adapter.execute(f'insert into "sqlflow_state"."schema_version" values ({LATEST_VERSION + 1}, now())')
    with pytest.raises(StateSchemaError, match="newer than this sqlflow knows"):
        store.ensure()


def test_the_ledger_stays_compact(store: StateStore) -> None:
    for d in (1, 2, 3, 5, 4):  # out of order; 4 closes the gap
        store.record_interval(UID, day(d), "run1")
    assert store.done(UID) == RangeSet.of(day(1, 6))
    assert store.interval_rows(UID) == 1
    store.record_interval(UID, day(2), "run2")  # already covered: nothing changes
    assert store.interval_rows(UID) == 1
    store.record_interval(UID, day(9), "run2")
    assert store.interval_rows(UID) == 2
    assert store.done_all() == {UID: RangeSet.of(day(1, 6), day(9))}


def test_clearing_a_window_splits_the_rows_around_it(store: StateStore) -> None:
    store.record_interval(UID, day(1, 11), "run1")
    store.record_interval("model.shop.other", day(1, 11), "run1")
    store.clear_intervals(UID, day(3, 5))
    assert store.done(UID) == RangeSet.of(day(1, 3), day(5, 11))
    assert store.done("model.shop.other") == RangeSet.of(day(1, 11))
    store.clear_intervals(UID)
    assert store.done(UID) == RangeSet()


def test_writes_are_part_of_the_callers_transaction(store: StateStore, adapter: Adapter) -> None:
    adapter.execute("create table data (x int)")
    with pytest.raises(AdapterError), adapter.transaction():
        adapter.execute("insert into data values (1)")
        store.record_interval(UID, day(1), "run1")
        store.record_node("run1", UID, "success", rows_affected=1)
        adapter.execute("insert into no_such_table values (1)")  # the data change fails
    assert store.done(UID) == RangeSet()
    assert store.node_runs("run1") == []
    _, rows = adapter.fetch("select count(*) from data")
    assert rows[0][0] == 0


def test_runs_and_node_runs(store: StateStore) -> None:
    run_id = store.start_run("run", started_at=utc(2024, 1, 1), args={"select": ["x"]}, target="dev")
    store.record_node(
        run_id,
        UID,
        "error",
        attempt=1,
        started_at=utc(2024, 1, 1),
        ended_at=utc(2024, 1, 1, 0, 1),
        message="boom",
    )
    store.record_node(
        run_id,
        UID,
        "success",
        attempt=2,
        started_at=utc(2024, 1, 1, 0, 2),
        ended_at=utc(2024, 1, 1, 0, 5),
        rows_affected=3,
    )
    store.finish_run(run_id, "success", ended_at=utc(2024, 1, 1, 0, 6))
    last = store.last_run()
    assert last is not None and last.run_id == run_id and last.status == "success"
    assert last.args == {"select": ["x"]}
    assert [(n.attempt, n.status) for n in store.node_runs(run_id)] == [(1, "error"), (2, "success")]
    assert store.last_durations() == {UID: 180.0}
    assert store.last_node_runs()[UID].status == "success"


def test_a_backfill_forgets_its_window_once_and_resumes(store: StateStore) -> None:
    store.record_interval(UID, day(1, 11), "run1")
    window = day(3, 6)
    assert store.begin_backfill(UID, window, "bf1") is False  # new: the window is forgotten
    assert store.done(UID) == RangeSet.of(day(1, 3), day(6, 11))
    store.record_interval(UID, day(3), "bf1")  # one interval done, then the backfill is killed
    assert store.begin_backfill(UID, window, "bf2") is True  # the same window again: resumed
    assert store.done(UID) == RangeSet.of(day(1, 4), day(6, 11))  # day 3 is not forgotten again
    assert store.running_backfills() == [(UID, window)]
    store.finish_backfill(UID, window)
    assert store.running_backfills() == []
    assert store.begin_backfill(UID, window, "bf3") is False  # finished: a new one restates again
    assert store.done(UID) == RangeSet.of(day(1, 3), day(6, 11))
