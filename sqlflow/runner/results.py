"""What a run did: one NodeResult per step, and the RunResult that becomes target/run_results.json.

Statuses follow dbt: models and seeds `success | error | skipped`, tests `pass | fail | warn | error |
skipped`. Imports nothing from sqlflow but the package version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FAILED_STATUSES = frozenset({"error", "fail"})
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model, seed, test
    status: str
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

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_json(self) -> dict[str, Any]:
        """One entry of run_results.json's `results`."""
        timing = []
        if self.started_at is not None and self.completed_at is not None:
            timing.append(
                {
                    "name": "execute",
                    "started_at": _iso(self.started_at),
                    "completed_at": _iso(self.completed_at),
                }
            )
        doc: dict[str, Any] = {
            "unique_id": self.unique_id,
            "status": self.status,
            "timing": timing,
            "thread_id": None,
            "execution_time": round(self.execution_time, 6),
            "message": self.message,
            "failures": self.failures,
            "adapter_response": {"rows_affected": self.rows_affected}
            if self.rows_affected is not None
            else {},
        }
        if self.sample_rows:
            doc["sample_rows"] = [dict(row) for row in self.sample_rows]
        if self.attempts > 1:
            doc["attempts"] = self.attempts
        return doc


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    results: tuple[NodeResult, ...]  # in plan order
    elapsed: float  # seconds
    generated_at: datetime
    command: str
    invocation_id: str = ""
    interrupted: bool = False  # the user pressed Ctrl-C; the nodes not run are skipped
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when a node errored or a test failed (warnings do not count), or the run was interrupted."""
        return self.interrupted or any(r.failed and not r.tolerated for r in self.results)

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

    def to_json(self) -> dict[str, Any]:
        """The run_results.json document, shaped like dbt's."""
        from sqlflow import __version__

        return {
            "metadata": {
                "dbt_schema_version": RUN_RESULTS_SCHEMA,
                "sqlflow_version": __version__,
                "generated_at": _iso(self.generated_at),
                "invocation_id": self.invocation_id,
            },
            "results": [r.to_json() for r in self.results],
            "elapsed_time": round(self.elapsed, 6),
            "args": {"which": self.command, **self.args},
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
