"""Facade functions wiring the layers: load -> compile -> select -> plan -> execute, and the artifacts.

Each CLI command is one call here. No click, no printing: progress goes to the Reporter passed in.
"""

from __future__ import annotations

from sqlflow.api.core import (
    Compiled,
    Options,
    RunOutcome,
    compile_all,
    compiled_selection,
    connect,
    engine_dialect,
    list_nodes,
    load,
    parse_vars,
    plan_lines,
    previous_results,
    select,
    state_schema,
    write_compiled,
)
from sqlflow.api.docs import column_lineage, docs_generate
from sqlflow.api.intervals import (
    BackfillOutcome,
    RetryOutcome,
    backfill,
    incremental_status,
    retry,
    source_freshness,
)
from sqlflow.api.project import clean, dbt_report, debug, init_project, show, template_dir
from sqlflow.api.run import run, run_request
from sqlflow.api.schedule import freshness_watch, pick_jobs, schedule, schedule_list, trigger
from sqlflow.api.session import (
    RunRequest,
    RunSession,
    SessionResult,
    resume_command,
    time_range_horizons,
)
from sqlflow.compile.lint import LintWarning

__all__ = [
    "BackfillOutcome",
    "Compiled",
    "LintWarning",
    "Options",
    "RetryOutcome",
    "RunOutcome",
    "RunRequest",
    "RunSession",
    "SessionResult",
    "backfill",
    "clean",
    "column_lineage",
    "compile_all",
    "compiled_selection",
    "connect",
    "dbt_report",
    "debug",
    "docs_generate",
    "engine_dialect",
    "freshness_watch",
    "incremental_status",
    "init_project",
    "list_nodes",
    "load",
    "parse_vars",
    "pick_jobs",
    "plan_lines",
    "previous_results",
    "resume_command",
    "retry",
    "run",
    "run_request",
    "schedule",
    "schedule_list",
    "select",
    "show",
    "source_freshness",
    "state_schema",
    "template_dir",
    "time_range_horizons",
    "trigger",
    "write_compiled",
]
