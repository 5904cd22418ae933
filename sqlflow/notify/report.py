"""After a run: read what the alerts and metrics need from the state store, send the alerts, count the run
into the metrics and write the metrics file. Everything that goes wrong becomes a notice (a warning line
for the caller to show), never an exception: alerts and metrics must not fail a run.

`report_run` is what api.run calls; `check_freshness` is for the scheduler, between runs.
Imports the state store, the project's config types and this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlflow.errors import did_you_mean
from sqlflow.notify.alerts import Alert, RunInfo, freshness_alerts, previous_run, route, run_alerts
from sqlflow.notify.metrics import RunMetrics, retries_of, write_textfile
from sqlflow.notify.send import deliver
from sqlflow.notify.shapes import RunOutcome
from sqlflow.project.notifications import FreshnessRule, Notifications
from sqlflow.state.store import RunRecord, StateStore


@dataclass(frozen=True, slots=True, kw_only=True)
class StateFacts:
    """What the state store says that alerts and metrics use."""

    previous: RunRecord | None = None
    last_success: Mapping[str, datetime] | None = None  # unique id -> latest successful build
    retries: Mapping[str, int] | None = None  # unique id -> attempts beyond the first, in this run


def report_run(
    result: RunOutcome,
    config: Notifications,
    info: RunInfo,
    *,
    open_store: Callable[[], AbstractContextManager[StateStore]],
    model_names: Sequence[str] = (),
    sla: float | None = None,
    metrics: RunMetrics | None = None,
    metrics_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Alerts and metrics of a finished run; the notices (warnings) it gave.

    `open_store()` is a context manager giving the state store (opened only when something needs it);
    `model_names`: the project's models, to check the freshness rules against.
    """
    notices: list[str] = []
    wants_metrics = metrics is not None or metrics_file is not None
    rules, unknown = _known_rules(config.freshness, model_names)
    notices += unknown
    facts = StateFacts()
    if wants_metrics or config.wants("run_recovered") or (rules and config.wants("not_fresh")):
        try:
            facts = read_state(
                open_store, result.invocation_id, info, last_success=True, retries=wants_metrics
            )
        except Exception as exc:  # the run is done: its alerts and metrics do what they can
            notices.append(f"the state store could not be read for alerts and metrics: {exc}")
    if config.channels:
        alerts: list[Alert] = run_alerts(result, config, info, previous=facts.previous, sla=sla)
        if rules and facts.last_success is not None and info.finished_at is not None:
            alerts += freshness_alerts(
                rules,
                by_name(facts.last_success),
                now=info.finished_at,
                project=info.project,
                target=info.target,
            )
        notices += deliver(route(alerts, config.channels), environ=environ)
    if metrics is not None:
        metrics.observe_run(result, retries=facts.retries, last_success=facts.last_success)
    if metrics_file is not None:
        one = RunMetrics()
        one.observe_run(result, retries=facts.retries, last_success=facts.last_success)
        try:
            write_textfile(metrics_file, one)
        except OSError as exc:
            notices.append(f"metrics not written to {metrics_file}: {exc}")
    return notices


def check_freshness(
    config: Notifications,
    store: StateStore,
    *,
    now: datetime,
    since: datetime | None,
    project: str,
    target: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """For the scheduler, between runs: send not_fresh for every deadline passed in (since, now] whose model
    is stale. Returns the notices."""
    if not config.freshness or not config.wants("not_fresh"):
        return []
    last = by_name(store.last_successes())
    alerts = freshness_alerts(config.freshness, last, now=now, since=since, project=project, target=target)
    return deliver(route(alerts, config.channels), environ=environ)


def read_state(
    open_store: Callable[[], AbstractContextManager[StateStore]],
    run_id: str,
    info: RunInfo,
    *,
    last_success: bool,
    retries: bool,
) -> StateFacts:
    with open_store() as store:
        runs = store.recent_runs(info.command)
        previous = previous_run(
            runs, command=info.command, select=info.select, exclude=info.exclude, run_id=run_id
        )
        return StateFacts(
            previous=previous,
            last_success=store.last_successes() if last_success else None,
            retries=retries_of(store.node_runs(run_id)) if retries else None,
        )


def by_name(last_success: Mapping[str, datetime]) -> dict[str, datetime]:
    """unique id -> time, keyed by the node's name instead (models, seeds, snapshots)."""
    out: dict[str, datetime] = {}
    for uid, moment in last_success.items():
        if uid.split(".", 1)[0] in ("model", "seed", "snapshot"):
            name = uid.rsplit(".", 1)[-1]
            out[name] = max(moment, out.get(name, moment))
    return out


def _known_rules(
    rules: Sequence[FreshnessRule], model_names: Sequence[str]
) -> tuple[list[FreshnessRule], list[str]]:
    if not model_names:
        return list(rules), []
    known, notices = [], []
    for rule in rules:
        if rule.model in model_names:
            known.append(rule)
        else:
            hint = did_you_mean(rule.model, model_names)
            notices.append(
                f"{rule.location}: the freshness rule names no model '{rule.model}'"
                + (f" ({hint})" if hint else "")
            )
    return known, notices


__all__ = ["StateFacts", "by_name", "check_freshness", "read_state", "report_run"]
