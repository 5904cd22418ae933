"""The static docs site: `index.html`, the vendored libraries and app in `static/`, a compact node index in
`data/index.js`, and the details of the nodes (SQL, columns with their lineage, tests, runs) in
`nodes/<chunk>.js`, CHUNK nodes of the index per file, loaded on demand (one file per node would cost more
to write than everything else at 10,000 models).

Data files are JavaScript (`sqlflow.index(...)`, `sqlflow.register(...)`), not JSON, so the site works from
file:// where fetch() of a local file is refused. The site is written into a fresh folder that then replaces
the old one, so a server never sees half a site. Pure apart from writing files; uses jinja2 for the page and
imports no adapter, no sqlglot and no click.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from sqlflow.docs.facts import Facts, RunFact
from sqlflow.docs.lineage import invert
from sqlflow.docs.tracing import ColumnRef, ModelLineage
from sqlflow.graph import Dag
from sqlflow.manifest import Manifest, ModelNode, Node, SensorNode, SourceNode, TestNode

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
# the order of the fields of one node in data/index.js (docs/lineage.md and static/app.js read it)
INDEX_FIELDS = ("id", "name", "type", "materialized", "status", "path", "tags", "parents", "attached")
CHUNK = 50  # nodes per detail file: node i of the index is in nodes/<i // CHUNK>.js


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSummary:
    out: Path
    nodes: int
    models: int
    columns_traced: int
    lineage_errors: tuple[tuple[str, str], ...]  # (unique id, why)
    lineage_skipped: int = 0  # models not traced within the time budget


def write_site(
    out: Path,
    *,
    manifest: Manifest,
    dag: Dag,
    lineage: Mapping[str, ModelLineage],
    facts: Facts,
    generated_at: datetime,
) -> SiteSummary:
    """Write the whole site to `out` (replaced as a whole)."""
    order = [uid for uid in dag.topological_order() if uid in manifest.nodes or uid in manifest.sources]
    position = {uid: i for i, uid in enumerate(order)}
    tests_of = _tests_by_node(manifest)
    downstream = invert(lineage)
    status = {uid: runs[0].status for uid, runs in facts.runs.items() if runs}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".docs-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        shutil.copytree(STATIC, tmp / "static", ignore=shutil.ignore_patterns("README.md", "__pycache__"))
        (tmp / "nodes").mkdir()
        (tmp / "data").mkdir()
        rows = []
        chunk: list[str] = []
        for i, uid in enumerate(order):
            node = manifest.get(uid)
            rows.append(_index_row(node, position, status.get(uid), dag))
            detail = _detail(
                node, manifest, dag, lineage.get(uid), downstream.get(uid, {}), tests_of, facts, status
            )
            chunk.append(_js(detail))
            if len(chunk) == CHUNK or i == len(order) - 1:
                (tmp / "nodes" / f"{i // CHUNK}.js").write_text(
                    "sqlflow.register([\n" + ",\n".join(chunk) + "]);\n"
                )
                chunk = []
        index = {
            "project": manifest.project_name,
            "dialect": manifest.target_dialect,
            "generated_at": generated_at.isoformat(timespec="seconds"),
            "catalog_note": facts.catalog_note,
            "state_note": facts.state_note,
            "fields": list(INDEX_FIELDS),
            "chunk": CHUNK,
            "nodes": rows,
        }
        (tmp / "data" / "index.js").write_text(f"sqlflow.index({_js(index)});\n")
        page = (
            _templates()
            .get_template("index.html")
            .render(
                project=manifest.project_name, generated_at=index["generated_at"], version=_asset_version()
            )
        )
        (tmp / "index.html").write_text(page)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    errors = tuple((uid, lin.error) for uid, lin in lineage.items() if lin.error)
    return SiteSummary(
        out=out,
        nodes=len(order),
        models=sum(1 for _ in manifest.models()),
        columns_traced=sum(len(lin.edges) for lin in lineage.values()),
        lineage_errors=errors,
        lineage_skipped=sum(1 for lin in lineage.values() if lin.skipped),
    )


def _index_row(node: Node, position: Mapping[str, int], status: str | None, dag: Dag) -> list[Any]:
    config = getattr(node, "config", None)
    materialized = config.materialized if isinstance(node, ModelNode) and config is not None else None
    attached = getattr(node, "attached_node", None)
    return [
        node.unique_id,
        display_name(node),
        node.resource_type,
        materialized,
        status,
        node.path,
        list(node.tags),
        sorted(position[p] for p in dag.parents(node.unique_id) if p in position),
        position.get(attached) if attached else None,
    ]


def display_name(node: Node) -> str:
    return f"{node.source_name}.{node.name}" if isinstance(node, SourceNode) else node.name


def _detail(
    node: Node,
    manifest: Manifest,
    dag: Dag,
    lineage: ModelLineage | None,
    downstream: Mapping[str, list[ColumnRef]],
    tests_of: Mapping[str, list[TestNode]],
    facts: Facts,
    status: Mapping[str, str],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": node.unique_id,
        "name": display_name(node),
        "type": node.resource_type,
        "path": node.path,
        "description": node.description,
        "tags": list(node.tags),
        "parents": sorted(dag.parents(node.unique_id)),
        "children": sorted(dag.children(node.unique_id)),
        "runs": [_run(r) for r in facts.runs.get(node.unique_id, ())],
        "status": status.get(node.unique_id),
    }
    tests = tests_of.get(node.unique_id, [])
    doc["tests"] = [
        {
            "id": t.unique_id,
            "name": t.name,
            "test": t.test_name,
            "column": t.column_name,
            "severity": t.config.severity,
            "status": status.get(t.unique_id),
        }
        for t in tests
    ]
    if isinstance(node, ModelNode | SourceNode):
        doc["relation"] = node.relation.render(include_database=True)
        doc["columns"] = _columns(node, lineage, downstream, tests, facts)
        doc["lineage_error"] = lineage.error if lineage else None
        if lineage is not None and lineage.skipped:
            doc["lineage_error"] = (
                "not traced in this generation (over the time budget); generating again goes on from where "
                "this one stopped, and `sqlflow lineage` traces any column"
            )
    if isinstance(node, ModelNode):
        doc["materialized"] = node.config.materialized
        doc["config"] = _config(node)
    if isinstance(node, ModelNode | TestNode):
        doc["raw_sql"] = node.raw_sql
        doc["compiled_sql"] = node.compiled_sql
    if isinstance(node, TestNode):
        doc["attached"] = node.attached_node
        doc["column"] = node.column_name
        doc["test"] = node.test_name
        doc["severity"] = node.config.severity
        doc["kwargs"] = _plain(node.kwargs)
    if isinstance(node, SourceNode):
        doc["loaded_at_field"] = node.loaded_at_field
        doc["freshness"] = _plain(node.freshness)
    if isinstance(node, SensorNode):
        doc["kind"] = node.kind
        doc["params"] = _plain(node.params)
        doc["timeout"] = node.timeout
        doc["poke_interval"] = node.poke_interval
    return doc


def _columns(
    node: ModelNode | SourceNode,
    lineage: ModelLineage | None,
    downstream: Mapping[str, list[ColumnRef]],
    tests: Iterable[TestNode],
    facts: Facts,
) -> list[dict[str, Any]]:
    """Every column: the traced ones in order, then the catalog's and the YAML's; each with its type (from
    the catalog), description (YAML), tests, and direct lineage both ways."""
    described = {c.name.lower(): c for c in node.columns}
    types = facts.types_of(node.relation.schema, node.relation.identifier)
    names = [
        *(lineage.columns if lineage else ()),
        *facts.column_names(node.relation.schema, node.relation.identifier),
        *(c.name for c in node.columns),
    ]
    seen: dict[str, str] = {}
    for name in names:
        if name != "*" and name.lower() not in seen:
            seen[name.lower()] = name
    by_column: dict[str, list[TestNode]] = {}
    for t in tests:
        if t.column_name:
            by_column.setdefault(t.column_name.lower(), []).append(t)
    edges = {k.lower(): v for k, v in (lineage.edges if lineage else {}).items()}
    down = {k.lower(): v for k, v in downstream.items()}
    out = []
    for key, name in seen.items():
        info = described.get(key)
        out.append(
            {
                "name": name,
                "type": types.get(key) or (info.data_type if info else None),
                "description": info.description if info else "",
                "tests": [t.unique_id for t in by_column.get(key, [])],
                "up": [[r.node, r.column] for r in edges.get(key, ())],
                "down": [[r.node, r.column] for r in sorted(set(down.get(key, ())))],
            }
        )
    return out


def _config(node: ModelNode) -> dict[str, Any]:
    c = node.config
    doc = {
        "materialized": c.materialized,
        "unique_key": list(c.unique_key),
        "incremental_strategy": c.incremental_strategy,
        "time_column": c.time_column,
        "batch_size": c.batch_size,
        "cron": c.cron,
        "schema": c.schema,
        "alias": c.alias,
        "pool": c.pool,
    }
    return {k: v for k, v in doc.items() if v not in (None, [], ())}


def _run(r: RunFact) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "status": r.status,
        "attempt": r.attempt,
        "started_at": r.started_at.isoformat(timespec="seconds") if r.started_at else None,
        "duration": round(r.duration, 3) if r.duration is not None else None,
        "rows": r.rows,
        "message": r.message,
    }


def _tests_by_node(manifest: Manifest) -> dict[str, list[TestNode]]:
    out: dict[str, list[TestNode]] = {}
    for t in manifest.tests():
        if t.attached_node:
            out.setdefault(t.attached_node, []).append(t)
    return out


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _js(doc: Any) -> str:
    """JSON that is safe inside a script file (ASCII only, no `</`)."""
    return json.dumps(doc, separators=(",", ":"), default=str).replace("</", "<\\/")


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def _asset_version() -> str:
    """A short digest of the app's files, so a browser never mixes an old app with a new page."""
    digest = hashlib.blake2b(digest_size=6)
    for name in ("app.js", "site.css"):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()


def _replace_dir(new: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}-old-{new.name}")
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
