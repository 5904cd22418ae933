"""The backfills section of the state store: a restated window of a model, resumed by a rerun of the same
window. A base of `StateStore` (the one class callers use). Imports no driver; the adapter runs the SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlflow.state.intervals import Interval
from sqlflow.state.sql import StoreSQL, _utc


class Backfills(StoreSQL):
    """begin_backfill, finish_backfill, running_backfills (the `backfills` table)."""

    if TYPE_CHECKING:

        def clear_intervals(self, unique_id: str, within: Interval | None = None) -> None: ...

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
            'WHERE "status" = \'running\' ORDER BY "created_at", "unique_id"'
        )
        return [(uid, Interval(_utc(s), _utc(e))) for uid, s, e in rows]
