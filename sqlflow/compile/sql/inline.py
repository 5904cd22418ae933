"""compile_inline(): one query written on the command line (`sqlflow show --inline "..."`), compiled
against an already compiled Manifest: Jinja with the project's macros, plain model names rewritten,
ephemeral models inlined, transpiled to the target dialect. Errors are located at `<inline>:line`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlglot import exp

from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.jinja.templating import Renderer
from sqlflow.compile.lookup import Lookup, Resolved, resolved
from sqlflow.compile.sql import querying
from sqlflow.errors import SourceLocation
from sqlflow.manifest import Manifest, ModelNode, Relation
from sqlflow.project.types import Project

INLINE_PATH = "<inline>"


def manifest_lookup(manifest: Manifest, project: Project) -> Lookup:
    """ref()/source()/plain-name resolution over the nodes of a compiled manifest."""
    target = project.target
    models = [
        resolved(
            m.unique_id,
            m.name,
            m.relation,
            ephemeral=m.config.materialized == "ephemeral",
            database=m.config.database,
            target=target,
        )
        for m in manifest.models()
    ]
    sources = [
        (
            s.source_name,
            s.name,
            resolved(
                s.unique_id, s.name, s.relation, ephemeral=False, database=s.relation.database, target=target
            ),
        )
        for s in manifest.sources.values()
    ]
    return Lookup(manifest.project_name, models, sources)


def compile_inline(manifest: Manifest, project: Project, sql: str, *, target_dialect: str) -> str:
    """The compiled SQL of `sql` (Jinja allowed: ref, source, var, macros ...), in `target_dialect`."""
    lookup = manifest_lookup(manifest, project)
    text = sql
    if has_jinja(sql):
        started = manifest.metadata.get("run_started_at")
        renderer = Renderer(
            files=(),
            macro_files=project.macro_files,
            target=project.target,
            vars=project.vars,
            invocation_id=str(manifest.metadata.get("invocation_id", "")),
            run_started_at=datetime.fromisoformat(started) if started else datetime.now(UTC),
        )

        def resolve(kind: str, args: tuple[str, ...], location: SourceLocation) -> tuple[Relation, str]:
            found: Resolved = lookup.ref(args, location) if kind == "ref" else lookup.source(args, location)
            return found.relation, found.ref_text

        text = renderer.render(INLINE_PATH, text=sql, resolve=resolve).sql
    query = querying.analyse(
        text,
        dialect=project.dialect,
        lookup=lookup,
        self_uid=None,
        path=INLINE_PATH,
        raw_text=sql,
        templated=has_jinja(sql),
    )
    models = {m.unique_id: m for m in manifest.models()}
    bodies: dict[str, exp.Expr] = {}

    def body(uid: str) -> exp.Expr:
        if uid not in bodies:
            compiled = models[uid].compiled_sql or ""
            bodies[uid] = querying.parse_compiled_body(compiled, manifest.target_dialect)
        return bodies[uid]

    def ephemeral_deps(uid: str) -> list[str]:
        return [d for d in models[uid].depends_on if _is_ephemeral(models.get(d))]

    emitter = querying.Emitter(
        target_dialect=target_dialect,
        ephemeral_deps=ephemeral_deps,
        ephemeral_body=body,
        name_of=lambda uid: models[uid].name,
    )
    return emitter.emit(query, path=INLINE_PATH, name="the inline query")


def _is_ephemeral(node: ModelNode | None) -> bool:
    return node is not None and node.config.materialized == "ephemeral"
