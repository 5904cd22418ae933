"""What a run records in the state store, and the interval settings of its time-range models.

`History` is handed to the executor by the api: the store, the run's id, and for time-range models the
latest cron tick (`horizons`), the windows a backfill restates (`windows`) and how many batches of one
model may run at once (`concurrency`). Imports no driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.runner.results import RunResult
from sqlflow.state.intervals import Interval
from sqlflow.state.store import StateStore


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    store: StateStore
    run_id: str
    horizons: Mapping[str, datetime] = field(default_factory=dict)  # unique id -> latest cron tick
    windows: Mapping[str, Interval] = field(default_factory=dict)  # unique id -> window to restate
    concurrency: int = 1


def start_history(
    adapter: Adapter,
    *,
    schema: str,
    command: str,
    run_id: str,
    started_at: datetime,
    args: Mapping[str, Any],
    target: str | None,
    horizons: Mapping[str, datetime] | None = None,
    windows: Mapping[str, Interval] | None = None,
    concurrency: int = 1,
) -> History:
    """Create or migrate the state store, record the run as running; its History."""
    store = StateStore(adapter, schema)
    store.ensure()
    store.start_run(command, started_at=started_at, args=args, target=target, run_id=run_id)
    return History(
        store=store,
        run_id=run_id,
        horizons=dict(horizons or {}),
        windows=dict(windows or {}),
        concurrency=max(1, concurrency),
    )


def finish_history(history: History, result: RunResult, *, ended_at: datetime) -> None:
    """Record how the run ended: success, error or interrupted."""
    history.store.finish_run(history.run_id, result.status, ended_at=ended_at)


__all__ = ["History", "finish_history", "start_history"]
