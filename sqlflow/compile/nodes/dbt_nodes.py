"""Nodes as dbt's Jinja sees them: `model` (the node being rendered) and `graph` (manifest-shaped `nodes`
and `sources`); the warnings of a compile (packages not installed, exceptions.warn).

Pure functions over drafts and plain data; no jinja2, no sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlflow.compile.nodes.configs import node_config
from sqlflow.errors import SourceLocation
from sqlflow.manifest import NodeConfig, Relation, SourceNode

if TYPE_CHECKING:
    from sqlflow.compile.nodes.drafts import Draft

_RESOURCE = {"seed": "seed", "snapshot": "snapshot", "test": "test", "analysis": "analysis"}


def config_doc(config: NodeConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """A node's config as dbt shows it: `pre-hook`/`post-hook` spelt with a dash, hooks as {sql: ...}."""
    if config is None:
        return {}
    if isinstance(config, NodeConfig):
        values = {f: getattr(config, f) for f in NodeConfig.__dataclass_fields__ if f != "extra"}
        values = {**config.extra, **values}
    else:
        values = dict(config)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("pre_hook", "post_hook"):
            out[key.replace("_", "-")] = [{"sql": h, "transaction": True} for h in value or ()]
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[key] = value
    if isinstance(out.get("unique_key"), list) and len(out["unique_key"]) == 1:
        out["unique_key"] = out["unique_key"][0]
    return out


def node_doc(draft: Draft, relation: Relation | None, relation_text: str | None) -> dict[str, Any]:
    """`model` / a `graph.nodes` entry for a draft; relation parts are None until they are settled."""
    props = draft.properties
    config = draft.config if draft.config is not None else node_config(draft.base)
    refs = draft.compiled.refs if draft.compiled else ()
    rendered = draft.rendered
    if not refs and rendered is not None:
        refs = tuple(dict.fromkeys(args[-1] for args, _ in rendered.refs))
    sources = draft.compiled.sources if draft.compiled else ()
    if not sources and rendered is not None:
        sources = tuple(dict.fromkeys((args[0], args[1]) for args, _ in rendered.sources))
    return {
        "unique_id": draft.unique_id,
        "name": draft.name,
        "resource_type": _RESOURCE.get(draft.kind, "model"),
        "package_name": draft.unique_id.split(".")[1],
        "path": draft.file.path.split("/", 1)[-1],
        "original_file_path": draft.file.path,
        "fqn": list(draft.fqn),
        "alias": relation.identifier if relation else None,
        "schema": relation.schema if relation else None,
        "database": relation.database if relation else None,
        "relation_name": relation_text,
        "config": config_doc(config),
        "tags": list(config.tags),
        "meta": dict(config.meta),
        "description": props.description if props else "",
        "columns": {
            c.name: {
                "name": c.name,
                "description": c.description,
                "data_type": c.data_type,
                "meta": dict(c.meta),
            }
            for c in (props.columns if props else ())
        },
        "raw_code": draft.raw if draft.raw is not None else draft.file.text,
        "language": "sql",
        "refs": [{"name": r, "package": None, "version": None} for r in refs],
        "sources": [list(s) for s in sources],
        "depends_on": {"nodes": list(draft.compiled.depends_on) if draft.compiled else [], "macros": []},
        "patch_path": props.path if props else None,
        "checksum": {"name": "sha256", "checksum": draft.file.checksum},
    }


def source_doc(source: SourceNode, relation_text: str | None) -> dict[str, Any]:
    """A `graph.sources` entry."""
    return {
        "unique_id": source.unique_id,
        "name": source.name,
        "source_name": source.source_name,
        "resource_type": "source",
        "package_name": source.package_name,
        "path": source.path,
        "original_file_path": source.path,
        "fqn": list(source.fqn),
        "database": source.relation.database,
        "schema": source.relation.schema,
        "identifier": source.relation.identifier,
        "relation_name": relation_text,
        "description": source.description,
        "columns": {
            c.name: {"name": c.name, "description": c.description, "data_type": c.data_type}
            for c in source.columns
        },
        "loaded_at_field": source.loaded_at_field,
        "tags": list(source.tags),
        "meta": dict(source.meta),
        "config": {"enabled": True, "tags": list(source.tags), "meta": dict(source.meta)},
    }


def graph_doc(
    drafts: Iterable[Draft], sources: Iterable[SourceNode], found: Mapping[str, Any]
) -> dict[str, Any]:
    """dbt's `graph`; `found` maps unique ids to their lookup entry (with `ref_text`), empty before the
    relations are settled."""
    nodes = {}
    for draft in drafts:
        entry = found.get(draft.unique_id)
        nodes[draft.unique_id] = node_doc(draft, draft.relation, entry.ref_text if entry else None)
    docs = {}
    for source in sources:
        entry = found.get(source.unique_id)
        docs[source.unique_id] = source_doc(source, entry.ref_text if entry else None)
    return {
        "nodes": nodes, "sources": docs, "exposures": {}, "metrics": {}, "groups": {}, "semantic_models": {},
        "saved_queries": {}, "unit_tests": {},
    }  # fmt: skip


def compile_warnings(
    packages: Iterable[tuple[str, SourceLocation]],
    template_warnings: Iterable[tuple[str, SourceLocation | None]],
    installed: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """manifest.metadata["warnings"]: each package packages.yml lists that is not `installed` (in
    dbt_packages/), then what the project's files and templates said (exceptions.warn(...), a likely typo
    of a config key), each once; each {"message", "path", "line"}."""
    names = set(installed)
    found: list[tuple[str, SourceLocation | None]] = [
        (
            f"package '{name}' is not installed: sqlflow installs no packages (dbt_utils' generic tests are "
            "built in, its macros are not)",
            where,
        )
        for name, where in packages
        if name.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git").replace("-", "_") not in names
    ]
    found += template_warnings
    return [
        {"message": message, "path": where.path if where else "", "line": where.line if where else None}
        for message, where in dict.fromkeys(found)  # a template rendered twice warns once
    ]
