"""time_range incremental models: one delete-then-insert per interval of `time_column`, with its ledger row.

A time-range model (`incremental_strategy: time_range`, or dbt's `microbatch`) is compiled once with
tokens for `start` / `end`; `bind_batch` puts a batch's bounds in. `pending` says which intervals a run
processes (pure range arithmetic, never one object per interval), and `build_time_range` processes them:
for each batch, the query is staged in a temporary table (in parallel with `concurrency` > 1), then one
short transaction deletes exactly [start, end) from the table, inserts the staged rows of [start, end),
runs the audits, and records the interval in the state store's ledger. A crash leaves every interval
either written and recorded, or neither. A failed batch stops the model; what is missing is picked up by
the next run. Imports no driver.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

from sqlflow.adapters.sql import (
    create_table_as,
    drop_relation,
    insert_select,
    quote,
    relation_sql,
    select_nothing,
)
from sqlflow.errors import ConfigError, NodeFailedError, SourceLocation, SqlflowError
from sqlflow.manifest import TIME_RANGE_STRATEGIES, ModelNode
from sqlflow.materializations.context import BuildContext, BuildResult, compiled_sql, transaction
from sqlflow.materializations.incremental import match_columns
from sqlflow.project.orchestration import parse_instant
from sqlflow.state.intervals import Grain, Interval, RangeSet, batches, count_intervals, lookback, missing
from sqlflow.state.store import StateStore

BATCH_SUFFIX = "__sqlflow_batch"
_TOKEN = re.compile(r"__sqlflow_(start|end)(?:\|([^_|][^|]*?))?__")


def is_time_range(node: ModelNode) -> bool:
    config = node.config
    return config.materialized == "incremental" and config.incremental_strategy in TIME_RANGE_STRATEGIES


@dataclass(frozen=True, slots=True)
class TimeRangeSpec:
    """A time-range model's settings, checked."""

    time_column: str
    grain: Grain
    begin: datetime | None
    lookback: int
    cron: str | None
    concurrent: bool


def time_range_spec(node: ModelNode) -> TimeRangeSpec:
    """The settings of a time-range model, as the compile parsed them (ModelNode.time_range)."""
    settings = node.time_range
    if settings is None:
        raise ConfigError(
            f"{node.name} is not a time-range model",
            location=SourceLocation(node.path),
            hint="set incremental_strategy='time_range' with time_column and batch_size",
        )
    return TimeRangeSpec(
        time_column=settings.time_column,
        grain=Grain(unit=settings.unit, count=settings.count, tz=settings.timezone),
        begin=settings.begin,
        lookback=settings.lookback,
        cron=settings.cron,
        concurrent=settings.concurrent,
    )


# -- what to process --------------------------------------------------------------------------------------


def pending(
    spec: TimeRangeSpec,
    done: RangeSet,
    *,
    now: datetime,
    horizon: datetime | None = None,
    window: Interval | None = None,
    name: str = "",
) -> RangeSet:
    """The intervals a run processes, as merged ranges.

    A run: every whole interval from `begin` up to `horizon` (the latest cron tick, else `now`) that is not
    in `done`, and the `lookback` intervals before the latest due one again. A backfill (`window`): the
    missing intervals of the window widened to whole intervals (the caller forgets the window's ledger
    first to restate it).
    """
    grain = spec.grain
    if window is not None:
        start, end = grain.floor(window.start), grain.ceil(window.end)
        wanted = RangeSet.span(start, end)
        return wanted - done
    if spec.begin is None:
        raise ConfigError(
            f"time-range model {name} has no begin",
            hint="set begin (the first interval, e.g. '2024-01-01'), or fill it with "
            "'sqlflow backfill --start ... --end ...'",
        )
    until = horizon if horizon is not None else now
    # lookback N: the N intervals before the latest due one are processed again
    redo = spec.lookback + 1 if spec.lookback else 0
    return missing(lookback(done, grain, redo, until), spec.begin, until, grain)


def describe_ranges(ranges: RangeSet, grain: Grain, *, limit: int = 20) -> list[str]:
    """One line per range: its bounds and how many intervals it holds (never one line per interval)."""
    lines = []
    for r in list(ranges)[:limit]:
        n = count_intervals(RangeSet.of(r), grain)
        lines.append(f"{_fmt(r.start)} .. {_fmt(r.end)} ({n} interval{'s' if n != 1 else ''})")
    if len(ranges) > limit:
        lines.append(f"... and {len(ranges) - limit} more ranges")
    return lines


def _fmt(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d" if value.hour == value.minute == 0 else "%Y-%m-%d %H:%M")


# -- binding a batch --------------------------------------------------------------------------------------


def bound_text(value: datetime, fmt: str | None = None) -> str:
    """A batch bound as it goes into the SQL: UTC, `2024-01-01 00:00:00+00:00` by default.

    >>> bound_text(datetime(2024, 1, 2, tzinfo=UTC)), bound_text(datetime(2024, 1, 2, tzinfo=UTC), "%Y%m%d")
    ('2024-01-02 00:00:00+00:00', '20240102')
    """
    value = value.astimezone(UTC)
    if fmt is None:
        return value.isoformat(sep=" ")
    if fmt == "iso":
        return value.isoformat()
    return value.strftime(fmt)


def bind_batch(sql: str, interval: Interval) -> str:
    """`sql` with the start/end tokens replaced by the interval's bounds.

    >>> bind_batch("where t >= '__sqlflow_start__' and d < '__sqlflow_end|%Y-%m-%d__'",
    ...            Interval(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)))
    "where t >= '2024-01-01 00:00:00+00:00' and d < '2024-01-02'"
    """
    if "__sqlflow_" not in sql:
        return sql

    def bound(match: re.Match[str]) -> str:
        value = interval.start if match[1] == "start" else interval.end
        return bound_text(value, match[2])

    return _TOKEN.sub(bound, sql)


# -- running the batches ----------------------------------------------------------------------------------

BatchDone = Callable[[Interval, int | None, float], None]  # interval, rows inserted, seconds
Audit = Callable[[], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeRangeRun:
    """What processing a time-range model needs besides its node and build context."""

    store: StateStore
    todo: RangeSet
    run_id: str | None
    concurrency: int = 1
    audit: Audit | None = None  # runs inside each batch's transaction; a message fails the batch
    on_batch: BatchDone | None = None  # called from the worker thread after each committed batch
    clock: Callable[[], float] | None = None  # time.perf_counter; injected so this module reads no clock


class _Batches:
    """Processes one model's batches; publishes one at a time (the ledger rows of neighbours merge)."""

    def __init__(self, node: ModelNode, ctx: BuildContext, spec: TimeRangeSpec, run: TimeRangeRun) -> None:
        self.node, self.ctx, self.spec, self.run = node, ctx, spec, run
        self.adapter = ctx.adapter
        self.dialect = ctx.adapter.dialect
        self.publish_lock = threading.Lock()
        self.names = count()
        self.rows = 0

    def sql_for(self, interval: Interval) -> str:
        node = self.node
        exists = self.ctx.relations.get(node.relation) == "table"
        text = node.incremental_sql if exists and node.incremental_sql else compiled_sql(node)
        return bind_batch(text, interval)

    def within(self, interval: Interval) -> str:
        column = quote(self.spec.time_column, self.dialect)
        start, end = bound_text(interval.start), bound_text(interval.end)
        return f"{column} >= '{start}' AND {column} < '{end}'"

    def process(self, interval: Interval) -> int | None:
        """Stage, then publish one batch; the rows it inserted."""
        clock = self.run.clock
        began = clock() if clock else 0.0
        if self.ctx.relations.get(self.node.relation) != "table":
            rows = self.publish_first(interval)
        else:
            temp = f"{self.node.relation.identifier}{BATCH_SUFFIX}_{next(self.names)}"
            self.adapter.execute(create_table_as(temp, self.sql_for(interval), self.dialect, temporary=True))
            try:
                rows = self.publish(interval, temp)
            finally:
                with suppress(SqlflowError):  # the session may be gone; a temporary table goes with it
                    self.adapter.execute(drop_relation(temp, "table", self.dialect))
        if self.run.on_batch is not None:
            self.run.on_batch(interval, rows, (clock() - began) if clock else 0.0)
        return rows

    def publish_first(self, interval: Interval) -> int | None:
        """No table yet: create it from the first batch, with its ledger row, in one transaction."""
        node = self.node
        with self.publish_lock, transaction(self.ctx):
            if self.ctx.relations.get(node.relation) == "table":  # another thread made it meanwhile
                return self._insert_direct(interval)
            select = f"SELECT * FROM ({self.sql_for(interval)}) AS {quote('sqlflow_batch', self.dialect)}"
            rows = self.adapter.execute(
                create_table_as(node.relation, f"{select} WHERE {self.within(interval)}", self.dialect)
            )
            self._finish_batch(interval)
            self.ctx.relations.set(node.relation, "table")
        return rows

    def _insert_direct(self, interval: Interval) -> int | None:
        temp = f"{self.node.relation.identifier}{BATCH_SUFFIX}_{next(self.names)}"
        self.adapter.execute(create_table_as(temp, self.sql_for(interval), self.dialect, temporary=True))
        try:
            return self._delete_insert(interval, temp)
        finally:
            self.adapter.execute(drop_relation(temp, "table", self.dialect))

    def publish(self, interval: Interval, temp: str) -> int | None:
        with self.publish_lock, transaction(self.ctx):
            return self._delete_insert(interval, temp)

    def _delete_insert(self, interval: Interval, temp: str) -> int | None:
        adapter, dialect, node = self.adapter, self.dialect, self.node
        source_columns, _ = adapter.fetch(select_nothing(temp, dialect))
        target_columns, _ = adapter.fetch(select_nothing(node.relation, dialect))
        fold = adapter.case_insensitive_identifiers
        columns = match_columns(node, target_columns, source_columns, case_insensitive=fold)
        if not any(_same(s, self.spec.time_column, fold) for _, s in columns):
            raise NodeFailedError(
                f"time_column '{self.spec.time_column}' of {node.name} is not a column of its rows",
                hint="set time_column to a timestamp column the model selects",
            )
        where = self.within(interval)
        adapter.execute(f"DELETE FROM {relation_sql(node.relation, dialect)} WHERE {where}")
        rows = adapter.execute(f"{insert_select(node.relation, temp, columns, dialect)} WHERE {where}")
        self._finish_batch(interval)
        return rows

    def _finish_batch(self, interval: Interval) -> None:
        """Audit the published batch and record it, inside its transaction."""
        if self.run.audit is not None:
            failure = self.run.audit()
            if failure is not None:
                raise BatchAuditFailed(failure)
        self.run.store.record_interval(self.node.unique_id, interval, self.run.run_id)


class BatchAuditFailed(NodeFailedError):
    """A blocking test failed on a batch; the batch was rolled back."""


def _same(a: str, b: str, fold: bool) -> bool:
    return a.lower() == b.lower() if fold else a == b


def build_time_range(node: ModelNode, ctx: BuildContext, run: TimeRangeRun) -> BuildResult:
    """Process the intervals `run.todo` of a time-range model, in order, `run.concurrency` at a time.

    Raises NodeFailedError after the first failed batch (the batches before it stay written and recorded).
    """
    spec = time_range_spec(node)
    todo: Iterator[Interval] = batches(run.todo, spec.grain)
    worker = _Batches(node, ctx, spec, run)
    total = count_intervals(run.todo, spec.grain)
    done = 0
    rows = 0
    if total == 0:
        return BuildResult(0, "up to date (no missing interval)")
    failure: tuple[Interval, BaseException] | None = None
    threads = 1 if ctx.in_transaction else max(1, run.concurrency if spec.concurrent else 1)
    if threads == 1:
        for interval in todo:
            try:
                rows += worker.process(interval) or 0
            except SqlflowError as exc:
                failure = (interval, exc)
                break
            done += 1
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlflow-batch") as pool:
            running: dict[Future[int | None], Interval] = {}
            while True:
                while failure is None and len(running) < threads:
                    pending = next(todo, None)
                    if pending is None:
                        break
                    running[pool.submit(worker.process, pending)] = pending
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    interval = running.pop(future)
                    try:
                        rows += future.result() or 0
                        done += 1
                    except SqlflowError as exc:
                        if failure is None or interval.start < failure[0].start:
                            failure = (interval, exc)
    if failure is not None:
        failed, error = failure
        raise NodeFailedError(
            f"interval {failed} failed after {done} of {total} intervals: {error}",
            hint="the failed and later intervals stay missing; the next run or backfill picks them up",
        ) from error
    noun = "interval" if total == 1 else "intervals"
    return BuildResult(rows, f"TIME_RANGE {total} {noun}, {rows} rows")


__all__ = [
    "BatchAuditFailed",
    "TimeRangeRun",
    "TimeRangeSpec",
    "bind_batch",
    "build_time_range",
    "describe_ranges",
    "is_time_range",
    "parse_instant",
    "pending",
    "time_range_spec",
]
