"""What a run reports of a step: the RunEvents `execute` emits (started, interval finished, retry,
finished) and the results of steps that never ran (skipped, interrupted). Pure builders; imports no driver.
"""

from __future__ import annotations

from sqlflow.runner.events import RunEvent, sample_table
from sqlflow.runner.plan import Step
from sqlflow.runner.results import NodeResult
from sqlflow.state.intervals import Interval


def skipped_result(step: Step, reason: str) -> NodeResult:
    return NodeResult(
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        status="skipped",
        message=reason,
        materialized=step.materialized,
    )


def interrupted_result(step: Step) -> NodeResult:
    return NodeResult(
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        status="error",
        message="interrupted",
        materialized=step.materialized,
    )


def node_started(step: Step, *, index: int, total: int, queued: int) -> RunEvent:
    return RunEvent(
        kind="node_started",
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        materialized=step.materialized,
        index=index,
        total=total,
        queued=queued,
    )


def interval_finished(step: Step, interval: Interval, rows: int | None, seconds: float) -> RunEvent:
    return RunEvent(
        kind="interval_finished",
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        materialized=step.materialized,
        status="success",
        rows=rows,
        seconds=seconds,
        message=f"{interval.start:%Y-%m-%d %H:%M} .. {interval.end:%Y-%m-%d %H:%M}",
    )


def node_retry(step: Step, result: NodeResult, attempt: int, delay: float) -> RunEvent:
    return RunEvent(
        kind="node_retry",
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        materialized=step.materialized,
        status="error",
        seconds=delay,
        message=f"attempt {attempt} failed: {result.message}",
    )


def node_finished(result: NodeResult, *, index: int, total: int) -> RunEvent:
    return RunEvent(
        kind="node_finished",
        unique_id=result.unique_id,
        name=result.name,
        resource_type=result.resource_type,
        materialized=result.materialized,
        status=result.status,
        rows=result.failures if result.resource_type == "test" else result.rows_affected,
        seconds=result.execution_time,
        message=result.message,
        index=index,
        total=total,
        sample=sample_table(result.sample_rows),
    )
