"""Interval bookkeeping seen from the outside: backfill windows, what a backfill would do, and the status
of each incremental model (processed ranges, gaps, last run).

Pure functions of the manifest, the ledger read from the state store and `now`; no clock, no printing.
Imports no driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlflow.errors import ConfigError, SelectionError
from sqlflow.graph import Dag
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.materializations.time_range import (
    describe_ranges,
    is_time_range,
    parse_instant,
    pending,
    time_range_spec,
)
from sqlflow.state.intervals import Interval, RangeSet, batches, count_intervals
from sqlflow.state.store import NodeRunRecord

LISTED_INTERVALS = 50  # a dry run lists each interval up to this many, then ranges with counts


def backfill_models(manifest: Manifest, dag: Dag, selected: Iterable[str], *, cascade: bool) -> list[str]:
    """The time-range models a backfill of `selected` processes (with `cascade`, their time-range
    descendants too), in graph order. SelectionError when there is none."""
    chosen = {uid for uid in selected if _time_range_model(manifest, uid)}
    if cascade:
        chosen |= {d for d in dag.downstream(chosen) if _time_range_model(manifest, d)}
    if not chosen:
        raise SelectionError(
            "no time-range model is selected",
            hint="backfill fills models with incremental_strategy time_range (or microbatch); "
            "check --select, or use 'sqlflow run --full-refresh' for other models",
        )
    return [uid for uid in dag.topological_order() if uid in chosen]


def _time_range_model(manifest: Manifest, uid: str) -> bool:
    node = manifest.nodes.get(uid)
    return isinstance(node, ModelNode) and is_time_range(node)


def backfill_windows(manifest: Manifest, models: Iterable[str], start: str, end: str) -> dict[str, Interval]:
    """unique id -> the window [start, end) widened to whole intervals of that model (dates and times
    without an offset are read in the model's batch_timezone)."""
    windows = {}
    for uid in models:
        node = manifest.nodes[uid]
        assert isinstance(node, ModelNode)
        grain = time_range_spec(node).grain
        s = parse_instant(start, grain.tz, what="--start")
        e = parse_instant(end, grain.tz, what="--end")
        if not s < e:
            raise ConfigError(
                f"--start {start} is not before --end {end}", hint="the window is [start, end): end exclusive"
            )
        windows[uid] = Interval(grain.floor(s), grain.ceil(e))
    return windows


def backfill_preview(
    manifest: Manifest,
    windows: Mapping[str, Interval],
    done: Mapping[str, RangeSet],
    resuming: Iterable[tuple[str, Interval]],
) -> dict[str, list[str]]:
    """unique id -> the lines of what a backfill would process: each interval (ranges with counts when
    there are many). A window whose backfill was interrupted resumes: only its missing intervals."""
    unfinished = set(resuming)
    out: dict[str, list[str]] = {}
    for uid, window in windows.items():
        node = manifest.nodes[uid]
        assert isinstance(node, ModelNode)
        spec = time_range_spec(node)
        resumed = (uid, window) in unfinished
        ledger = done.get(uid, RangeSet()) if resumed else RangeSet()
        todo = pending(spec, ledger, now=window.end, window=window)
        n = count_intervals(todo, spec.grain)
        head = f"{n} interval{'s' if n != 1 else ''}"
        head += " (resuming an interrupted backfill)" if resumed else ""
        if n <= LISTED_INTERVALS:
            lines = [f"{b.start:%Y-%m-%d %H:%M} .. {b.end:%Y-%m-%d %H:%M}" for b in batches(todo, spec.grain)]
        else:
            lines = describe_ranges(todo, spec.grain)
        out[uid] = [head, *lines]
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelStatus:
    """One incremental model: its settings, processed ranges and gaps (time-range), and its last run."""

    unique_id: str
    name: str
    strategy: str
    batch_size: str | None = None
    begin: datetime | None = None
    done: tuple[str, ...] = ()  # processed ranges
    gaps: tuple[str, ...] = ()  # missing ranges up to now (or the latest cron tick)
    missing: int = 0  # missing intervals
    last_run: NodeRunRecord | None = None


def incremental_status(
    manifest: Manifest,
    selected: Iterable[str],
    *,
    done: Mapping[str, RangeSet],
    last_runs: Mapping[str, NodeRunRecord],
    now: datetime,
    horizons: Mapping[str, datetime],
) -> list[ModelStatus]:
    """The status of each selected incremental model, in name order."""
    out = []
    for uid in sorted(selected, key=lambda u: manifest.nodes[u].name if u in manifest.nodes else u):
        node = manifest.nodes.get(uid)
        if not isinstance(node, ModelNode) or node.config.materialized != "incremental":
            continue
        last = last_runs.get(uid)
        if not is_time_range(node):
            strategy = node.config.incremental_strategy or ("merge" if node.config.unique_key else "append")
            out.append(ModelStatus(unique_id=uid, name=node.name, strategy=strategy, last_run=last))
            continue
        spec = time_range_spec(node)
        ledger = done.get(uid, RangeSet())
        gaps = RangeSet()
        if spec.begin is not None:
            as_is = replace(spec, lookback=0)  # a gap is what is missing, not what a run would redo
            gaps = pending(as_is, ledger, now=now, horizon=horizons.get(uid), name=node.name)
        out.append(
            ModelStatus(
                unique_id=uid,
                name=node.name,
                strategy="time_range",
                batch_size=node.config.batch_size,
                begin=spec.begin,
                done=tuple(describe_ranges(ledger, spec.grain)),
                gaps=tuple(describe_ranges(gaps, spec.grain)),
                missing=count_intervals(gaps, spec.grain),
                last_run=last,
            )
        )
    return out


__all__ = [
    "ModelStatus",
    "backfill_models",
    "backfill_preview",
    "backfill_windows",
    "incremental_status",
]
