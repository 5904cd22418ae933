"""The schedule-ticks section of the state store: the ticks of `schedules:` jobs schedulers claimed, so a
tick runs at most once however many schedulers share the store. A base of `StateStore` (the one class
callers use). Imports no driver; the adapter runs the SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlflow.engines import for_dialect
from sqlflow.errors import AdapterError
from sqlflow.state.sql import StoreSQL, _utc


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


class ScheduleTicks(StoreSQL):
    """claim_tick, finish_tick and the reads of the `schedule_ticks` table."""

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
                spec = for_dialect(self._d)
                if spec is not None and spec.advisory_locks:  # schedulers sharing the store take turns
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
