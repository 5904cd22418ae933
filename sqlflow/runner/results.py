"""What a run did: one NodeResult per step, and the RunResult that becomes target/run_results.json.

Statuses follow dbt: models and seeds `success | error | skipped`, tests `pass | fail | warn | error |
skipped`. The JSON is dbt's run-results v6 (sqlflow.artifacts says where sqlflow's extras go). Imports
nothing from sqlflow but the package version, `artifacts` and `manifest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlflow.artifacts import DBT_VERSION, RUN_RESULTS_SCHEMA
from sqlflow.statuses import BUILT_STATUSES, FAILED_STATUSES, EndedStatus, NodeStatus, run_status

if TYPE_CHECKING:
    from sqlflow.manifest import Manifest



@dataclass(frozen=True, slots=True, kw_only=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model, seed, test
    status: NodeStatus
    message: str | None = None
    rows_affected: int | None = None
    failures: int | None = None  # tests: the failing rows counted
    execution_time: float = 0.0  # seconds
    started_at: datetime | None = None  # None when the node never started (skipped)
    completed_at: datetime | None = None
    sample_rows: tuple[Mapping[str, Any], ...] = ()  # tests that found failing rows: up to 5 of them
    materialized: str | None = None
    attempts: int = 1  # builds tried (retries + 1 when every retry was used)
    tolerated: bool = False  # a failure its on_failure policy keeps from failing the run
    thread_id: str | None = None  # the thread that ran it

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_json(self, node: Any = None) -> dict[str, Any]:
        """One entry of run_results.json's `results`, in dbt's shape; `node` (the manifest node) gives
        `compiled_code` and `relation_name`. sqlflow's `sample_rows` and `attempts` go in
        `adapter_response`, the one object of a result where dbt's schema allows any key."""
        timing = []
        if self.started_at is not None and self.completed_at is not None:
            started, completed = _iso(self.started_at), _iso(self.completed_at)
            # every node is compiled before the run starts: the compile phase takes no time of its own
            timing.append({"name": "compile", "started_at": started, "completed_at": started})
            timing.append({"name": "execute", "started_at": started, "completed_at": completed})
        response: dict[str, Any] = {}
        if self.status in BUILT_STATUSES:
            said = self.message if self.resource_type != "test" and self.message else "OK"
            rows = -1 if self.rows_affected is None else self.rows_affected
            response = {"_message": said, "code": said.split()[0], "rows_affected": rows}
        if self.sample_rows:
            response["sample_rows"] = [dict(row) for row in self.sample_rows]
        if self.attempts > 1:
            response["attempts"] = self.attempts
        compiled = getattr(node, "compiled_sql", None)
        relation = getattr(node, "relation", None)
        return {
            "unique_id": self.unique_id,
            "status": self.status,
            "timing": timing,
            "thread_id": self.thread_id or "main",
            "execution_time": round(self.execution_time, 6),
            "adapter_response": response,
            "message": self.message,
            "failures": self.failures,
            "compiled": compiled is not None if node is not None else None,
            "compiled_code": compiled,
            "relation_name": relation.render(include_database=True) if relation is not None else None,
            "batch_results": None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    results: tuple[NodeResult, ...]  # in plan order
    elapsed: float  # seconds
    generated_at: datetime
    command: str
    invocation_id: str = ""
    interrupted: bool = False  # the user pressed Ctrl-C; the nodes not run are skipped
    interrupted_by: str | None = None  # SIGINT, SIGTERM or cancel (a scheduler's grace period ran out)
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when a node errored or a test failed (warnings do not count), or the run was interrupted."""
        return self.interrupted or any(r.failed and not r.tolerated for r in self.results)

    @property
    def status(self) -> EndedStatus:
        """How the run is recorded: success, error or interrupted."""
        return run_status(interrupted=self.interrupted, failed=self.failed)

    def counts(self) -> dict[str, int]:
        """How many nodes ended in each status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def get(self, unique_id: str) -> NodeResult:
        for r in self.results:
            if r.unique_id == unique_id:
                return r
        raise KeyError(unique_id)

    def to_json(self, manifest: Manifest | None = None) -> dict[str, Any]:
        """The run_results.json document in dbt's run-results v6 schema; the `manifest` the run ran
        gives each result its compiled code and relation."""
        from sqlflow import __version__

        nodes = manifest.nodes if manifest is not None else {}
        return {
            "metadata": {
                "dbt_schema_version": RUN_RESULTS_SCHEMA,
                "dbt_version": DBT_VERSION,
                "generated_at": _iso(self.generated_at),
                "invocation_id": self.invocation_id,
                "env": {"sqlflow_version": __version__},
            },
            "results": [r.to_json(nodes.get(r.unique_id)) for r in self.results],
            "elapsed_time": round(self.elapsed, 6),
            "args": {"which": self.command, **self.args},
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
