"""Between the two render passes: settle each node's final config and relation from its config() calls
(disabled nodes dropped, duplicate names rejected), then the Lookup that resolves ref() and source().
Pure Python at import: no jinja2, no sqlglot (generate_<part>_name macros render through the compile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlflow.compile.context import CompileContext
from sqlflow.compile.lookup import Lookup, Resolved, resolved
from sqlflow.compile.nodes.configs import node_config, relation_for
from sqlflow.compile.nodes.drafts import Draft
from sqlflow.compile.nodes.snapshots import snapshot_config, snapshot_relation
from sqlflow.errors import ConfigError, DuplicateNodeError, SourceLocation
from sqlflow.manifest import SourceNode
from sqlflow.project.config import merge_config


def settle(c: CompileContext, drafts: list[Draft]) -> tuple[list[Draft], dict[str, str]]:
    """Final configs and relations; disabled nodes dropped (returned by name, with their file, but those
    whose name an enabled node has); duplicate names rejected."""
    kept: list[Draft] = []
    disabled: dict[str, str] = {}
    seen: dict[tuple[str, str], Draft] = {}
    target = c.project.target
    for draft in drafts:
        merged = draft.base
        for call, _ in draft.rendered.configs if draft.rendered else ():
            merged = merge_config(merged, call)
        forced = {"seed": {"materialized": "seed"}, "test": {"materialized": "test"}}.get(draft.kind, {})
        config = node_config(merged, **forced)
        if draft.kind == "snapshot" and config.enabled:
            config = snapshot_config(config, name=draft.name, where=_config_place(draft))
        if not config.enabled:
            if draft.kind != "test":
                disabled.setdefault(draft.name, draft.file.path)
            continue
        space = ("test" if draft.kind == "test" else "node", draft.name)
        other = seen.get(space)
        if other is not None:
            both = (
                f"two {draft.kind}s are"
                if other.kind == draft.kind
                else f"a {other.kind} and a {draft.kind} are"
            )
            raise DuplicateNodeError(
                f"{both} named '{draft.name}'",
                location=SourceLocation(draft.file.path),
                hint=f"the other is {other.file.path}; rename one of them",
            )
        # one new record per draft (a compile makes thousands): the relation is added in the same replace
        # unless a naming macro needs to see the draft with its config first
        relation = draft.relation
        if c.naming:
            draft = replace(draft, merged=merged, config=config)
            naming = naming_for(c, draft)
        else:
            naming = None
        if draft.kind == "snapshot":
            relation = snapshot_relation(draft.name, config, target, naming)
        elif draft.kind != "test":
            relation = relation_for(draft.name, config, target, naming)
            if config.sensor:
                raise ConfigError(
                    f"'sensor' is a test config; {draft.kind} '{draft.name}' cannot wait",
                    location=SourceLocation(draft.file.path),
                    hint="put sensor: on a test of it, or declare a sensor under sensors: and add "
                    "depends_on: ['sensor:<name>'] to it",
                )
        draft = replace(draft, merged=merged, config=config, relation=relation)
        seen[space] = draft
        kept.append(draft)
    return kept, {name: path for name, path in disabled.items() if ("node", name) not in seen}


def naming_for(c: CompileContext, draft: Draft) -> Callable[[str, str | None], str | None]:
    """The part -> name function calling the project's generate_<part>_name macros for one node."""
    from sqlflow.compile.nodes.dbt_nodes import node_doc

    node = node_doc(draft, None, None)

    def naming(part: str, custom: str | None) -> str | None:
        if part not in c.naming:
            return None
        value = c.renderer.call_macro(f"generate_{part}_name", custom, node, path=draft.file.path)
        return str(value).strip() if value is not None and str(value).strip() else None

    return naming


def make_lookup(
    c: CompileContext, drafts: list[Draft], sources: list[SourceNode], disabled: dict[str, str]
) -> Lookup:
    """The Lookup over the settled drafts and the sources; each ref and source of pass 1 checked."""
    target = c.project.target
    nodes = [
        resolved(
            d.unique_id,
            d.name,
            d.relation,
            ephemeral=d.config.materialized == "ephemeral",
            incremental=d.config.materialized == "incremental",
            database=d.config.database,
            target=target,
            dbt_names=c.dbt_names,
            quoting=c.project.quoting,
        )
        for d in drafts
        if d.relation is not None and d.config is not None and d.kind != "analysis"
    ]
    tables = [
        (
            s.source_name,
            s.name,
            _external(
                resolved(
                    s.unique_id,
                    s.name,
                    s.relation,
                    ephemeral=False,
                    database=t.database,
                    target=target,
                    dbt_names=c.dbt_names,
                    quoting=c.project.quoting,
                ),
                s,
            ),
        )
        for s, t in zip(sources, c.project.source_tables, strict=True)
    ]
    lookup = Lookup(c.project.name, nodes, tables, disabled)
    for draft in drafts:  # refs and sources of pass 1, also those a cache hit will not render again
        rendered = draft.rendered
        for args, location in rendered.refs if rendered else ():
            lookup.ref(args, location)
        for args, location in rendered.sources if rendered else ():
            lookup.source(args, location)
    return lookup


def _external(found: Resolved, source: SourceNode) -> Resolved:
    """A source with an external_location prints it (a file or a table function) in place of its name."""
    return found if source.external is None else replace(found, ref_text=source.external)


def _config_place(draft: Draft) -> SourceLocation:
    """Where a snapshot's config is written, for a message saying what it lacks: its last config() call,
    else its property YAML entry, else its `{% snapshot %}` block (or its file)."""
    configs = draft.rendered.configs if draft.rendered else ()
    if configs:
        return configs[-1][1]
    if draft.properties is not None:
        return SourceLocation(draft.properties.path, draft.properties.line)
    return SourceLocation(draft.file.path, draft.line)
