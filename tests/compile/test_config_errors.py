"""Orchestration, time-range and sensor settings are parsed once, when the project compiles: a bad value is a
ConfigError naming the file:line where it is written (the `{{ config() }}` call, the property YAML key, the
line of sqlflow.yml), never a surprise of `run`. A model reading itself (ref(), or its plain name) is a
cycle; an incremental model reads its own table as `{{ this }}` (or by its plain name)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from sqlflow.errors import ConfigError, CycleError
from sqlflow.manifest import ModelNode
from sqlflow.policies import ERROR_CLASSES, RetryPolicy, TimeRange


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


TIME_RANGE = (
    "-- one interval of d per batch\n"
    "{{ config(materialized='incremental', incremental_strategy='time_range', %s) }}\n"
    "select current_date as d\n"
)
GOOD = "time_column='d', batch_size='day', begin='2024-01-01'"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"models/m.sql": "select 1 as n\n{{ config(timeout='later') }}\n"},
            "models/m.sql:2: 'later' is not a duration (timeout of m) "
            "(write a duration such as 30s, 10m or 1h)",
        ),
        (
            {"models/m.sql": "{{ config(retries=2, retry_delay='soon') }}\nselect 1 as n\n"},
            "models/m.sql:1: 'soon' is not a duration (retries of m) "
            "(write a duration such as 10s, 2m or 1h)",
        ),
        (
            {"models/m.sql": "{{ config(retries=1, retry_on=['(']) }}\nselect 1 as n\n"},
            "models/m.sql:1: retry_on of m: '(' is not an error class or a regular expression (missing ), "
            "unterminated subpattern at position 0) (use transient, connection, lock, timeout, any, or a "
            "pattern of the error message)",
        ),
        (
            {
                "sqlflow.yml": "name: shop\npools:\n  heavy: 2\n",
                "models/m.sql": "select 1 as n\n\n{{ config(pool='heavvy') }}\n",
            },
            "models/m.sql:3: m runs in pool 'heavvy', which sqlflow.yml does not declare (did you mean "
            "'heavy'?)",
        ),
        (
            {"models/m.sql": "{{ config(pool='heavy') }}\nselect 1 as n\n"},
            "models/m.sql:1: m runs in pool 'heavy', which sqlflow.yml does not declare (add pools: "
            "{heavy: 1} to sqlflow.yml)",
        ),
        (
            {
                "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +timeout: later\n",
                "models/m.sql": "select 1 as n\n",
            },
            "sqlflow.yml:4: 'later' is not a duration (timeout of m) "
            "(write a duration such as 30s, 10m or 1h)",
        ),
        (
            {
                "models/m.sql": "select 1 as n\n",
                "models/m.yml": "version: 2\nmodels:\n  - name: m\n    config:\n      materialized: table\n"
                "      pool: heavy\n",
            },
            "models/m.yml:6: m runs in pool 'heavy', which sqlflow.yml does not declare (add pools: "
            "{heavy: 1} to sqlflow.yml)",
        ),
    ],
)
def test_orchestration_settings_fail_the_compile_at_their_line(compile_files, files, message) -> None:
    with pytest.raises(ConfigError, match=exactly(message)):
        compile_files(files)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            "time_column='d', batch_size='fortnight', begin='2024-01-01'",
            "models/daily.sql:2: unknown batch_size 'fortnight' in daily (use hour, day, week or month)",
        ),
        (
            "time_column='d', batch_size='7 minutes', begin='2024-01-01'",
            "models/daily.sql:2: a batch_size of 7 minutes is not supported in daily (minutes that divide an "
            "hour, months that divide a year, or one hour, day or week)",
        ),
        (
            "time_column='d', batch_size='day', begin='yesterday'",
            "models/daily.sql:2: begin of daily is not a date or datetime: 'yesterday' "
            "(write it as 2024-01-31 or 2024-01-31T06:00:00)",
        ),
        (
            GOOD + ", cron='61 * * * *'",
            "models/daily.sql:2: not a valid cron expression: '61 * * * *' "
            "(five fields 'minute hour day month weekday' (e.g. '0 6 * * *') or @hourly, @daily ...)",
        ),
        (
            GOOD + ", batch_timezone='Europe/Berln'",
            "models/daily.sql:2: unknown time zone 'Europe/Berln' (an IANA name such as Europe/Berlin)",
        ),
        (
            "batch_size='day'",
            "models/daily.sql:2: time-range model daily has no time_column (set time_column to the timestamp "
            "column its rows are sliced by)",
        ),
    ],
)
def test_time_range_settings_fail_the_compile_at_their_line(compile_files, settings, message) -> None:
    with pytest.raises(ConfigError, match=exactly(message)):
        compile_files({"models/daily.sql": TIME_RANGE % settings})


@pytest.mark.parametrize("command", [["compile"], ["run", "--dry-run"]])
def test_compile_and_a_dry_run_exit_1_naming_the_line(write, command: list[str]) -> None:
    from click.testing import CliRunner

    from sqlflow.cli.main import cli

    root = write({"models/m.sql": "select 1 as n\n{{ config(timeout='later') }}\n"})
    args = ["--no-color", *command, "--project-dir", str(root)]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "models/m.sql:2: 'later' is not a duration (timeout of m)" in result.output


def test_a_bad_sensor_setting_fails_the_compile_at_its_line(compile_files) -> None:
    files = {
        "models/a.sql": "select 1 as n\n",
        "models/a.yml": "version: 2\nmodels:\n  - name: a\n    data_tests:\n      - not_null:\n"
        "          column_name: n\n          config:\n            sensor: {poke_interval: soon}\n",
    }
    with pytest.raises(
        ConfigError,
        match=exactly(
            "models/a.yml:8: 'poke_interval' of sensor under test 'not_null' of model 'a' must be a "
            "duration, not 'soon' (write a number of seconds or a duration like 30s, 10m, 1h or 1d)"
        ),
    ):
        compile_files(files)


def test_sensor_defaults_apply_once_and_each_layer_writes_only_its_keys(compile_files) -> None:
    files = {
        "sqlflow.yml": "name: shop\ndata_tests:\n  +sensor: {timeout: 1h}\n",
        "models/sources.yml": """\
            version: 2
            sources:
              - name: raw
                sensor: {backoff: true}
                tables:
                  - name: orders
                    sensor: {poke_interval: 1m, max_poke_interval: 5m}
                    data_tests: [{row_count: {min: 1, config: {sensor: {on_timeout: skip}}}}]
            """,
    }
    for _ in range(2):  # the second compile reads the compile cache
        (test,) = compile_files(files).tests()
        assert test.config.sensor == {
            "poke_interval": 60.0,
            "timeout": 3600.0,
            "on_timeout": "skip",
            "backoff": True,
            "max_poke_interval": 300.0,
        }


def test_the_settings_are_typed_fields_of_the_node(compile_files) -> None:
    files = {
        "sqlflow.yml": "name: shop\npools:\n  heavy: 1\n",
        "models/daily.sql": TIME_RANGE % (GOOD + ", batch_timezone='Europe/Berlin', cron='0 6 * * *'"),
        "models/m.sql": "{{ config(retries=2, retry_delay='10s', retry_on=['lock', 'quota'], timeout='2m',"
        " pool='heavy') }}\nselect 1 as n\n",
    }
    manifest = compile_files(files)
    m, daily = manifest.nodes["model.shop.m"], manifest.nodes["model.shop.daily"]
    assert isinstance(m, ModelNode) and isinstance(daily, ModelNode)
    assert m.retry == RetryPolicy(retries=2, delay=10.0, patterns=(*ERROR_CLASSES["lock"], "quota"))
    assert m.timeout_seconds == 120.0 and m.time_range is None
    assert daily.time_range == TimeRange(
        time_column="d",
        unit="day",
        timezone="Europe/Berlin",
        begin=datetime(2023, 12, 31, 23, tzinfo=UTC),
        cron="0 6 * * *",
    )
    assert daily.retry == RetryPolicy() and daily.timeout_seconds is None


# -- a model reading itself -----------------------------------------------------------------------------

SELF_CYCLE = (
    "models/selfie.sql: cycle: selfie (models/selfie.sql) -> selfie (models/selfie.sql) (a model cannot read "
    "itself; an incremental model reads its own table as {{ this }})"
)
INCREMENTAL = (
    "{{ config(materialized='incremental') }}\nselect 1 as n\n"
    "{%% if is_incremental() %%}where n > (select max(n) from %s){%% endif %%}\n"
)


@pytest.mark.parametrize(
    "sql",
    [
        "select 1 as n\nunion all\nselect n from {{ ref('selfie') }}\n",
        "select 1 as n\nunion all\nselect n from selfie\n",
        INCREMENTAL % "{{ ref('selfie') }}",  # dbt refuses a ref to itself, in any branch
    ],
)
def test_a_model_that_reads_itself_is_a_cycle(compile_files, sql) -> None:
    with pytest.raises(CycleError, match=exactly(SELF_CYCLE)):
        compile_files({"models/selfie.sql": sql})


@pytest.mark.parametrize("reads", ["{{ this }}", "selfie"])
def test_an_incremental_model_reads_its_own_table(compile_files, reads) -> None:
    """`{{ this }}` is no ref; an incremental model's own plain name means its table too (tests/compile/
    test_dependencies.py: the rows it holds from earlier runs, not a dependency)."""
    manifest = compile_files({"models/selfie.sql": INCREMENTAL % reads})
    node = manifest.nodes["model.shop.selfie"]
    assert isinstance(node, ModelNode) and node.depends_on == ()
    assert '(select max(n) from "main"."selfie"' in (node.incremental_sql or "")
