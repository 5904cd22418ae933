"""The shape of a run's results as notify reads them: Protocols that `sqlflow.runner.results` RunResult and
NodeResult satisfy. notify and runner are sibling layers, so notify may not import runner; the api hands
it the RunResult. Imports nothing from sqlflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlflow import statuses
from sqlflow.statuses import FAILED_STATUSES, EndedStatus


class NodeOutcome(Protocol):
    @property
    def unique_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def resource_type(self) -> str: ...  # model, seed, snapshot, test, sensor
    @property
    def status(self) -> str: ...  # success, error, skipped, pass, fail, warn
    @property
    def message(self) -> str | None: ...
    @property
    def rows_affected(self) -> int | None: ...
    @property
    def execution_time(self) -> float: ...
    @property
    def completed_at(self) -> datetime | None: ...


class RunOutcome(Protocol):
    @property
    def results(self) -> Sequence[NodeOutcome]: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def command(self) -> str: ...
    @property
    def invocation_id(self) -> str: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def failed(self) -> bool: ...


def failed_nodes(result: RunOutcome) -> list[NodeOutcome]:
    """The nodes that errored or whose test failed, in plan order."""
    return [r for r in result.results if r.status in FAILED_STATUSES]


def run_status(result: RunOutcome) -> EndedStatus:
    """How the run ended, as the state store records it: success, error or interrupted."""
    return statuses.run_status(interrupted=result.interrupted, failed=result.failed)
