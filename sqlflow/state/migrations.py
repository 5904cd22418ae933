"""The migrations of the state schema: the statements `StateStore.ensure` applies, version by version.

Pure data; imports nothing that runs SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlflow.state.sql import TS

# (version, statements); {s} is the quoted schema. Append new versions; never edit a released one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            'CREATE TABLE {s}."runs" ("run_id" varchar NOT NULL PRIMARY KEY, "command" varchar NOT NULL, '
            f'"status" varchar NOT NULL, "started_at" {TS} NOT NULL, "ended_at" {TS}, "args" text, '
            '"target" varchar)',
            'CREATE TABLE {s}."node_runs" ("run_id" varchar NOT NULL, "unique_id" varchar NOT NULL, '
            f'"status" varchar NOT NULL, "attempt" integer NOT NULL, "started_at" {TS}, "ended_at" {TS}, '
            '"rows_affected" integer, "message" text)',
            'CREATE TABLE {s}."intervals" ("unique_id" varchar NOT NULL, "start" ' + TS + " NOT NULL, "
            f'"end" {TS} NOT NULL, "run_id" varchar, "recorded_at" {TS} NOT NULL)',
        ),
    ),
)
MIGRATIONS += (
    (
        2,
        (
            # one row per model a backfill restates: a rerun with the same window resumes it
            'CREATE TABLE {s}."backfills" ("unique_id" varchar NOT NULL, "start" ' + TS + " NOT NULL, "
            f'"end" {TS} NOT NULL, "status" varchar NOT NULL, "run_id" varchar, "created_at" {TS} NOT NULL, '
            f'"finished_at" {TS})',
        ),
    ),
)
MIGRATIONS += (
    (
        3,
        (
            # one row per tick of a `schedules:` job a scheduler claimed: the unique key makes a tick run once
            'CREATE TABLE {s}."schedule_ticks" ("schedule" varchar NOT NULL, "tick" ' + TS + " NOT NULL, "
            '"trigger" varchar NOT NULL, "status" varchar NOT NULL, "run_id" varchar, "claimed_by" varchar, '
            f'"claimed_at" {TS} NOT NULL, "finished_at" {TS}, "message" text, UNIQUE ("schedule", "tick"))',
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1][0]


def migrations_after(version: int) -> Sequence[int]:
    """The versions `ensure()` would apply to a schema at `version`."""
    return [v for v, _ in MIGRATIONS if v > version]
