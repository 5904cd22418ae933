"""The manifest.json document (dbt's manifest v12 schema, docs/manifest.md) of a compiled Manifest."""

from __future__ import annotations

from typing import Any

from sqlflow.artifacts.nodes import (
    manifest_metadata,
    node_document,
    sensor_document,
    source_document,
    unit_test_document,
)
from sqlflow.artifacts.plain import EMPTY_SECTIONS, TEST_AUDIT_SUFFIX
from sqlflow.manifest import Manifest, SensorNode, TestNode


def manifest_document(manifest: Manifest) -> dict[str, Any]:
    """Every node in dbt's shape, the parent and child maps, and the metadata."""
    test_schema = _target_schema(manifest) + TEST_AUDIT_SUFFIX
    database = next((m.relation.database for m in manifest.models()), None)
    nodes: dict[str, Any] = {}
    unit_tests: dict[str, Any] = {}  # dbt keeps unit tests out of `nodes`
    for uid, node in manifest.nodes.items():
        if isinstance(node, SensorNode):
            nodes[uid] = sensor_document(node)
        elif isinstance(node, TestNode) and node.test_type == "unit":
            unit_tests[uid] = unit_test_document(node)
        else:
            nodes[uid] = node_document(node, test_schema=test_schema, database=database)
    child_map: dict[str, list[str]] = {uid: [] for uid in [*manifest.sources, *manifest.nodes]}
    for node in manifest.nodes.values():
        for dep in node.depends_on:
            child_map.setdefault(dep, []).append(node.unique_id)
    dialects = {"dialect": manifest.dialect, "target_dialect": manifest.target_dialect}
    return {
        "metadata": manifest_metadata(manifest.metadata, manifest.project_name, dialects),
        "nodes": nodes,
        "sources": {uid: source_document(s) for uid, s in manifest.sources.items()},
        **{key: {} for key in EMPTY_SECTIONS},
        "unit_tests": unit_tests,
        "parent_map": {uid: list(n.depends_on) for uid, n in manifest.nodes.items()}
        | {uid: [] for uid in manifest.sources},
        "child_map": {k: sorted(v) for k, v in child_map.items()},
    }


def _target_schema(manifest: Manifest) -> str:
    """The target's schema: that of a model that sets no schema of its own (dbt's test audit schema is
    named after it)."""
    for model in manifest.models():
        if model.resource_type == "model" and model.config.schema is None:
            return model.relation.schema
    return "main"
