"""The run_results.json document (dbt's run-results v6 schema) of a RunResult, each result with the
compiled code and the relation of the manifest node that ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlflow.artifacts.plain import DBT_VERSION, RUN_RESULTS_SCHEMA
from sqlflow.manifest import Manifest, ModelNode, Node
from sqlflow.runner.results import NodeResult, RunResult
from sqlflow.statuses import BUILT_STATUSES


def run_results_document(result: RunResult, manifest: Manifest | None = None) -> dict[str, Any]:
    """The document of a run; `manifest` (the one the run ran, re-rendered nodes included) gives each
    result its compiled code and relation."""
    from sqlflow import __version__

    nodes = manifest.nodes if manifest is not None else {}
    return {
        "metadata": {
            "dbt_schema_version": RUN_RESULTS_SCHEMA,
            "dbt_version": DBT_VERSION,
            "generated_at": _iso(result.generated_at),
            "invocation_id": result.invocation_id,
            "env": {"sqlflow_version": __version__},
        },
        "results": [result_document(r, nodes.get(r.unique_id)) for r in result.results],
        "elapsed_time": round(result.elapsed, 6),
        "args": {"which": result.command, **result.args},
    }


def result_document(result: NodeResult, node: Node | None = None) -> dict[str, Any]:
    """One entry of `results`, in dbt's shape. sqlflow's `sample_rows` and `attempts` go in
    `adapter_response`, the one object of a result where dbt's schema allows any key."""
    timing = []
    if result.started_at is not None and result.completed_at is not None:
        started, completed = _iso(result.started_at), _iso(result.completed_at)
        # every node is compiled before the run starts: the compile phase takes no time of its own
        timing.append({"name": "compile", "started_at": started, "completed_at": started})
        timing.append({"name": "execute", "started_at": started, "completed_at": completed})
    response: dict[str, Any] = {}
    if result.status in BUILT_STATUSES:
        said = result.message if result.resource_type != "test" and result.message else "OK"
        rows = -1 if result.rows_affected is None else result.rows_affected
        response = {"_message": said, "code": said.split()[0], "rows_affected": rows}
    if result.sample_rows:
        response["sample_rows"] = [dict(row) for row in result.sample_rows]
    if result.attempts > 1:
        response["attempts"] = result.attempts
    compiled = getattr(node, "compiled_sql", None)
    relation = node.relation if isinstance(node, ModelNode) else None
    return {
        "unique_id": result.unique_id,
        "status": result.status,
        "timing": timing,
        "thread_id": result.thread_id or "main",
        "execution_time": round(result.execution_time, 6),
        "adapter_response": response,
        "message": result.message,
        "failures": result.failures,
        "compiled": compiled is not None if node is not None else None,
        "compiled_code": compiled,
        "relation_name": relation.render(include_database=True) if relation is not None else None,
        "batch_results": None,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
