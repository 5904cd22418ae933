"""Facade functions wiring the layers: load -> compile -> select -> plan -> execute, and the artifacts.

Each CLI command is one call here. No click, no printing: progress goes to the Reporter passed in.
"""

from __future__ import annotations

from sqlflow.api.core import (
    ENGINE_DIALECTS,
    Compiled,
    Options,
    RunOutcome,
    _store_opener,
    _write_json,
    compile_all,
    connect,
    engine_dialect,
    list_nodes,
    load,
    parse_vars,
    plan_lines,
    previous_results,
    resume_command,
    select,
    state_schema,
    write_compiled,
)
from sqlflow.api.docs import _docs_facts, column_lineage, docs_generate
from sqlflow.api.intervals import (
    BackfillOutcome,
    RetryOutcome,
    backfill,
    incremental_status,
    retry,
    source_freshness,
)
from sqlflow.api.project import _find_model, clean, dbt_report, debug, init_project, show, template_dir
from sqlflow.api.run import check_orchestration, run, time_range_horizons
from sqlflow.api.schedule import _freshness_watch, _job_runner, pick_jobs, schedule, schedule_list, trigger
from sqlflow.compile.lint import LintWarning

__all__ = [
    "ENGINE_DIALECTS",
    "BackfillOutcome",
    "Compiled",
    "LintWarning",
    "Options",
    "RetryOutcome",
    "RunOutcome",
    "_docs_facts",
    "_find_model",
    "_freshness_watch",
    "_job_runner",
    "_store_opener",
    "_write_json",
    "backfill",
    "check_orchestration",
    "clean",
    "column_lineage",
    "compile_all",
    "connect",
    "dbt_report",
    "debug",
    "docs_generate",
    "engine_dialect",
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
