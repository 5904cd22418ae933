"""The state store: run history and the interval ledger, kept in a schema of the target warehouse.

Tables (schema `sqlflow_state` by default): schema_version, runs, node_runs, intervals, backfills,
schedule_ticks. The SQL is plain ANSI (varchar, integer, timestamp with time zone, quoted identifiers) so it
runs on DuckDB and PostgreSQL.

Writes never open a transaction of their own (except `ensure`, `begin_backfill` and `claim_tick`):
called inside `adapter.transaction()` they are part of the caller's transaction, so an interval is
recorded atomically with the data it describes. Each write is also ordered so that, run statement by
statement outside a transaction, the ledger read by `done()` is right after every statement (the
covering row is inserted before the rows it replaces are deleted). Imports no driver; the adapter runs
the SQL.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import quote, string_literal
from sqlflow.errors import AdapterError, SqlflowError
from sqlflow.state.intervals import Interval, RangeSet

DEFAULT_SCHEMA = "sqlflow_state"
TS = "timestamp with time zone"

# (version, statements); {s} is the quoted schema. Append new versions; never edit a released one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            'CREATE TABLE {s}."runs" ("run_id" varchar NOT NULL PRIMARY KEY, "command" varchar NOT NULL, '
            f'"status" varchar NOT NULL, "started_at" {TS} NOT NULL, "ended_at" {TS}, "args" text, '
            '"target" varchar)',
            'CREATE TABLE {s}."node_runs" ("run_id" varchar NOT NULL, "unique_id" varchar NOT NULL, '
            f'"status" varchar NOT NULL, "attempt" integer NOT NULL, "started_at" {TS}, "ended_at" {TS}, '
            '"rows_affected" integer, "message" text)',
            'CREATE TABLE {s}."intervals" ("unique_id" varchar NOT NULL, "start" ' + TS + ' NOT NULL, '
            f'"end" {TS} NOT NULL, "run_id" varchar, "recorded_at" {TS} NOT NULL)',
        ),
    ),
)
MIGRATIONS += (
    (
        2,
        (
            # one row per model a backfill restates: a rerun with the same window resumes it
            'CREATE TABLE {s}."backfills" ("unique_id" varchar NOT NULL, "start" ' + TS + ' NOT NULL, '
            f'"end" {TS} NOT NULL, "status" varchar NOT NULL, "run_id" varchar, "created_at" {TS} NOT NULL, '
            f'"finished_at" {TS})',
        ),
    ),
)
MIGRATIONS += (
    (
        3,
        (
            # one row per tick of a `schedules:` job a scheduler claimed: the unique key makes a tick run once
            'CREATE TABLE {s}."schedule_ticks" ("schedule" varchar NOT NULL, "tick" ' + TS + " NOT NULL, "
            '"trigger" varchar NOT NULL, "status" varchar NOT NULL, "run_id" varchar, "claimed_by" varchar, '
            f'"claimed_at" {TS} NOT NULL, "finished_at" {TS}, "message" text, UNIQUE ("schedule", "tick"))',
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1][0]


class StateSchemaError(SqlflowError):
    """The state schema was written by a newer sqlflow, or cannot be created."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    run_id: str
    command: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    args: Mapping[str, Any]
    target: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRunRecord:
    run_id: str
    unique_id: str
    status: str
    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    rows_affected: int | None
    message: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TickRecord:
    """A claimed tick of a schedule: status running, success, error or skipped."""

    schedule: str
    tick: datetime
    trigger: str  # "cron", or "manual" for `sqlflow trigger`
    status: str
    run_id: str | None
    claimed_by: str | None
    claimed_at: datetime
    finished_at: datetime | None
    message: str | None


# what `claim_tick` did: claimed it; another scheduler has it; max_active runs are running; on PostgreSQL,
# another scheduler is claiming a tick of the same schedule right now (try again in a moment)
Claim = Literal["claimed", "taken", "full", "busy"]


class StateStore:
    """Run history and interval ledger of one target, in `schema` of its warehouse."""

    def __init__(self, adapter: Adapter, schema: str = DEFAULT_SCHEMA) -> None:
        self.adapter = adapter
        self.schema = schema
        self._d = adapter.dialect

    # -- schema --------------------------------------------------------------------------------------------

    def ensure(self) -> int:
        """Create or migrate the state schema (in one transaction; idempotent); the version it is now at.

        Call it outside any transaction. StateSchemaError when a newer sqlflow wrote the schema.
        """
        s = quote(self.schema, self._d)
        with self.adapter.transaction():
            self.adapter.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            self.adapter.execute(
                f'CREATE TABLE IF NOT EXISTS {s}."schema_version" ("version" integer NOT NULL, '
                f'"applied_at" {TS} NOT NULL)'
            )
            _, rows = self.adapter.fetch(f'SELECT max("version") FROM {s}."schema_version"')
            current = int(rows[0][0]) if rows and rows[0][0] is not None else 0
            if current > LATEST_VERSION:
                raise StateSchemaError(
                    f"the state schema {self.schema} is at version {current}, newer than this sqlflow "
                    f"knows (version {LATEST_VERSION})",
                    hint="upgrade sqlflow, or point state_schema at another schema",
                )
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    self.adapter.execute(statement.format(s=s))
                self.adapter.execute(
                    f'INSERT INTO {s}."schema_version" ("version", "applied_at") '
                    f"VALUES ({version}, CURRENT_TIMESTAMP)"
                )
                current = version
        return current

    def version(self) -> int:
        """The schema version in the warehouse (0 when the store was never created)."""
        try:
            _, rows = self.adapter.fetch(f'SELECT max("version") FROM {self._t("schema_version")}')
        except AdapterError:
            return 0
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    # -- runs ----------------------------------------------------------------------------------------------

    def start_run(
        self,
        command: str,
        *,
        started_at: datetime,
        args: Mapping[str, Any] | None = None,
        target: str | None = None,
        run_id: str | None = None,
    ) -> str:
        """Record a run as "running"; its run_id (a new uuid when not given)."""
        run_id = run_id or uuid.uuid4().hex
        values = ", ".join(
            (
                self._s(run_id),
                self._s(command),
                self._s("running"),
                self._ts(started_at),
                self._s(json.dumps(dict(args or {}), sort_keys=True, default=str)),
                self._s(target),
            )
        )
        self.adapter.execute(
            f'INSERT INTO {self._t("runs")} ("run_id", "command", "status", "started_at", "args", "target") '
            f"VALUES ({values})"
        )
        return run_id

    def finish_run(self, run_id: str, status: str, *, ended_at: datetime) -> None:
        self.adapter.execute(
            f'UPDATE {self._t("runs")} SET "status" = {self._s(status)}, "ended_at" = {self._ts(ended_at)} '
            f'WHERE "run_id" = {self._s(run_id)}'
        )

    def record_node(
        self,
        run_id: str,
        unique_id: str,
        status: str,
        *,
        attempt: int = 1,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        rows_affected: int | None = None,
        message: str | None = None,
    ) -> None:
        """Append one attempt of a node in a run."""
        self.record_nodes(
            [
                NodeRunRecord(
                    run_id=run_id,
                    unique_id=unique_id,
                    status=status,
                    attempt=attempt,
                    started_at=started_at,
                    ended_at=ended_at,
                    rows_affected=rows_affected,
                    message=message,
                )
            ]
        )

    def record_nodes(self, records: Sequence[NodeRunRecord]) -> None:
        """Append several attempts in one statement (one commit instead of one per node)."""
        if not records:
            return
        rows = ", ".join(
            "("
            + ", ".join(
                (
                    self._s(r.run_id),
                    self._s(r.unique_id),
                    self._s(r.status),
                    str(int(r.attempt)),
                    self._ts(r.started_at),
                    self._ts(r.ended_at),
                    "NULL" if r.rows_affected is None else str(int(r.rows_affected)),
                    self._s(r.message),
                )
            )
            + ")"
            for r in records
        )
        self.adapter.execute(
            f'INSERT INTO {self._t("node_runs")} ("run_id", "unique_id", "status", "attempt", "started_at", '
            f'"ended_at", "rows_affected", "message") VALUES {rows}'
        )

    def last_run(self, command: str | None = None) -> RunRecord | None:
        """The most recently started run (of `command` when given)."""
        where = f'WHERE "command" = {self._s(command)} ' if command else ""
        _, rows = self.adapter.fetch(
            'SELECT "run_id", "command", "status", "started_at", "ended_at", "args", "target" '
            f'FROM {self._t("runs")} {where}ORDER BY "started_at" DESC, "run_id" DESC LIMIT 1'
        )
        if not rows:
            return None
        run_id, cmd, status, started, ended, args, target = rows[0]
        return RunRecord(
            run_id=run_id,
            command=cmd,
            status=status,
            started_at=_utc(started),
            ended_at=_utc(ended) if ended is not None else None,
            args=json.loads(args) if args else {},
            target=target,
        )

    def recent_runs(self, command: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The `limit` most recently started runs (of `command` when given), newest first."""
        where = f'WHERE "command" = {self._s(command)} ' if command else ""
        _, rows = self.adapter.fetch(
            'SELECT "run_id", "command", "status", "started_at", "ended_at", "args", "target" '
            f'FROM {self._t("runs")} {where}ORDER BY "started_at" DESC, "run_id" DESC LIMIT {int(limit)}'
        )
        return [
            RunRecord(
                run_id=run_id,
                command=cmd,
                status=status,
                started_at=_utc(started),
                ended_at=_utc(ended) if ended is not None else None,
                args=json.loads(args) if args else {},
                target=target,
            )
            for run_id, cmd, status, started, ended, args, target in rows
        ]

    def last_successes(self) -> dict[str, datetime]:
        """unique_id -> when its latest successful build ended (models, seeds, snapshots)."""
        _, rows = self.adapter.fetch(
            f'SELECT "unique_id", max("ended_at") FROM {self._t("node_runs")} '
            """WHERE "status" = 'success' AND "ended_at" IS NOT NULL GROUP BY "unique_id" """
        )
        return {uid: _utc(ended) for uid, ended in rows}

    def node_runs(self, run_id: str) -> list[NodeRunRecord]:
        """Every attempt of every node in a run, in the order they started."""
        _, rows = self.adapter.fetch(
            'SELECT "run_id", "unique_id", "status", "attempt", "started_at", "ended_at", "rows_affected", '
            f'"message" FROM {self._t("node_runs")} WHERE "run_id" = {self._s(run_id)} '
            'ORDER BY "started_at" NULLS LAST, "unique_id", "attempt"'
        )
        return [_node_run(r) for r in rows]

    def last_durations(self) -> dict[str, float]:
        """unique_id -> seconds its latest finished, non-skipped attempt took (for critical-path ordering)."""
        _, rows = self.adapter.fetch(
            'SELECT "unique_id", "started_at", "ended_at" FROM '
            '(SELECT "unique_id", "started_at", "ended_at", '
            'row_number() OVER (PARTITION BY "unique_id" ORDER BY "ended_at" DESC) AS "rn" '
            f'FROM {self._t("node_runs")} WHERE "started_at" IS NOT NULL AND "ended_at" IS NOT NULL '
            """AND "status" <> 'skipped') AS "latest" WHERE "rn" = 1"""
        )
        return {uid: (_utc(end) - _utc(start)).total_seconds() for uid, start, end in rows}

    # -- intervals -----------------------------------------------------------------------------------------

    def done(self, unique_id: str) -> RangeSet:
        """The processed ranges of a node."""
        _, rows = self.adapter.fetch(
            f'SELECT "start", "end" FROM {self._t("intervals")} WHERE "unique_id" = {self._s(unique_id)}'
        )
        return RangeSet(Interval(_utc(s), _utc(e)) for s, e in rows)

    def done_all(self) -> dict[str, RangeSet]:
        """The processed ranges of every node with a ledger, in one query."""
        _, rows = self.adapter.fetch(f'SELECT "unique_id", "start", "end" FROM {self._t("intervals")}')
        by_node: dict[str, list[Interval]] = {}
        for uid, s, e in rows:
            by_node.setdefault(uid, []).append(Interval(_utc(s), _utc(e)))
        return {uid: RangeSet(ranges) for uid, ranges in sorted(by_node.items())}

    def record_interval(self, unique_id: str, interval: Interval, run_id: str | None) -> None:
        """Add [start, end) to a node's ledger, merged with the rows it overlaps or touches (one row stays).

        Run it inside the transaction that wrote the interval's data.
        """
        t, uid = self._t("intervals"), self._s(unique_id)
        _, rows = self.adapter.fetch(
            f'SELECT "start", "end" FROM {t} WHERE "unique_id" = {uid} '
            f'AND "start" <= {self._ts(interval.end)} AND "end" >= {self._ts(interval.start)}'
        )
        touching = [Interval(_utc(s), _utc(e)) for s, e in rows]
        if any(r.start <= interval.start and interval.end <= r.end for r in touching):
            return  # already recorded; a covering row stays as it is
        start = min([interval.start, *(r.start for r in touching)])
        end = max([interval.end, *(r.end for r in touching)])
        self.adapter.execute(
            f'INSERT INTO {t} ("unique_id", "start", "end", "run_id", "recorded_at") VALUES ({uid}, '
            f"{self._ts(start)}, {self._ts(end)}, {self._s(run_id)}, CURRENT_TIMESTAMP)"
        )
        if touching:
            self.adapter.execute(
                f'DELETE FROM {t} WHERE "unique_id" = {uid} AND "start" >= {self._ts(start)} '
                f'AND "end" <= {self._ts(end)} '
                f'AND NOT ("start" = {self._ts(start)} AND "end" = {self._ts(end)})'
            )

    def clear_intervals(self, unique_id: str, within: Interval | None = None) -> None:
        """Forget a node's processed ranges (all, or the part inside `within`), to restate them."""
        t, uid = self._t("intervals"), self._s(unique_id)
        if within is None:
            self.adapter.execute(f'DELETE FROM {t} WHERE "unique_id" = {uid}')
            return
        s, e = self._ts(within.start), self._ts(within.end)
        overlapping = f'"unique_id" = {uid} AND "start" < {e} AND "end" > {s}'
        # the parts outside `within` of the rows crossing its edges go in first, then the rows themselves go
        self.adapter.execute(
            f'INSERT INTO {t} ("unique_id", "start", "end", "run_id", "recorded_at") '
            f'SELECT "unique_id", "start", {s}, "run_id", "recorded_at" FROM {t} WHERE {overlapping} '
            f'AND "start" < {s}'
        )
        self.adapter.execute(
            f'INSERT INTO {t} ("unique_id", "start", "end", "run_id", "recorded_at") '
            f'SELECT "unique_id", {e}, "end", "run_id", "recorded_at" FROM {t} WHERE {overlapping} '
            f'AND "end" > {e}'
        )
        self.adapter.execute(f"DELETE FROM {t} WHERE {overlapping}")

    def interval_rows(self, unique_id: str) -> int:
        """How many ledger rows a node has (compaction keeps it at its number of gaps + 1)."""
        _, rows = self.adapter.fetch(
            f'SELECT count(*) FROM {self._t("intervals")} WHERE "unique_id" = {self._s(unique_id)}'
        )
        return int(rows[0][0])

    # -- backfills -----------------------------------------------------------------------------------------

    def begin_backfill(self, unique_id: str, window: Interval, run_id: str | None) -> bool:
        """Start restating `window` of a node, or resume the unfinished backfill of that same window.

        A new backfill forgets the window's ledger (its intervals are processed again) and records itself,
        in one transaction; True when an unfinished one was resumed instead (nothing is forgotten again).
        Call it outside any transaction.
        """
        t, uid = self._t("backfills"), self._s(unique_id)
        s, e = self._ts(window.start), self._ts(window.end)
        with self.adapter.transaction():
            _, rows = self.adapter.fetch(
                f'SELECT count(*) FROM {t} WHERE "unique_id" = {uid} AND "start" = {s} AND "end" = {e} '
                """AND "status" = 'running'"""
            )
            if int(rows[0][0]):
                return True
            self.clear_intervals(unique_id, window)
            self.adapter.execute(
                f'INSERT INTO {t} ("unique_id", "start", "end", "status", "run_id", "created_at") '
                f"VALUES ({uid}, {s}, {e}, 'running', {self._s(run_id)}, CURRENT_TIMESTAMP)"
            )
        return False

    def finish_backfill(self, unique_id: str, window: Interval) -> None:
        self.adapter.execute(
            f"""UPDATE {self._t("backfills")} SET "status" = 'done', "finished_at" = CURRENT_TIMESTAMP """
            f'WHERE "unique_id" = {self._s(unique_id)} AND "start" = {self._ts(window.start)} '
            f'AND "end" = {self._ts(window.end)} AND "status" = ' + "'running'"
        )

    def running_backfills(self) -> list[tuple[str, Interval]]:
        """(unique id, window) of every unfinished backfill."""
        _, rows = self.adapter.fetch(
            f'SELECT "unique_id", "start", "end" FROM {self._t("backfills")} '
            "WHERE \"status\" = 'running' ORDER BY \"created_at\", \"unique_id\""
        )
        return [(uid, Interval(_utc(s), _utc(e))) for uid, s, e in rows]

    def last_node_runs(self) -> dict[str, NodeRunRecord]:
        """unique_id -> its latest recorded attempt (any status)."""
        _, rows = self.adapter.fetch(
            'SELECT "run_id", "unique_id", "status", "attempt", "started_at", "ended_at", "rows_affected", '
            '"message" FROM (SELECT *, row_number() OVER (PARTITION BY "unique_id" ORDER BY '
            '"ended_at" DESC NULLS LAST, "started_at" DESC NULLS LAST) AS "rn" '
            f'FROM {self._t("node_runs")}) AS "latest" WHERE "rn" = 1'
        )
        return {r[1]: _node_run(r) for r in rows}

    # -- schedule ticks ------------------------------------------------------------------------------------

    def claim_tick(
        self,
        schedule: str,
        tick: datetime,
        *,
        claimed_by: str,
        claimed_at: datetime,
        status: str = "running",
        trigger: str = "cron",
        run_id: str | None = None,
        max_active: int | None = None,
    ) -> Claim:
        """Record `tick` of `schedule` as `status` unless a scheduler already did (the unique key decides,
        so a tick runs at most once however many schedulers share this store), or, for a running claim,
        unless `max_active` runs of the schedule are running. On PostgreSQL the check and the insert hold
        a transaction-scoped advisory lock on the schedule. Call it outside any transaction.
        """
        t, name = self._t("schedule_ticks"), self._s(schedule)
        try:
            with self.adapter.transaction():
                if self._d == "postgres":
                    key = self._lock_key(schedule)
                    _, rows = self.adapter.fetch(f"SELECT pg_try_advisory_xact_lock({key})")
                    if not rows[0][0]:
                        return "busy"
                if self._tick_exists(schedule, tick):
                    return "taken"
                if status == "running" and max_active is not None:
                    _, rows = self.adapter.fetch(
                        f"""SELECT count(*) FROM {t} WHERE "schedule" = {name} AND "status" = 'running'"""
                    )
                    if int(rows[0][0]) >= max_active:
                        return "full"
                values = ", ".join(
                    (
                        name,
                        self._ts(tick),
                        self._s(trigger),
                        self._s(status),
                        self._s(run_id),
                        self._s(claimed_by),
                        self._ts(claimed_at),
                        self._ts(claimed_at) if status != "running" else "NULL",
                    )
                )
                self.adapter.execute(
                    f'INSERT INTO {t} ("schedule", "tick", "trigger", "status", "run_id", "claimed_by", '
                    f'"claimed_at", "finished_at") VALUES ({values})'
                )
        except AdapterError:
            if self._tick_exists(schedule, tick):  # another scheduler inserted it first
                return "taken"
            raise
        return "claimed"

    def finish_tick(
        self, schedule: str, tick: datetime, status: str, *, finished_at: datetime, message: str | None = None
    ) -> bool:
        """Record how a running tick ended; False when it was not running (already finished)."""
        n = self.adapter.execute(
            f'UPDATE {self._t("schedule_ticks")} SET "status" = {self._s(status)}, '
            f'"finished_at" = {self._ts(finished_at)}, "message" = {self._s(message)} '
            f'WHERE "schedule" = {self._s(schedule)} AND "tick" = {self._ts(tick)} '
            """AND "status" = 'running'"""
        )
        return bool(n)

    def last_tick(self, schedule: str) -> datetime | None:
        """The latest cron tick of `schedule` any scheduler claimed (manual triggers do not count)."""
        _, rows = self.adapter.fetch(
            f'SELECT max("tick") FROM {self._t("schedule_ticks")} WHERE "schedule" = {self._s(schedule)} '
            """AND "trigger" = 'cron'"""
        )
        return _utc(rows[0][0]) if rows and rows[0][0] is not None else None

    def active_runs(self, schedule: str | None = None) -> list[TickRecord]:
        """The running ticks of `schedule` (of every schedule when None), oldest first."""
        where = f' AND "schedule" = {self._s(schedule)}' if schedule is not None else ""
        return self._ticks(f""""status" = 'running'{where}""", 'ORDER BY "tick"')

    def recent_ticks(self, schedule: str, *, limit: int = 1) -> list[TickRecord]:
        """The `limit` ticks of `schedule` claimed last, newest first."""
        return self._ticks(
            f'"schedule" = {self._s(schedule)}', f'ORDER BY "claimed_at" DESC, "tick" DESC LIMIT {int(limit)}'
        )

    def _ticks(self, where: str, order: str) -> list[TickRecord]:
        _, rows = self.adapter.fetch(
            'SELECT "schedule", "tick", "trigger", "status", "run_id", "claimed_by", "claimed_at", '
            f'"finished_at", "message" FROM {self._t("schedule_ticks")} WHERE {where} {order}'
        )
        return [
            TickRecord(
                schedule=r[0],
                tick=_utc(r[1]),
                trigger=r[2],
                status=r[3],
                run_id=r[4],
                claimed_by=r[5],
                claimed_at=_utc(r[6]),
                finished_at=_utc(r[7]) if r[7] is not None else None,
                message=r[8],
            )
            for r in rows
        ]

    def _tick_exists(self, schedule: str, tick: datetime) -> bool:
        _, rows = self.adapter.fetch(
            f'SELECT count(*) FROM {self._t("schedule_ticks")} WHERE "schedule" = {self._s(schedule)} '
            f'AND "tick" = {self._ts(tick)}'
        )
        return bool(int(rows[0][0]))

    def _lock_key(self, schedule: str) -> int:
        """A signed 64-bit key for pg_try_advisory_xact_lock, the same in every process."""
        digest = hashlib.blake2b(f"sqlflow:{self.schema}:schedule:{schedule}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    # -- SQL helpers ---------------------------------------------------------------------------------------

    def _t(self, table: str) -> str:
        return f"{quote(self.schema, self._d)}.{quote(table, self._d)}"

    def _s(self, value: str | None) -> str:
        return "NULL" if value is None else string_literal(value, self._d)

    def _ts(self, value: datetime | None) -> str:
        if value is None:
            return "NULL"
        iso = _utc(value).isoformat(sep=" ")
        return f"CAST({string_literal(iso, self._d)} AS {TS})"


def _node_run(row: Sequence[Any]) -> NodeRunRecord:
    """A node_runs row, selected in the table's column order."""
    return NodeRunRecord(
        run_id=row[0],
        unique_id=row[1],
        status=row[2],
        attempt=int(row[3]),
        started_at=_utc(row[4]) if row[4] is not None else None,
        ended_at=_utc(row[5]) if row[5] is not None else None,
        rows_affected=row[6],
        message=row[7],
    )


def _utc(value: datetime) -> datetime:
    """A timestamp read back or passed in, as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def migrations_after(version: int) -> Sequence[int]:
    """The versions `ensure()` would apply to a schema at `version`."""
    return [v for v, _ in MIGRATIONS if v > version]
