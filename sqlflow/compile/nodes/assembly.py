"""The last steps of a compile: check the graph, write each analysed node's SQL through one
querying.Emitter (ephemeral models inlined), expand columns and build the Manifest. Imports sqlglot only
through the context's `sql_tools()`, when something was analysed; no jinja2. Returns new records: the
drafts with their SQL written, which late rendering (late.py) starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlflow.compile.context import CompileContext
from sqlflow.compile.nodes.depends import extra_depends
from sqlflow.compile.nodes.drafts import Draft, Pending, manifest_node, metadata
from sqlflow.compile.nodes.snapshots import snapshot_columns
from sqlflow.compile.sql.columns import columns_in_order
from sqlflow.graph.dag import build_dag
from sqlflow.manifest import Manifest, ModelNode, SensorNode, SourceNode, TestNode


def assemble(
    c: CompileContext,
    drafts: list[Draft],
    tests: list[Pending[TestNode]],
    sources: list[SourceNode],
    sensors: list[Pending[SensorNode]],
) -> tuple[Manifest, list[Draft]]:
    """Check the graph for cycles, write the compiled SQL, expand columns, and build the Manifest (with
    the drafts as written)."""
    nodes: dict[str, ModelNode | TestNode | SensorNode] = {
        d.unique_id: manifest_node(d, c.project) for d in drafts
    }
    nodes.update((t.node.unique_id, t.node) for t in tests)
    nodes.update((s.node.unique_id, s.node) for s in sensors)
    extra = extra_depends(c.project, c.lookup, drafts, [t.node for t in tests], [s.node for s in sensors])
    nodes = {uid: _with_depends(node, extra.get(uid)) for uid, node in nodes.items()}
    manifest = Manifest(
        project_name=c.project.name,
        dialect=c.dialect,
        target_dialect=c.target_dialect,
        nodes=dict(sorted(nodes.items())),
        sources={s.unique_id: s for s in sorted(sources, key=lambda s: s.unique_id)},
        metadata=metadata(c.project.target, c.invocation_id, c.started),
    )
    order = build_dag(manifest).topological_order()
    by_uid = {d.unique_id: d for d in drafts}
    pending = any(t.query is not None for t in tests) or any(s.query is not None for s in sensors)
    if pending or any(d.query is not None for d in drafts):
        by_uid, tests, sensors = emit(c, by_uid, tests, sensors)
        drafts = list(by_uid.values())
    specs = {d.unique_id: d.compiled.columns for d in drafts if d.kind == "model" and d.compiled}
    specs |= {
        d.unique_id: (*d.compiled.columns, *snapshot_columns(d.config))
        for d in drafts
        if d.kind == "snapshot" and d.compiled and d.config
    }
    known = {s.unique_id: tuple(col.name for col in s.columns) for s in sources if s.columns}
    known |= {
        d.unique_id: tuple(col.name for col in d.properties.columns)
        for d in drafts
        if d.kind == "seed" and d.properties and d.properties.columns
    }
    columns = columns_in_order(order, specs, known)
    final: dict[str, ModelNode | TestNode | SensorNode] = {}
    for uid, node in manifest.nodes.items():
        draft = by_uid.get(uid)
        if draft is not None and draft.compiled is not None:
            compiled = draft.compiled
            if isinstance(node, ModelNode):
                config = node.config
                if compiled.hooks != (config.pre_hook, config.post_hook):  # rendered hooks (most have none)
                    config = replace(config, pre_hook=compiled.hooks[0], post_hook=compiled.hooks[1])
                node = replace(
                    node,
                    config=config,
                    compiled_sql=compiled.compiled_sql,
                    incremental_sql=compiled.incremental_sql,
                    inferred_columns=columns.get(uid, ()),
                )
            elif isinstance(node, TestNode):
                node = replace(node, compiled_sql=compiled.compiled_sql)
        final[uid] = node
    final.update((t.node.unique_id, _with_depends(t.node, extra.get(t.node.unique_id))) for t in tests)
    final.update((s.node.unique_id, _with_depends(s.node, extra.get(s.node.unique_id))) for s in sensors)
    return replace(manifest, nodes=final), drafts


def emitter_for(c: CompileContext, by_uid: Mapping[str, Draft]) -> Any:
    """A querying.Emitter over the drafts: ephemeral models' bodies from their queries or compiled SQL."""
    _, querying = c.sql_tools()
    bodies: dict[str, Any] = {}

    def body(uid: str) -> Any:
        draft = by_uid[uid]
        if draft.query is not None:
            return draft.query.tree
        if uid not in bodies:
            assert draft.compiled is not None
            bodies[uid] = querying.parse_compiled_body(draft.compiled.compiled_sql, c.target_dialect)
        return bodies[uid]

    def ephemeral_deps(uid: str) -> list[str]:
        compiled = by_uid[uid].compiled
        deps = compiled.depends_on if compiled else ()
        return [d for d in deps if d in by_uid and _is_ephemeral(by_uid[d])]

    return querying.Emitter(
        target_dialect=c.target_dialect,
        ephemeral_deps=ephemeral_deps,
        ephemeral_body=body,
        name_of=lambda uid: by_uid[uid].name,
    )


def emit(
    c: CompileContext,
    by_uid: dict[str, Draft],
    tests: list[Pending[TestNode]],
    sensors: list[Pending[SensorNode]],
) -> tuple[dict[str, Draft], list[Pending[TestNode]], list[Pending[SensorNode]]]:
    """The SQL of each analysed model, test and sensor written (stored in the cache): new drafts and
    nodes. Ephemeral models keep their query, whose tree the models reading them inline."""
    emitter = emitter_for(c, by_uid)
    written = dict(by_uid)
    for uid, draft in by_uid.items():
        if draft.query is None or draft.compiled is None:
            continue
        what = f"{draft.kind} '{draft.name}'"
        ephemeral = draft.config is not None and draft.config.materialized == "ephemeral"
        compiled_sql = emitter.emit(draft.query, path=draft.file.path, name=what, keep_tree=ephemeral)
        incremental_sql = None
        if draft.incremental_query is draft.query:
            incremental_sql = compiled_sql
        elif draft.incremental_query is not None:
            incremental_sql = emitter.emit(
                draft.incremental_query, path=draft.file.path, name=what, keep_tree=True
            )
        compiled = replace(draft.compiled, compiled_sql=compiled_sql, incremental_sql=incremental_sql)
        written[uid] = replace(draft, compiled=compiled)
        if not draft.volatile:
            c.cache.put("compiled", draft.cache_name, draft.compiled_key, compiled)
    out_tests: list[Pending[TestNode]] = []
    for test in tests:
        if test.query is not None:
            node = test.node
            text = emitter.emit(test.query, path=node.path, name=f"test '{node.name}'")
            value = (text, node.depends_on, node.refs, node.sources)
            c.cache.put("test", node.unique_id, test.key, value)
            test = Pending(replace(node, compiled_sql=text))
        out_tests.append(test)
    out_sensors: list[Pending[SensorNode]] = []
    for sensor in sensors:
        if sensor.query is not None:
            waits = sensor.node
            text = emitter.emit(sensor.query, path=waits.path, name=f"sensor '{waits.name}'")
            c.cache.put("sensor", waits.unique_id, sensor.key, (text, waits.depends_on, sensor.env_reads))
            sensor = Pending(replace(waits, params={"sql": text}))
        out_sensors.append(sensor)
    return written, out_tests, out_sensors


def _is_ephemeral(draft: Draft) -> bool:
    return draft.config is not None and draft.config.materialized == "ephemeral"


def _with_depends(node: Any, extra: set[str] | None) -> Any:
    """`node` with `extra` unique ids added to its depends_on (kept sorted)."""
    if not extra:
        return node
    return replace(node, depends_on=tuple(sorted({*node.depends_on, *extra})))
