"""`schedules:` in sqlflow.yml: defaults, every key, and errors naming sqlflow.yml:line with a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import load_project
from sqlflow.project.types import ScheduleJob


def project(tmp_path: Path, schedules: str) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "sqlflow.yml").write_text("name: shop\n" + textwrap.dedent(schedules))
    return tmp_path


def test_defaults_and_every_key(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        schedules:
          - name: hourly
            cron: "@hourly"
          - name: nightly
            cron: "30 2 * * *"
            timezone: Europe/Berlin
            command: run
            select: tag:nightly orders+
            exclude: [stg_web_events]
            vars: {region: eu}
            catchup: true
            max_active_runs: 2
            overlap: queue
            full_refresh: true
        """,
    )
    hourly, nightly = load_project(root).schedules
    assert hourly == ScheduleJob(name="hourly", cron="@hourly", path="sqlflow.yml", line=3)
    assert (hourly.timezone, hourly.command, hourly.catchup, hourly.max_active_runs, hourly.overlap) == (
        "UTC",
        "build",
        False,
        1,
        "skip",
    )
    assert nightly == ScheduleJob(
        name="nightly",
        cron="30 2 * * *",
        timezone="Europe/Berlin",
        command="run",
        select=("tag:nightly", "orders+"),
        exclude=("stg_web_events",),
        vars={"region": "eu"},
        catchup=True,
        max_active_runs=2,
        overlap="queue",
        full_refresh=True,
        path="sqlflow.yml",
        line=5,
    )


def test_no_schedules(tmp_path: Path) -> None:
    assert load_project(project(tmp_path, "")).schedules == ()


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        (
            '- name: a\n  cron: "0 25 * * *"\n',
            "sqlflow.yml:4: not a valid cron expression in schedule 'a': '0 25 * * *' (five fields",
        ),
        (
            '- name: a\n  cron: "0 0 31 2 *"\n',
            "sqlflow.yml:4: the cron expression of schedule 'a' never fires: '0 0 31 2 *' (check the day",
        ),
        (
            '- name: a\n  cron: "@daily"\n  timezone: Europe/Berln\n',
            "sqlflow.yml:5: unknown time zone 'Europe/Berln' in schedule 'a' (an IANA name",
        ),
        (
            '- name: a\n  cron: "@daily"\n  catchpu: true\n',
            "sqlflow.yml:5: unknown key 'catchpu' under schedule 'a' (did you mean 'catchup'?)",
        ),
        (
            '- name: a\n  cron: "@daily"\n  catchup: "yes"\n',
            "sqlflow.yml:5: 'catchup' under schedule 'a' must be true or false, not a string",
        ),
        (
            '- name: a\n  cron: "@daily"\n  max_active_runs: 0\n',
            "sqlflow.yml:5: 'max_active_runs' in schedule 'a' must be a whole number of at least 1, not 0",
        ),
        (
            '- name: a\n  cron: "@daily"\n  overlap: wait\n',
            "sqlflow.yml:5: 'overlap' in schedule 'a' must be skip or queue, not 'wait'",
        ),
        (
            '- name: a\n  cron: "@daily"\n  command: deploy\n',
            "sqlflow.yml:5: unknown command 'deploy' in schedule 'a' (one of run, build, seed, test, "
            "snapshot)",
        ),
        (
            '- name: a\n  cron: "@daily"\n  select: {tag: x}\n',
            "sqlflow.yml:5: 'select' under schedule 'a' must be a string or a list of strings, not a mapping",
        ),
        ("- name: a\n  cron: 5\n", "sqlflow.yml:4: not a valid cron expression in schedule 'a': '5'"),
        ("- name: a\n", "sqlflow.yml:3: schedule 'a' needs a 'cron' expression"),
        ('- cron: "@daily"\n', "sqlflow.yml:3: a schedule needs a 'name'"),
        (
            "- nightly\n",
            "sqlflow.yml:3: each entry of 'schedules' must be a mapping with name and cron, not a string",
        ),
        (
            '- name: a\n  cron: "@daily"\n- name: a\n  cron: "@hourly"\n',
            "sqlflow.yml:5: duplicate schedule name 'a' (first at line 3)",
        ),
        ("  nightly: {}\n", "sqlflow.yml:2: 'schedules' must be a list, not a mapping"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, yaml: str, message: str) -> None:
    root = project(tmp_path, "schedules:\n" + textwrap.indent(yaml, "  "))
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    assert str(caught.value).startswith(message)
