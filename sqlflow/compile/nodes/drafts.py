"""The work in progress of a compile and the nodes built from it: Draft (one file being compiled), the
cached Rendered / Compiled results, and the ModelNode / TestNode / SourceNode / metadata they become.

Plain data and pure functions; imports neither jinja2 nor sqlglot (a cache hit needs neither).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import sqlflow
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.nodes.descriptions import described_columns, render_description
from sqlflow.compile.nodes.external import external_text
from sqlflow.compile.nodes.orchestration import node_settings
from sqlflow.compile.nodes.snapshots import split_snapshots
from sqlflow.errors import SourceLocation, did_you_mean
from sqlflow.manifest import FileLoad, ModelNode, NodeConfig, Relation, SensorNode, SourceNode, TestNode
from sqlflow.project.config import folder_config, merge_config
from sqlflow.project.types import NodeProperties, Project, SourceFile, SourceTable, Target

if TYPE_CHECKING:
    from sqlflow.compile.sql.querying import Query

# ref() or source() calls: (the call's arguments, where it is written)
Calls = tuple[tuple[tuple[str, ...], SourceLocation], ...]
_RESOURCE_TYPES: dict[str, Literal["model", "seed", "snapshot", "analysis"]] = {
    "seed": "seed",
    "snapshot": "snapshot",
    "analysis": "analysis",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """Pass 1 of a file (cached): its text when final, config() calls, refs, sources, env vars read."""

    sql: str | None  # None when the text used a relation: pass 2 renders it again
    configs: tuple[tuple[Mapping[str, Any], SourceLocation], ...] = ()
    refs: Calls = ()
    sources: Calls = ()
    env_reads: tuple[tuple[str, str | None], ...] = ()
    # what the template warned about (a config key's likely typo, exceptions.warn), kept for a cached render
    warnings: tuple[tuple[str, SourceLocation | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Compiled:
    """The compiled form of a model or singular test (cached)."""

    compiled_sql: str
    incremental_sql: str | None
    depends_on: tuple[str, ...]
    refs: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    external_tables: tuple[str, ...]
    columns: tuple[Any, ...]  # a column spec, see sql.column_spec
    hooks: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # pre_hook, post_hook, rendered
    file_reads: tuple[str, ...] = ()  # files read through table functions, as written
    file_loads: tuple[FileLoad, ...] = ()  # the CSV files sqlflow loads (an engine that cannot read them)


N = TypeVar("N", TestNode, SensorNode)


@dataclass(frozen=True, slots=True)
class Pending(Generic[N]):
    """A test or sensor node as its stage built it: with its analysed `query` when its SQL is written after
    the DAG check (an ephemeral model to inline, another dialect), and the cache `key` and environment
    variables read that the written SQL is stored with."""

    node: N
    query: Query | None = None
    key: str = ""
    env_reads: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """A model, seed, snapshot or singular test while it is compiled (internal; nodes are built from it at
    the end). A snapshot's `file` holds the text of its block only (see snapshots.split_snapshots).

    Frozen: each stage returns a new draft (`dataclasses.replace`) with its own fields filled in:
    discovered (`read_drafts`) -> rendered (models.render_pass1: key, volatile, rendered, late) ->
    settled (settling.settle: merged, config, relation) -> analysed (models.analyse_draft: compiled_key,
    query, incremental_query, compiled) -> written (assembly.emit: compiled with its SQL)."""

    file: SourceFile
    kind: str  # "model" | "seed" | "snapshot" | "test" | "analysis"
    name: str
    unique_id: str
    fqn: tuple[str, ...]
    base: dict[str, Any]  # folder config < property config
    properties: NodeProperties | None = None
    line: int | None = None  # of a snapshot's `{% snapshot %}` block
    raw: str | None = None  # a snapshot block's body as written
    # -- rendered (pass 1) --
    key: str = ""  # of the render (pass 1)
    volatile: bool = False
    rendered: Rendered | None = None
    late: bool = False  # its template runs queries (run_query ...): rendered again just before it runs
    # -- settled --
    merged: dict[str, Any] = field(default_factory=dict)
    config: NodeConfig | None = None
    relation: Relation | None = None
    # -- analysed (pass 2) --
    compiled_key: str = ""
    query: Query | None = None
    incremental_query: Query | None = None
    compiled: Compiled | None = None

    @property
    def template(self) -> str | None:
        """The text to render when it is not the file's (a snapshot block), else None."""
        return self.file.text if self.kind == "snapshot" else None

    @property
    def cache_name(self) -> str:
        """What the compile cache keeps this draft's results under (one file may hold many snapshots)."""
        return self.unique_id if self.kind == "snapshot" else self.file.path


def read_drafts(p: Project) -> list[Draft]:
    """A draft per model, seed, snapshot and singular test, with its folder and property config."""
    out: list[Draft] = []
    groups: tuple[tuple[str, Any, Any, Any, Any], ...] = (
        ("model", p.model_files, p.model_paths, p.model_configs, p.model_properties),
        ("seed", p.seed_files, p.seed_paths, p.seed_configs, p.seed_properties),
        ("test", p.test_files, p.test_paths, p.test_configs, {}),
        ("analysis", p.analysis_files, p.analysis_paths, {}, {}),
    )
    for kind, files, paths, tree, properties in groups:
        for file in files:
            name = file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            fqn = (p.name, *folders_of(file.path, paths), name)
            props = properties.get(name)
            base = merge_config(folder_config(tree, fqn), props.config if props else {})
            out.append(Draft(file, kind, name, f"{kind}.{p.name}.{name}", fqn, base, props))
    for file in p.snapshot_files:
        for block in split_snapshots(file):
            fqn = (p.name, *folders_of(file.path, p.snapshot_paths), block.name)
            props = p.snapshot_properties.get(block.name)
            base = merge_config(folder_config(p.snapshot_configs, fqn), props.config if props else {})
            uid = f"snapshot.{p.name}.{block.name}"
            out.append(
                Draft(
                    block.file, "snapshot", block.name, uid, fqn, base, props, line=block.line, raw=block.raw
                )
            )
    return out


def orphan_properties(p: Project, drafts: Iterable[Draft]) -> list[tuple[str, SourceLocation]]:
    """A warning for each model, seed or snapshot that property YAML describes and that has no file: as dbt
    does, its properties (and tests) are dropped."""
    names: dict[str, set[str]] = {"model": set(), "seed": set(), "snapshot": set()}
    for draft in drafts:
        names.get(draft.kind, set()).add(draft.name)
    found = []
    for kind, properties in (
        ("model", p.model_properties), ("seed", p.seed_properties), ("snapshot", p.snapshot_properties),
    ):  # fmt: skip
        for name, props in sorted(properties.items(), key=lambda item: (item[1].path, item[1].line or 0)):
            if name not in names[kind]:
                hint = did_you_mean(name, names[kind])
                found.append(
                    (
                        f"unknown {kind} '{name}': its properties and tests are ignored"
                        + (f" ({hint})" if hint else ""),
                        SourceLocation(props.path, props.line),
                    )
                )
    return found


def source_nodes(p: Project, render: Callable[[str, SourceLocation], str] | None = None) -> list[SourceNode]:
    """The SourceNodes of the `sources:` in property YAML. With `render`, Jinja in a source's `database`,
    `schema` and `identifier` (`{{ env_var('RAW_SCHEMA') }}`) is rendered, as dbt does."""
    return [_source_node(p, t, render) for t in p.source_tables]


def _source_node(
    p: Project, t: SourceTable, render: Callable[[str, SourceLocation], str] | None
) -> SourceNode:
    def field(value: str) -> str:
        return render(value, SourceLocation(t.path, t.line)) if render and has_jinja(value) else value

    database = field(t.database) if t.database else p.target.database
    schema, identifier = field(t.schema), field(t.identifier)
    return SourceNode(
        unique_id=f"source.{p.name}.{t.source_name}.{t.name}",
        source_name=t.source_name,
        name=t.name,
        package_name=p.name,
        path=t.path,
        line=t.line,
        fqn=(p.name, *folders_of(t.path, (*p.model_paths, *p.seed_paths)), t.source_name, t.name),
        relation=Relation(database=database, schema=schema, identifier=identifier),
        external=external_text(t, name=t.name, identifier=identifier, schema=schema, database=database),
        description=render_description(t.description, p.doc_blocks, SourceLocation(t.path, t.line)),
        columns=described_columns(t.columns, p.doc_blocks, SourceLocation(t.path, t.line)),
        loaded_at_field=t.loaded_at_field,
        freshness=t.freshness,
        tags=t.tags,
        meta=t.meta,
    )


def manifest_node(draft: Draft, p: Project) -> ModelNode | TestNode:
    """The manifest node of a draft, before its SQL is written."""
    c, props = draft.compiled, draft.properties
    assert draft.config is not None
    if draft.kind == "test":
        return TestNode(
            unique_id=draft.unique_id,
            name=draft.name,
            package_name=p.name,
            path=draft.file.path,
            fqn=draft.fqn,
            test_type="singular",
            test_name=draft.name,
            raw_sql=draft.file.text,
            checksum=draft.file.checksum,
            config=draft.config,
            depends_on=c.depends_on if c else (),
            refs=c.refs if c else (),
            sources=c.sources if c else (),
        )
    assert draft.relation is not None
    where = SourceLocation(props.path, props.line) if props else SourceLocation(draft.file.path)
    return ModelNode(
        unique_id=draft.unique_id,
        name=draft.name,
        resource_type=_RESOURCE_TYPES.get(draft.kind, "model"),
        package_name=p.name,
        path=draft.file.path,
        fqn=draft.fqn,
        raw_sql=draft.file.text if draft.raw is None else draft.raw,
        checksum=draft.file.checksum,
        config=draft.config,
        relation=draft.relation,
        description=render_description(props.description, p.doc_blocks, where) if props else "",
        columns=described_columns(props.columns, p.doc_blocks, where) if props else (),
        patch_path=props.path if props else None,
        depends_on=c.depends_on if c else (),
        refs=c.refs if c else (),
        sources=c.sources if c else (),
        external_tables=c.external_tables if c else (),
        file_reads=c.file_reads if c else (),
        file_loads=c.file_loads if c else (),
        late_sql=draft.late,
        **node_settings(draft, p),
    )


def metadata(target: Target, invocation_id: str, started: datetime) -> dict[str, Any]:
    """Manifest.metadata: the invocation, when, sqlflow's version and the target."""
    return {
        "invocation_id": invocation_id,
        "generated_at": started.isoformat(),
        "run_started_at": started.isoformat(),
        "sqlflow_version": sqlflow.__version__,
        "target_name": target.name,
        "target_type": target.type,
        "adapter_type": target.type,
    }


def folders_of(path: str, roots: Iterable[str]) -> tuple[str, ...]:
    """The folders of `path` below the first of `roots` holding it: models/a/b/x.sql -> (a, b)."""
    for root in roots:
        prefix = os.path.normpath(root).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        if path.startswith(prefix):
            return tuple(path[len(prefix) :].split("/")[:-1])
    return tuple(path.split("/")[:-1])
