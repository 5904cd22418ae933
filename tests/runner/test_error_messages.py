"""The user-facing errors of time-range models, orchestration settings and the PostgreSQL target: one
message each, naming the file and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sqlflow import api
from sqlflow.errors import ConfigError, TemplateError
from tests import postgres


def project(root: Path, models: dict[str, str], yml: str = "", profiles: str = "") -> api.Options:
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "sqlflow.yml").write_text("name: err\n" + textwrap.dedent(yml))
    if profiles:
        (root / "profiles.yml").write_text(textwrap.dedent(profiles))
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(textwrap.dedent(sql))
    return api.Options(project_dir=root)


TIME_RANGE = "{{ config(materialized='incremental', incremental_strategy='time_range', %s) }}\n%s"


def test_a_time_range_model_without_begin(tmp_path: Path) -> None:
    options = project(
        tmp_path / "p", {"m": TIME_RANGE % ("time_column='d', batch_size='day'", "select current_date as d")}
    )
    out = api.run("run", options)
    message = out.result.get("model.err.m").message  # type: ignore[union-attr]
    assert message is not None and message.startswith("time-range model m has no begin")
    assert "sqlflow backfill --start" in message


def test_a_time_column_the_model_does_not_select(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    config = "time_column='ts', batch_size='day', begin='2024-01-01'"
    root = tmp_path / "p"
    options = project(root, {"m": TIME_RANGE % (config, "select timestamp '2024-01-01' as ts, 1 as n")})
    assert not api.run("run", options, now=datetime(2024, 1, 2, tzinfo=UTC)).failed
    ignore = config + ", on_schema_change='ignore'"
    (root / "models" / "m.sql").write_text(TIME_RANGE % (ignore, "select 1 as n"))  # ts is gone
    out = api.run("run", options, now=datetime(2024, 1, 3, tzinfo=UTC))
    message = out.result.get("model.err.m").message  # type: ignore[union-attr]
    assert "time_column 'ts' of m is not a column of its rows" in (message or "")


def test_bad_timeout_and_retry_on(tmp_path: Path) -> None:
    options = project(tmp_path / "a", {"m": "{{ config(timeout='later') }}\nselect 1 as n"})
    with pytest.raises(ConfigError, match=r"models/m.sql.*timeout of m"):
        api.run("run", options)
    options = project(tmp_path / "b", {"m": "{{ config(retries=1, retry_on=['([']) }}\nselect 1 as n"})
    with pytest.raises(
        ConfigError, match=r"retry_on of m: '\(\[' is not an error class or a regular expression"
    ):
        api.run("run", options)


def test_a_pool_size_must_be_a_whole_number(tmp_path: Path) -> None:
    options = project(tmp_path / "p", {"m": "select 1 as n"}, "pools:\n  heavy: 0\n")
    with pytest.raises(
        ConfigError, match=r"sqlflow.yml:3: pool 'heavy' must be a whole number of at least 1"
    ):
        api.run("run", options)


def test_an_unknown_key_of_a_postgres_target(tmp_path: Path) -> None:
    postgres.need_psycopg()
    options = project(
        tmp_path / "p",
        {"m": "select 1 as n"},
        profiles="""
        err:
          target: pg
          outputs:
            pg: {type: postgres, host: 127.0.0.1, port: 5432, user: postgres, dbname: test, sslmod: disable}
        """,
    )
    with pytest.raises(
        Exception, match=r"unknown key 'sslmod' in postgres target 'pg' \(did you mean 'sslmode'"
    ):
        api.run("run", options)


def test_strftime_of_start_refuses_what_would_break_the_token(tmp_path: Path) -> None:
    options = project(
        tmp_path / "p",
        {
            "m": TIME_RANGE
            % (
                "time_column='d', batch_size='day', begin='2024-01-01'",
                "select '{{ start.strftime(\"%Y__%m\") }}' as d",
            )
        },
    )
    with pytest.raises(TemplateError, match=r"start.strftime\(\) cannot take '__' or '\|' in its format"):
        api.compile_all(options)
