"""The statuses of nodes and runs, defined once, as types and as the sets the rest of sqlflow asks about.

Nodes follow dbt: models, seeds and snapshots end `success | error | skipped`, tests `pass | fail | warn |
error | skipped`. A run is `running` until it ends `success | error | interrupted`. Imports nothing from
sqlflow.
"""

from __future__ import annotations

from typing import Literal, get_args

NodeStatus = Literal["success", "error", "skipped", "pass", "fail", "warn"]
EndedStatus = Literal["success", "error", "interrupted"]  # how a run that ended is recorded
RunStatus = Literal["running", "success", "error", "interrupted"]

NODE_STATUSES: tuple[NodeStatus, ...] = get_args(NodeStatus)
FAILED_STATUSES: frozenset[NodeStatus] = frozenset({"error", "fail"})
DONE_STATUSES: frozenset[NodeStatus] = frozenset({"success", "pass", "warn"})  # a retry need not run again
BUILT_STATUSES: frozenset[NodeStatus] = frozenset({"success", "pass", "warn", "fail"})  # the node ran
PROBLEM_STATUSES: frozenset[NodeStatus] = frozenset({"error", "fail", "warn"})  # what a summary lists


def run_status(*, interrupted: bool, failed: bool) -> EndedStatus:
    """How a run that ended is recorded.

    >>> run_status(interrupted=False, failed=True)
    'error'
    """
    return "interrupted" if interrupted else "error" if failed else "success"
