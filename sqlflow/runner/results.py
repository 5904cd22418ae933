"""What a run did: one NodeResult per step, and the RunResult that becomes target/run_results.json.

Statuses follow dbt: models and seeds `success | error | skipped`, tests `pass | fail | warn | error |
skipped`. `sqlflow.artifacts.run_results_document` writes them as dbt's run-results v6. Imports nothing
from sqlflow but `statuses`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlflow.statuses import FAILED_STATUSES, EndedStatus, NodeStatus, run_status


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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    results: tuple[NodeResult, ...]  # in plan order
    elapsed: float  # seconds
    generated_at: datetime
    command: str
    invocation_id: str = ""
    interrupted: bool = False  # the user pressed Ctrl-C; the nodes not run are skipped
    interrupted_by: str | None = None  # SIGINT, SIGTERM or cancel (a scheduler's grace period ran out)
    hook_errors: tuple[str, ...] = ()  # on-run-end hooks that failed: the run failed
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when a node errored or a test failed (warnings do not count), or the run was interrupted."""
        failed = any(r.failed and not r.tolerated for r in self.results)
        return self.interrupted or failed or bool(self.hook_errors)

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
