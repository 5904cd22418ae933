"""The state store: run history and the interval ledger, kept in a schema of the target warehouse.

Tables (schema `sqlflow_state` by default): schema_version, runs, node_runs, intervals, backfills,
schedule_ticks. The SQL is plain ANSI (varchar, integer, timestamp with time zone, quoted identifiers) so it
runs on DuckDB and PostgreSQL.

Writes never open a transaction of their own (except `ensure`, `begin_backfill` and `claim_tick`):
called inside `adapter.transaction()` they are part of the caller's transaction, so an interval is
recorded atomically with the data it describes. Each write is also ordered so that, run statement by
statement outside a transaction, the ledger read by `done()` is right after every statement (the
covering row is inserted before the rows it replaces are deleted). Imports no driver; the adapter runs
the SQL. This module holds the schema, runs and intervals sections; the backfills and schedule-ticks
sections are the bases `state.backfills` and `state.ticks`, the migrations are in `state.migrations`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import quote
from sqlflow.errors import AdapterError, SqlflowError
from sqlflow.state.backfills import Backfills
from sqlflow.state.intervals import Interval, RangeSet
from sqlflow.state.migrations import LATEST_VERSION, MIGRATIONS, migrations_after
from sqlflow.state.sql import TS, _utc
from sqlflow.state.ticks import Claim, ScheduleTicks, TickRecord

DEFAULT_SCHEMA = "sqlflow_state"


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


class StateStore(Backfills, ScheduleTicks):
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
        found = self.recent_runs(command, limit=1)
        return found[0] if found else None

    def run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or None."""
        found = self._runs(f'WHERE "run_id" = {self._s(run_id)} ', limit=1)
        return found[0] if found else None

    def recent_runs(self, command: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The `limit` most recently started runs (of `command` when given), newest first."""
        return self._runs(f'WHERE "command" = {self._s(command)} ' if command else "", limit=limit)

    def _runs(self, where: str, *, limit: int) -> list[RunRecord]:
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

    def last_node_runs(self) -> dict[str, NodeRunRecord]:
        """unique_id -> its latest recorded attempt (any status)."""
        _, rows = self.adapter.fetch(
            'SELECT "run_id", "unique_id", "status", "attempt", "started_at", "ended_at", "rows_affected", '
            '"message" FROM (SELECT *, row_number() OVER (PARTITION BY "unique_id" ORDER BY '
            '"ended_at" DESC NULLS LAST, "started_at" DESC NULLS LAST) AS "rn" '
            f'FROM {self._t("node_runs")}) AS "latest" WHERE "rn" = 1'
        )
        return {r[1]: _node_run(r) for r in rows}

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


__all__ = [
    "DEFAULT_SCHEMA",
    "LATEST_VERSION",
    "MIGRATIONS",
    "TS",
    "Claim",
    "NodeRunRecord",
    "RunRecord",
    "StateSchemaError",
    "StateStore",
    "TickRecord",
    "migrations_after",
]
