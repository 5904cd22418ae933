"""Recording a run's node results in the state store, in batches (tests, failures and skips change no data,
so they need no commit of their own). The clock that times a batch is a parameter; imports no driver.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from contextlib import suppress

from sqlflow.errors import SqlflowError
from sqlflow.runner.history import History
from sqlflow.runner.results import NodeResult
from sqlflow.state.store import NodeRunRecord

RECORD_BATCH = 100  # node results buffered before they are written to the state store
RECORD_EVERY = 2.0  # seconds: or when the oldest buffered one waited this long


class ResultRecorder:
    """The node results of one run waiting to be written to `history` (calling thread only)."""

    def __init__(self, history: History | None, clock: Callable[[], float]) -> None:
        self.history = history
        self.clock = clock  # monotonic seconds
        self.pending_records: list[NodeRunRecord] = []  # results to record, written in batches
        self.flushed_at = clock()

    def record(self, result: NodeResult, recorded: Container[str] = ()) -> None:
        """The node's run in the state store, unless it was recorded with its data (in `recorded`)."""
        history = self.history
        if history is None or result.unique_id in recorded:
            return
        # buffered: tests, failures and skips change no data, so they need no commit of their own; a
        # crash loses at most the last few, which `sqlflow retry` then runs again
        self.pending_records.append(
            NodeRunRecord(
                run_id=history.run_id,
                unique_id=result.unique_id,
                status=result.status,
                attempt=result.attempts,
                started_at=result.started_at,
                ended_at=result.completed_at,
                rows_affected=result.failures if result.resource_type == "test" else result.rows_affected,
                message=result.message,
            )
        )
        if len(self.pending_records) >= RECORD_BATCH or self.clock() - self.flushed_at > RECORD_EVERY:
            self.flush()

    def flush(self) -> None:
        history, records = self.history, self.pending_records
        self.pending_records = []
        self.flushed_at = self.clock()
        if history is None or not records:
            return
        with suppress(SqlflowError):  # the history must not fail the run; the data is what counts
            history.store.record_nodes(records)
