"""The entries of manifest.json, in dbt's shapes: a model, seed, snapshot or test node, a source, a unit
test, a sensor, and the metadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlflow.artifacts.plain import DBT_VERSION, MANIFEST_SCHEMA, SQLFLOW_FACTS, plain
from sqlflow.manifest import ColumnInfo, ModelNode, NodeConfig, SensorNode, SourceNode, TestNode


def node_config(config: NodeConfig, resource_type: str) -> dict[str, Any]:
    """A node's config in dbt's spelling (`pre-hook` with {sql, transaction, index}, `unique_key` a string
    or a list, `check_cols` "all" or a list, `severity` upper case), sqlflow's extra keys kept."""
    doc = plain(config)
    doc = {**doc.pop("extra"), **doc}  # dbt keeps the keys it does not know beside the others
    for key in ("pre_hook", "post_hook"):
        hooks = doc.pop(key)
        doc[key.replace("_", "-")] = [
            {"sql": h, "transaction": True, "index": i} for i, h in enumerate(hooks)
        ]
    keys = doc["unique_key"]
    doc["unique_key"] = None if not keys else keys[0] if len(keys) == 1 else keys
    cols = doc["check_cols"]
    doc["check_cols"] = None if not cols else "all" if cols == ["all"] else cols
    doc["docs"] = {"show": True, "node_color": None, **doc["docs"]}
    if resource_type == "test":
        doc["severity"] = str(doc["severity"]).upper()
        doc["fail_calc"] = "count(*)"
    for key, empty in (("persist_docs", {}), ("quoting", {}), ("grants", {}), ("packages", [])):
        doc.setdefault(key, empty)
    doc.setdefault("contract", {"enforced": False, "alias_types": True})
    return doc


def _columns(columns: Sequence[ColumnInfo]) -> dict[str, Any]:
    return {
        c.name: {
            "name": c.name,
            "description": c.description,
            "meta": plain(c.meta),
            "data_type": c.data_type,
            "constraints": [],
            "quote": None,
            "tags": [],
            "granularity": None,
            "doc_blocks": [],
        }
        for c in columns
    }


def _resource_path(path: str) -> str:
    """dbt's `path`: relative to the resource folder (models/, seeds/ ...), not to the project."""
    return path.split("/", 1)[1] if "/" in path else path


def node_document(
    node: ModelNode | TestNode, *, test_schema: str | None = None, database: str | None = None
) -> dict[str, Any]:
    """A model, seed, snapshot or test node as dbt writes it in manifest.json's `nodes`.

    `test_schema` and `database` place a test (dbt gives tests a relation in the audit schema).
    """
    kind = node.resource_type
    config = node_config(node.config, kind)
    doc: dict[str, Any] = {"unique_id": node.unique_id, "name": node.name, "resource_type": kind}
    relation = node.relation if isinstance(node, ModelNode) else None
    if relation is not None:
        doc |= {"database": relation.database, "schema": relation.schema, "alias": relation.identifier}
        doc["relation_name"] = relation.render(include_database=True)
    else:
        doc |= {"database": database, "schema": test_schema or "main", "alias": node.name}
        doc["relation_name"] = None
    generic = isinstance(node, TestNode) and node.test_type != "singular"
    doc |= {
        "package_name": node.package_name,
        "path": f"{node.name}.sql" if generic else _resource_path(node.path),
        "original_file_path": node.path,
        "fqn": list(node.fqn),
        "checksum": {"name": "sha256", "checksum": node.checksum},
        "config": config,
        "tags": list(node.tags),
        "description": node.description,
        "columns": _columns(node.columns if isinstance(node, ModelNode) else ()),
        "meta": plain(node.config.meta),
        "group": None,
        "docs": config["docs"],
        "patch_path": _patch_path(node),
        "build_path": None,
        "unrendered_config": {},
        "raw_code": node.raw_sql,
        "doc_blocks": [],
    }
    if kind == "seed":
        doc["depends_on"] = {"macros": []}
    else:
        doc |= _compiled(node)
    if kind == "model":
        doc |= {
            "access": "protected",
            "constraints": [],
            "version": None,
            "latest_version": None,
            "deprecation_date": None,
            "primary_key": [],
        }
    if isinstance(node, TestNode):
        doc |= {"column_name": node.column_name, "attached_node": node.attached_node}
        if generic:
            doc["test_metadata"] = _test_metadata(node)
    facts = {key: plain(getattr(node, key)) for key in SQLFLOW_FACTS if getattr(node, key, None)}
    if facts:
        config["sqlflow"] = facts
    return doc


def _patch_path(node: ModelNode | TestNode) -> str | None:
    path = node.patch_path if isinstance(node, ModelNode) else None
    return f"{node.package_name}://{path}" if path else None


def _compiled(node: ModelNode | TestNode) -> dict[str, Any]:
    """The keys of a compiled node: refs, sources, dependencies and the compiled SQL."""
    return {
        "language": "sql",
        "refs": [{"name": name, "package": None, "version": None} for name in node.refs],
        "sources": [list(pair) for pair in node.sources],
        "metrics": [],
        "depends_on": {"macros": [], "nodes": list(node.depends_on)},
        "compiled_path": None,
        "compiled": node.compiled_sql is not None,
        "compiled_code": node.compiled_sql,
        "extra_ctes_injected": True,
        "extra_ctes": [],
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
    }


def _test_metadata(node: TestNode) -> dict[str, Any]:
    namespace, _, name = node.test_name.rpartition(".")
    if node.test_type == "expectation":
        namespace = "great_expectations"
    kwargs = plain(node.kwargs)
    if node.column_name is not None:
        kwargs["column_name"] = node.column_name
    return {"name": name, "kwargs": kwargs, "namespace": namespace or None}


def source_document(source: SourceNode) -> dict[str, Any]:
    """A source as dbt writes it in manifest.json's `sources`."""
    relation = source.relation
    freshness: dict[str, Any] = {
        "warn_after": {"count": None, "period": None},
        "error_after": {"count": None, "period": None},
    }
    freshness |= {"filter": None, **plain(source.freshness)}
    return {
        "database": relation.database,
        "schema": relation.schema,
        "name": source.name,
        "resource_type": "source",
        "package_name": source.package_name,
        "path": source.path,
        "original_file_path": source.path,
        "unique_id": source.unique_id,
        "fqn": list(source.fqn),
        "source_name": source.source_name,
        "source_description": "",
        "loader": "",
        "identifier": relation.identifier,
        "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
        "loaded_at_field": source.loaded_at_field,
        "freshness": freshness,
        "external": None,
        "description": source.description,
        "columns": _columns(source.columns),
        "meta": plain(source.meta),
        "source_meta": {},
        "tags": list(source.tags),
        "config": {"enabled": True, "meta": plain(source.meta), "tags": list(source.tags)}
        | ({"sqlflow": {"line": source.line}} if source.line else {}),
        "patch_path": None,
        "unrendered_config": {},
        "relation_name": relation.render(include_database=True),
        "doc_blocks": [],
    }


def unit_test_document(node: TestNode) -> dict[str, Any]:
    """A dbt unit test (a TestNode of test_type `unit`) as dbt writes it in manifest.json's `unit_tests`:
    the model, the `given` inputs and the `expect`ed rows (csv fixtures as the rows they hold)."""
    kwargs = plain(node.kwargs)
    given = [
        {
            "input": f["input"],
            "rows": f["sql"] if f["format"] == "sql" else f.get("rows"),
            "format": "sql" if f["format"] == "sql" else "dict",
            "fixture": None,
        }
        for f in kwargs.get("fixtures", ())
    ]
    config = {"enabled": node.config.enabled, "tags": list(node.tags), "meta": plain(node.config.meta)}
    config["sqlflow"] = {"line": node.line, "compiled_code": node.compiled_sql}
    return {
        "model": kwargs.get("model", ""),
        "given": given,
        "expect": {"rows": kwargs.get("expect", {}).get("rows"), "format": "dict", "fixture": None},
        "name": node.name,
        "resource_type": "unit_test",
        "package_name": node.package_name,
        "path": _resource_path(node.path),
        "original_file_path": node.path,
        "unique_id": node.unique_id,
        "fqn": list(node.fqn),
        "description": node.description,
        "overrides": None,
        "depends_on": {"macros": [], "nodes": list(node.depends_on)},
        "config": config,
        "checksum": node.checksum,
    }


def sensor_document(sensor: SensorNode) -> dict[str, Any]:
    """A sensor (sqlflow's own node kind) as sqlflow writes it: its fields, dbt's common keys added."""
    doc = plain(sensor)
    doc["depends_on"] = {"macros": [], "nodes": list(sensor.depends_on)}
    doc["original_file_path"] = sensor.path
    doc["tags"] = list(sensor.tags)
    return doc


def manifest_metadata(
    metadata: Mapping[str, Any], project_name: str, dialects: Mapping[str, str]
) -> dict[str, Any]:
    """dbt's manifest metadata; sqlflow's facts (version, dialects, target) as strings in `env`."""
    known = ("invocation_id", "generated_at", "adapter_type")
    doc: dict[str, Any] = {
        "dbt_schema_version": MANIFEST_SCHEMA,
        "dbt_version": DBT_VERSION,
        "project_name": project_name,
        "send_anonymous_usage_stats": False,
        "env": {},
    }
    doc |= {key: metadata[key] for key in known if key in metadata}
    if "run_started_at" in metadata:
        doc["invocation_started_at"] = metadata["run_started_at"]
    skipped = (*known, "run_started_at")
    extra = {**{k: v for k, v in metadata.items() if k not in skipped}, **dialects}
    doc["env"] = {(k if k.startswith("sqlflow_") else f"sqlflow_{k}"): str(v) for k, v in extra.items()}
    return doc
