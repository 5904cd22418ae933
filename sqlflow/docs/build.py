"""Wiring of the docs: the columns known before tracing, the lineage cache in target/, the whole site, and
the lineage of one column for `sqlflow lineage`. Called by sqlflow.api with a compiled manifest and the facts
read from the warehouse; opens no connection itself. Imports no click.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlflow.docs.facts import Facts, seed_headers
from sqlflow.docs.lineage import CACHE_VERSION, Hop, Lineage, parse_column
from sqlflow.docs.site import SiteSummary, display_name, write_site
from sqlflow.docs.tracing import ColumnRef, init_worker, run_tasks
from sqlflow.errors import SelectionError, did_you_mean
from sqlflow.graph import Dag
from sqlflow.manifest import Manifest, ModelNode, Node, SourceNode

CACHE_FILE = "docs_lineage_cache.pickle"
PARALLEL_MIN = 400  # models to trace before worker processes pay for their start
BATCH = 50  # models per task sent to a worker


def known_columns(manifest: Manifest, facts: Facts, root: Path) -> dict[str, tuple[str, ...]]:
    """Columns to trust before tracing any SQL: the catalog's for seeds, sources and models whose SQL cannot
    say (an unexpandable `*`), else a seed's CSV header. A model's own SQL is traced, not overridden by a
    catalog that may predate the last change."""
    out: dict[str, tuple[str, ...]] = dict(seed_headers(manifest, root))
    nodes: list[ModelNode | SourceNode] = [*manifest.models(), *manifest.sources.values()]
    for node in nodes:
        if isinstance(node, ModelNode) and node.resource_type != "seed" and node.compiled_sql:
            inferred = node.inferred_columns
            if inferred and "*" not in inferred:
                continue
        names = facts.column_names(node.relation.schema, node.relation.identifier)
        if names:
            out[node.unique_id] = names
    return out


def load_cache(path: Path) -> dict[str, Any]:
    """The lineage cache of the last generation ({} when missing, unreadable or of another version)."""
    try:
        with path.open("rb") as handle:
            doc = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return {}
    entries = doc.get("entries")
    return entries if isinstance(entries, dict) else {}


def save_cache(path: Path, entries: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        pickle.dump(
            {"version": CACHE_VERSION, "entries": dict(entries)}, handle, protocol=pickle.HIGHEST_PROTOCOL
        )
    tmp.replace(path)


def build_docs(
    manifest: Manifest,
    dag: Dag,
    *,
    root: Path,
    facts: Facts,
    out: Path,
    cache_path: Path | None,
    generated_at: datetime,
    clock: Callable[[], float] | None = None,
    budget: float | None = None,
) -> SiteSummary:
    """Trace the column lineage of every model (reusing the cache) and write the site to `out`.

    With a `clock` (seconds) and a `budget`, tracing stops once `budget` seconds have passed: the models
    left are shown as not traced, and the next generation, starting from the cache, goes on from there.
    """
    previous = load_cache(cache_path) if cache_path is not None else {}
    used: dict[str, Any] = {}
    lineage = Lineage(manifest, known_columns(manifest, facts, root), cache=_Recorder(previous, used))
    order = dag.topological_order()
    stop = None
    if clock is not None and budget is not None:
        deadline = clock() + budget

        def stop() -> bool:
            assert clock is not None
            return clock() > deadline

    _trace_in_parallel(lineage, order, stop)
    traced = lineage.all(order, stop=stop)
    if cache_path is not None and used.keys() != previous.keys():
        save_cache(cache_path, used)  # only this generation's entries: the cache never grows stale
    return write_site(out, manifest=manifest, dag=dag, lineage=traced, facts=facts, generated_at=generated_at)


def _trace_in_parallel(lineage: Lineage, order: Sequence[str], stop: Callable[[], bool] | None) -> None:
    """Trace the models that need no other model traced first in worker processes, one per core, when
    there are enough of them to pay for starting the workers; their results go to the lineage cache.
    Anything that stops the pool (no /dev/shm, a sandbox) leaves the work to the sequential pass."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return
    tasks = lineage.untraced(order)
    if len(tasks) < PARALLEL_MIN:
        return
    batches = [tasks[i : i + BATCH] for i in range(0, len(tasks), BATCH)]
    context = multiprocessing.get_context("forkserver")  # never fork a process that may run threads
    context.set_forkserver_preload(["sqlflow.docs.tracing"])
    try:
        with ProcessPoolExecutor(
            max_workers=min(cores, 8),
            mp_context=context,
            initializer=init_worker,
            initargs=(lineage.relations,),
        ) as pool:
            running = {
                pool.submit(run_tasks, [task for _, task in batch]): batch for batch in batches[: 2 * cores]
            }
            queued = batches[2 * cores :]
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = running.pop(future)
                    for (key, _), result in zip(batch, future.result(), strict=True):
                        lineage.store[key] = result
                    if queued and not (stop is not None and stop()):
                        nxt = queued.pop(0)
                        running[pool.submit(run_tasks, [task for _, task in nxt])] = nxt
    except (OSError, BrokenProcessPool):
        return


class _Recorder(dict[str, Any]):
    """A cache that answers from `previous` and records every entry used (old or new) in `used`."""

    def __init__(self, previous: Mapping[str, Any], used: dict[str, Any]) -> None:
        super().__init__()
        self.previous = previous
        self.used = used

    def get(self, key: str, default: Any = None) -> Any:
        value = self.used.get(key)
        if value is None:
            value = self.previous.get(key)
            if value is not None:
                self.used[key] = value
        return default if value is None else value

    def __setitem__(self, key: str, value: Any) -> None:
        self.used[key] = value


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnLineage:
    """What `sqlflow lineage` prints: the column asked about and the edges walked from it."""

    column: ColumnRef
    downstream: bool
    hops: tuple[Hop, ...]
    names: Mapping[str, str]  # unique id -> the name to print
    error: str | None  # why the model's SQL could not be traced


def trace_column(
    manifest: Manifest,
    known: Mapping[str, Sequence[str]],
    text: str,
    *,
    downstream: bool = False,
    depth: int | None = None,
) -> ColumnLineage:
    """The upstream columns of `model.column` (or, with `downstream`, the columns derived from it)."""
    lineage = Lineage(manifest, known)
    ref = find_column(manifest, lineage, text)
    hops = lineage.downstream(ref, depth=depth) if downstream else lineage.upstream(ref, depth=depth)
    names = {n.unique_id: display_name(n) for n in manifest.all_nodes()}
    return ColumnLineage(
        column=ref, downstream=downstream, hops=tuple(hops), names=names, error=lineage.of(ref.node).error
    )


def find_column(manifest: Manifest, lineage: Lineage, text: str) -> ColumnRef:
    """`orders.amount`, `raw.orders.amount` (a source) or `model.shop.orders.amount` -> a ColumnRef."""
    try:
        node_text, column = parse_column(text)
    except ValueError:
        raise SelectionError(
            f"'{text}' does not name a column", hint="write MODEL.COLUMN, e.g. orders.amount"
        ) from None
    nodes: dict[str, Node] = {}
    for node in manifest.all_nodes():
        if isinstance(node, ModelNode | SourceNode):
            nodes.setdefault(node.unique_id, node)
            nodes.setdefault(display_name(node), node)
    named = nodes.get(node_text)
    if named is None:
        hint = did_you_mean(node_text, sorted({display_name(n) for n in nodes.values()}))
        raise SelectionError(
            f"no model, seed, snapshot or source named '{node_text}'", hint=hint or "see 'sqlflow ls'"
        )
    columns = lineage.columns(named.unique_id)
    for name in columns:
        if name.lower() == column.lower():
            return ColumnRef(named.unique_id, name)
    if not columns:
        raise SelectionError(
            f"the columns of {node_text} are not known",
            hint="build it, or describe its columns in property YAML",
        )
    raise SelectionError(
        f"{node_text} has no column '{column}'",
        hint=did_you_mean(column, columns) or "its columns: " + ", ".join(columns),
    )
