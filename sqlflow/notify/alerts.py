"""Which alerts a finished run produces: pure functions of its results, the previous run of the same
command and selection, the notifications config and the models' last successes (read by the caller).

Events: run_failed, node_failed (one per failed node), test_warned (one per warning test), run_recovered
(a run succeeded after the previous run of the same command and selection failed), sla_missed (the run
took longer than its sla), not_fresh (a model not built successfully on the day of its deadline, once the
deadline has passed). Never reads the clock; no I/O. Imports only `sqlflow.project` and `sqlflow.state`
types (and this package).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlflow.notify.shapes import RunOutcome, failed_nodes, run_status
from sqlflow.project.durations import describe_seconds
from sqlflow.project.notifications import Channel, FreshnessRule, Notifications
from sqlflow.state.store import RunRecord
from sqlflow.statuses import FAILED_STATUSES

MAX_NODE_ALERTS = 10  # node_failed / test_warned alerts per run and event; the run_failed alert lists all
MAX_MESSAGE = 1000  # characters of one node's error kept in an alert
FINISHED = frozenset({"success", "error", "interrupted"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One node that failed or warned."""

    unique_id: str
    name: str
    resource_type: str
    status: str  # error, fail, warn, skipped
    message: str | None = None

    def line(self) -> str:
        message = f": {self.message}" if self.message else ""
        return f"{self.resource_type} {self.name} ({self.status}){message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One message: a title line, a summary, the nodes concerned with their errors, the command to resume."""

    event: str
    severity: str  # error | warning | success
    title: str
    summary: str
    project: str
    target: str | None = None
    command: str | None = None
    invocation_id: str | None = None
    problems: tuple[Problem, ...] = ()
    resume: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)  # counts, elapsed, sla, deadline ...

    def text(self) -> str:
        """The plain-text body (email, Apprise): summary, one line per node, then the command to resume."""
        lines = [self.summary, *(f"- {p.line()}" for p in self.problems)]
        if self.resume:
            lines += ["", f"To resume: {self.resume}"]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The document a webhook receives."""
        return {
            "event": self.event,
            "severity": self.severity,
            "title": self.title,
            "text": self.text(),
            "project": self.project,
            "target": self.target,
            "command": self.command,
            "invocation_id": self.invocation_id,
            "error": next((p.message for p in self.problems if p.status in FAILED_STATUSES), None),
            "nodes": [
                {
                    "unique_id": p.unique_id,
                    "name": p.name,
                    "resource_type": p.resource_type,
                    "status": p.status,
                    "message": p.message,
                }
                for p in self.problems
            ],
            "resume_command": self.resume,
            **{k: _jsonable(v) for k, v in self.facts.items()},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """What the alerts say about the run besides its results."""

    project: str
    target: str | None
    command: str
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    resume: str | None = None  # api.resume_command
    finished_at: datetime | None = None

    def describe(self) -> str:
        """`build --select orders+ --exclude tag:slow`"""
        parts = [self.command]
        if self.select:
            parts += ["--select", *self.select]
        if self.exclude:
            parts += ["--exclude", *self.exclude]
        return " ".join(parts)


def run_alerts(
    result: RunOutcome,
    config: Notifications,
    info: RunInfo,
    *,
    previous: RunRecord | None = None,
    sla: float | None = None,
) -> list[Alert]:
    """The alerts of a finished run, for every event (route() picks each channel's). `previous` is the
    previous finished run of the same command and selection (see previous_run); `sla` (seconds) overrides
    `notifications.sla`, as a schedule's own sla does."""
    where = f"{info.project} ({info.target})" if info.target else info.project
    common: dict[str, Any] = {
        "project": info.project,
        "target": info.target,
        "command": info.command,
        "invocation_id": result.invocation_id or None,
    }
    counts = _counts(result)
    facts = {
        "status": run_status(result),
        "counts": counts,
        "elapsed": round(result.elapsed, 3),
        "selection": info.describe(),
    }
    failed = [_problem(r) for r in failed_nodes(result)]
    alerts: list[Alert] = []
    if result.failed:
        how = "was interrupted" if result.interrupted else "failed"
        alerts.append(
            Alert(
                event="run_failed",
                severity="error",
                title=f"sqlflow {info.command} {how}: {where}",
                summary=f"{info.describe()} {how} after {_seconds(result.elapsed)}: "
                f"{_describe_counts(counts)}.",
                problems=tuple(failed),
                resume=info.resume,
                facts=facts,
                **common,
            )
        )
    for problem in failed[:MAX_NODE_ALERTS]:
        alerts.append(
            Alert(
                event="node_failed",
                severity="error",
                title=f"sqlflow: {problem.resource_type} {problem.name} failed in {where}",
                summary=f"{problem.resource_type} {problem.name} ended with {problem.status} "
                f"in {info.describe()}.",
                problems=(problem,),
                resume=info.resume,
                facts={**facts, "node": problem.unique_id},
                **common,
            )
        )
    warned = [_problem(r) for r in result.results if r.status == "warn"]
    for problem in warned[:MAX_NODE_ALERTS]:
        alerts.append(
            Alert(
                event="test_warned",
                severity="warning",
                title=f"sqlflow: test {problem.name} warned in {where}",
                summary=f"test {problem.name} warned in {info.describe()}.",
                problems=(problem,),
                facts={**facts, "node": problem.unique_id},
                **common,
            )
        )
    if not result.failed and previous is not None and previous.status in ("error", "interrupted"):
        alerts.append(
            Alert(
                event="run_recovered",
                severity="success",
                title=f"sqlflow {info.command} recovered: {where}",
                summary=f"{info.describe()} succeeded after the previous run ({previous.run_id}, started "
                f"{_when(previous.started_at)}) ended with {previous.status}.",
                facts={**facts, "previous_run_id": previous.run_id, "previous_status": previous.status},
                **common,
            )
        )
    limit = sla if sla is not None else config.sla
    if limit is not None and result.elapsed > limit:
        alerts.append(
            Alert(
                event="sla_missed",
                severity="warning",
                title=f"sqlflow {info.command} missed its SLA: {where}",
                summary=f"{info.describe()} took {_seconds(result.elapsed)}, over its SLA of "
                f"{describe_seconds(limit)} (status: {facts['status']}).",
                facts={**facts, "sla": limit},
                **common,
            )
        )
    return alerts


def previous_run(
    runs: Sequence[RunRecord], *, command: str, select: Sequence[str], exclude: Sequence[str], run_id: str
) -> RunRecord | None:
    """The latest finished run of `runs` (newest first) with the same command and selection, other than
    `run_id`; runs still marked running (or killed) are passed over."""
    for run in runs:
        if run.run_id == run_id or run.status not in FINISHED or run.command != command:
            continue
        if list(run.args.get("select") or []) == list(select) and list(run.args.get("exclude") or []) == list(
            exclude
        ):
            return run
    return None


def freshness_alerts(
    rules: Sequence[FreshnessRule],
    last_success: Mapping[str, datetime],
    *,
    now: datetime,
    project: str,
    target: str | None = None,
    since: datetime | None = None,
) -> list[Alert]:
    """not_fresh alerts: a rule's model is stale when, at `now`, its latest deadline has passed and the model
    has no successful build since the start of that deadline's local day (`last_success`: model name ->
    time). With `since` (a scheduler's previous check), only deadlines passed after it count, so each
    deadline alerts once; without it every stale model alerts (after each run).

    >>> from datetime import time
    >>> rule = FreshnessRule(model="orders", deadline=time(7), timezone="Europe/Berlin")
    >>> built = {"orders": datetime(2024, 1, 1, 23, 30, tzinfo=UTC)}  # 00:30 on Jan 2 in Berlin
    >>> def check(now):
    ...     return [a.title for a in freshness_alerts([rule], built, now=now, project="shop")]
    >>> check(datetime(2024, 1, 2, 7, tzinfo=UTC))  # 08:00 in Berlin, built today
    []
    >>> check(datetime(2024, 1, 3, 6, 30, tzinfo=UTC))  # 07:30 on Jan 3, not built since Jan 2
    ['sqlflow: orders is not fresh in shop']
    """
    where = f"{project} ({target})" if target else project
    alerts = []
    for rule in rules:
        deadline = latest_deadline(rule, now)
        if since is not None and deadline <= since:
            continue
        tz = ZoneInfo(rule.timezone)
        day_start = datetime.combine(deadline.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
        built = last_success.get(rule.model)
        if built is not None and built >= day_start:
            continue
        local = deadline.astimezone(tz)
        when = f"{local:%H:%M} {rule.timezone} on {local:%Y-%m-%d}"
        last = f"its last successful build was {_when(built)}" if built else "it was never built successfully"
        alerts.append(
            Alert(
                event="not_fresh",
                severity="warning",
                title=f"sqlflow: {rule.model} is not fresh in {where}",
                summary=f"{rule.model} was not built successfully by {when}; {last}.",
                project=project,
                target=target,
                facts={
                    "model": rule.model,
                    "deadline": deadline,
                    "last_success": built,
                    "checked_at": now,
                },
            )
        )
    return alerts


def latest_deadline(rule: FreshnessRule, now: datetime) -> datetime:
    """The latest moment at or before `now` (UTC) when the rule's deadline fell, on the wall clock of its
    time zone.

    >>> from datetime import time
    >>> rule = FreshnessRule(model="orders", deadline=time(7), timezone="Europe/Berlin")
    >>> latest_deadline(rule, datetime(2024, 7, 1, 4, 59, tzinfo=UTC))  # 06:59 in Berlin: yesterday's
    datetime.datetime(2024, 6, 30, 5, 0, tzinfo=datetime.timezone.utc)
    """
    tz = ZoneInfo(rule.timezone)
    local = now.astimezone(tz)
    today = datetime.combine(local.date(), rule.deadline, tzinfo=tz)
    if today > local:
        today = datetime.combine(local.date() - timedelta(days=1), rule.deadline, tzinfo=tz)
    return today.astimezone(UTC)


def route(alerts: Sequence[Alert], channels: Sequence[Channel]) -> list[tuple[Channel, Alert]]:
    """Each alert paired with every channel that wants its event, channel by channel."""
    return [(c, a) for c in channels for a in alerts if c.wants(a.event)]


def _problem(r: Any) -> Problem:
    message = r.message
    if message and len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return Problem(
        unique_id=r.unique_id, name=r.name, resource_type=r.resource_type, status=r.status, message=message
    )


def _counts(result: RunOutcome) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in result.results:
        out[r.status] = out.get(r.status, 0) + 1
    return dict(sorted(out.items()))


def _describe_counts(counts: Mapping[str, int]) -> str:
    """`2 error, 1 fail, 3 skipped, 20 success`"""
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing ran"


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m {rest}s"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


__all__ = [
    "Alert",
    "Problem",
    "RunInfo",
    "freshness_alerts",
    "latest_deadline",
    "previous_run",
    "route",
    "run_alerts",
]
