"""The last steps of a compile: check the graph, write each analysed node's SQL through one
querying.Emitter (ephemeral models inlined), expand columns and build the Manifest. Imports sqlglot only
through `_Compile.sql_tools()`, when something was analysed; no jinja2.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlflow.compile.nodes.depends import extra_depends
from sqlflow.compile.nodes.drafts import Draft, manifest_node, metadata
from sqlflow.compile.nodes.snapshots import snapshot_columns
from sqlflow.compile.sql.columns import columns_in_order
from sqlflow.graph.dag import build_dag
from sqlflow.manifest import Manifest, ModelNode, SensorNode, SourceNode, TestNode

if TYPE_CHECKING:
    from sqlflow.compile.compiler import _Compile
    from sqlflow.compile.sql.querying import Query


def assemble(
    c: _Compile,
    drafts: list[Draft],
    tests: list[tuple[TestNode, Query | None]],
    sources: list[SourceNode],
    sensors: list[tuple[SensorNode, Query | None]],
) -> Manifest:
    """Check the graph for cycles, write the compiled SQL, expand columns, and build the Manifest."""
    nodes: dict[str, ModelNode | TestNode | SensorNode] = {
        d.unique_id: manifest_node(d, c.project) for d in drafts
    }
    nodes.update((t.unique_id, t) for t, _ in tests)
    nodes.update((s.unique_id, s) for s, _ in sensors)
    extra = extra_depends(c.project, c.lookup, drafts, [t for t, _ in tests], [s for s, _ in sensors])
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
    if any(q is not None for _, q in [*tests, *sensors]) or any(d.query is not None for d in drafts):
        emit(c, by_uid, tests, sensors)
    specs = {d.unique_id: d.compiled.columns for d in drafts if d.kind == "model" and d.compiled}
    specs |= {
        d.unique_id: (*d.compiled.columns, *snapshot_columns(d.config))
        for d in drafts
        if d.kind == "snapshot" and d.compiled and d.config
    }
    known = {s.unique_id: tuple(c.name for c in s.columns) for s in sources if s.columns}
    known |= {
        d.unique_id: tuple(c.name for c in d.properties.columns)
        for d in drafts
        if d.kind == "seed" and d.properties and d.properties.columns
    }
    columns = columns_in_order(order, specs, known)
    final: dict[str, ModelNode | TestNode | SensorNode] = {}
    for uid, node in manifest.nodes.items():
        draft = by_uid.get(uid)
        if draft is not None and draft.compiled is not None:
            c = draft.compiled
            if isinstance(node, ModelNode):
                node = replace(
                    node,
                    config=replace(node.config, pre_hook=c.hooks[0], post_hook=c.hooks[1]),
                    compiled_sql=c.compiled_sql,
                    incremental_sql=c.incremental_sql,
                    inferred_columns=columns.get(uid, ()),
                )
            elif isinstance(node, TestNode):
                node = replace(node, compiled_sql=c.compiled_sql)
        final[uid] = node
    final.update((t.unique_id, _with_depends(t, extra.get(t.unique_id))) for t, _ in tests)
    final.update((s.unique_id, _with_depends(s, extra.get(s.unique_id))) for s, _ in sensors)
    return replace(manifest, nodes=final)


def emitter_for(c: _Compile, by_uid: dict[str, Draft]) -> Any:
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
        return [d for d in deps if d in by_uid and by_uid[d].config.materialized == "ephemeral"]

    return querying.Emitter(
        target_dialect=c.target_dialect,
        ephemeral_deps=ephemeral_deps,
        ephemeral_body=body,
        name_of=lambda uid: by_uid[uid].name,
    )


def emit(
    c: _Compile,
    by_uid: dict[str, Draft],
    tests: list[tuple[TestNode, Query | None]],
    sensors: list[tuple[SensorNode, Query | None]],
) -> None:
    """Write the SQL of each analysed model and test; store the results in the cache."""
    emitter = emitter_for(c, by_uid)
    for draft in by_uid.values():
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
        draft.compiled = replace(draft.compiled, compiled_sql=compiled_sql, incremental_sql=incremental_sql)
        if not draft.volatile:
            c.cache.put("compiled", draft.cache_name, draft.compiled_key, draft.compiled)
    for index, (test, query) in enumerate(tests):
        if query is not None:
            text = emitter.emit(query, path=test.path, name=f"test '{test.name}'")
            tests[index] = (replace(test, compiled_sql=text), None)
            c.cache.put(
                "test",
                test.unique_id,
                c.test_keys[test.unique_id],
                (text, test.depends_on, test.refs, test.sources),
            )
    for index, (sensor, query) in enumerate(sensors):
        if query is not None:
            text = emitter.emit(query, path=sensor.path, name=f"sensor '{sensor.name}'")
            sensors[index] = (replace(sensor, params={"sql": text}), None)
            key, env_reads = c.sensor_keys[sensor.unique_id]
            c.cache.put("sensor", sensor.unique_id, key, (text, sensor.depends_on, env_reads))


def _with_depends(node: Any, extra: set[str] | None) -> Any:
    """`node` with `extra` unique ids added to its depends_on (kept sorted)."""
    if not extra:
        return node
    return replace(node, depends_on=tuple(sorted({*node.depends_on, *extra})))
