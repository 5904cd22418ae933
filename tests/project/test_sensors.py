"""`sensors:` entries, the `sensor:` config of tests and source tables, and their errors (exact messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import SensorSpec, load_project
from sqlflow.project.durations import parse_duration, parse_size
from sqlflow.project.yamlfile import parse_yaml

from .conftest import WriteFiles
from .helpers import exactly

DEFAULT_POKE = {
    "poke_interval": 30.0,
    "timeout": 600.0,
    "on_timeout": "fail",
    "backoff": False,
    "max_poke_interval": None,
}

SENSORS = """\
    version: 2
    sensors:
      - name: landing_orders
        type: file
        description: The nightly drop.
        path: landing/orders_*.csv
        min_size: 10KB
        stable: true
        poke_interval: 10s
        timeout: 2h
        on_timeout: skip
        tags: [landing]
        meta: {owner: ops}
      - name: api_ready
        type: http
        url: https://api.example.com/status
        method: head
        status: [200, 3xx]
        json_path: data.ready
        equals: ready
        headers: {Accept: application/json}
        backoff: true
        max_poke_interval: 5m
      - name: morning
        type: time
        at: 6:30
        timezone: Europe/Berlin
      - name: later
        type: time
        delay: 1h
      - name: orders_loaded
        type: sql
        sql: select count(*) > 0 from {{ ref('orders') }}
        poke_interval: 45
    """


def sensors_of(write: WriteFiles, tmp_path: Path, text: str) -> tuple[SensorSpec, ...]:
    root = write({"sqlflow.yml": "name: shop\n", "models/sensors.yml": text}, tmp_path / "p")
    return load_project(root).sensors


def test_every_kind_is_read_and_normalised(write: WriteFiles, tmp_path: Path) -> None:
    files, http, morning, later, sql = sensors_of(write, tmp_path, SENSORS)
    path = "models/sensors.yml"
    assert files == SensorSpec(
        name="landing_orders",
        kind="file",
        path=path,
        line=3,
        params={"path": "landing/orders_*.csv", "min_size": 10240, "stable": True},
        poke={**DEFAULT_POKE, "poke_interval": 10.0, "timeout": 7200.0, "on_timeout": "skip"},
        description="The nightly drop.",
        tags=("landing",),
        meta={"owner": "ops"},
    )
    assert http.params == {
        "url": "https://api.example.com/status",
        "method": "HEAD",
        "status": (200, *range(300, 400)),
        "json_path": "data.ready",
        "equals": "ready",
        "truthy": False,
        "headers": {"Accept": "application/json"},
    }
    assert http.poke == {**DEFAULT_POKE, "backoff": True, "max_poke_interval": 300.0}
    assert morning.params == {"at": "06:30:00", "timezone": "Europe/Berlin", "delay": None}
    assert later.params == {"at": None, "timezone": "UTC", "delay": 3600.0}
    assert sql.params == {"sql": "select count(*) > 0 from {{ ref('orders') }}"}
    assert (sql.kind, sql.line, sql.poke["poke_interval"]) == ("sql", 31, 45.0)


def test_http_defaults(write: WriteFiles, tmp_path: Path) -> None:
    text = "version: 2\nsensors:\n  - {name: up, type: http, url: 'http://127.0.0.1:8000/'}\n"
    (up,) = sensors_of(write, tmp_path, text)
    assert up.params == {
        "url": "http://127.0.0.1:8000/",
        "method": "GET",
        "status": tuple(range(200, 300)),
        "json_path": None,
        "equals": None,
        "truthy": False,
        "headers": {},
    }
    text = "version: 2\nsensors:\n  - {name: up, type: http, url: 'http://h/', json_path: ok}\n"
    assert sensors_of(write, tmp_path, text)[0].params["truthy"] is True


BAD_SENSORS = [
    (
        "- {type: file, path: x}",
        "models/sensors.yml:3: a sensor needs a 'name' (like '- name: landing_file' with 'type: file')",
    ),
    (
        "- {name: a.b, type: file, path: x}",
        "models/sensors.yml:3: sensor name 'a.b' may only hold letters, digits, '_' and '-'",
    ),
    (
        "- {name: s, path: x}",
        "models/sensors.yml:3: sensor 's' needs a 'type' (one of sql, file, http, time)",
    ),
    (
        "- {name: s, type: fiel, path: x}",
        "models/sensors.yml:3: unknown sensor type 'fiel' of sensor 's' (did you mean 'file'?)",
    ),
    (
        "- {name: s, type: file}",
        "models/sensors.yml:3: sensor 's' needs 'path' (a file sensor checks it)",
    ),
    (
        "- {name: s, type: file, path: x, min_sise: 1}",
        "models/sensors.yml:3: unknown key 'min_sise' of sensor 's' (did you mean 'min_size'?)",
    ),
    (
        "- {name: s, type: file, path: x, url: 'http://x'}",
        "models/sensors.yml:3: 'url' does not apply to a file sensor (sensor 's') (it belongs to "
        "a http sensor; a file sensor takes path, min_size, stable)",
    ),
    (
        "- {name: s, type: file, path: x, min_size: lots}",
        "models/sensors.yml:3: 'min_size' of sensor 's' must be a size, not 'lots' (write a "
        "number of bytes or a size like 500B, 10KB, 5MB or 1GB)",
    ),
    (
        "- {name: s, type: file, path: x, stable: maybe}",
        "models/sensors.yml:3: 'stable' of sensor 's' must be true or false, not 'maybe'",
    ),
    (
        "- {name: s, type: file, path: x, poke_interval: soon}",
        "models/sensors.yml:3: 'poke_interval' of sensor 's' must be a duration, not 'soon' "
        "(write a number of seconds or a duration like 30s, 10m, 1h or 1d)",
    ),
    (
        "- {name: s, type: file, path: x, poke_interval: 0}",
        "models/sensors.yml:3: 'poke_interval' of sensor 's' must be more than 0 seconds, not a "
        "number (write a number of seconds or a duration like 30s, 10m, 1h or 1d)",
    ),
    (
        "- {name: s, type: file, path: x, on_timeout: skp}",
        "models/sensors.yml:3: 'on_timeout' of sensor 's' must be fail or skip, not 'skp' (did "
        "you mean 'skip'?)",
    ),
    (
        "- {name: s, type: file, path: x, backoff: 2}",
        "models/sensors.yml:3: 'backoff' of sensor 's' must be true or false, not a number",
    ),
    (
        "- {name: s, type: file, path: x, poke_interval: 1m, max_poke_interval: 30s}",
        "models/sensors.yml:3: 'max_poke_interval' of sensor 's' (30s) is shorter than its "
        "poke_interval (1m) (raise max_poke_interval or lower poke_interval)",
    ),
    (
        "- {name: s, type: http, url: 'ftp://x'}",
        "models/sensors.yml:3: 'url' of sensor 's' must start with http:// or https://, not 'ftp://x'",
    ),
    (
        "- {name: s, type: http, url: 'http://x', method: GTE}",
        "models/sensors.yml:3: 'method' of sensor 's' must be one of GET, HEAD, POST, PUT, "
        "PATCH, DELETE, OPTIONS, not 'GTE' (did you mean 'GET'?)",
    ),
    (
        "- {name: s, type: http, url: 'http://x', status: [200, 999]}",
        "models/sensors.yml:3: 'status' of sensor 's' must be HTTP status codes, not a number "
        "(like status: 200, status: [200, 204] or status: 2xx)",
    ),
    (
        "- {name: s, type: http, url: 'http://x', equals: 1}",
        "models/sensors.yml:3: 'equals' of sensor 's' needs 'json_path' (json_path names the "
        "field of the JSON answer to check, like data.ready)",
    ),
    (
        "- {name: s, type: http, url: 'http://x', json_path: a, equals: 1, truthy: true}",
        "models/sensors.yml:3: sensor 's' takes 'equals' or 'truthy', not both",
    ),
    (
        "- {name: s, type: http, url: 'http://x', json_path: a, truthy: false}",
        "models/sensors.yml:3: 'truthy: false' of sensor 's' checks nothing (write equals: "
        "<value> to compare the field with a value)",
    ),
    (
        "- {name: s, type: time}",
        "models/sensors.yml:3: sensor 's' needs either 'at' or 'delay' (at: a time of day like "
        "'06:30' (with timezone:); delay: a duration after the run's scheduled time)",
    ),
    (
        "- {name: s, type: time, at: '06:00', delay: 1h}",
        "models/sensors.yml:3: sensor 's' takes 'at' or 'delay', not both (at: a time of day "
        "like '06:30' (with timezone:); delay: a duration after the run's scheduled time)",
    ),
    (
        "- {name: s, type: time, at: '25:00'}",
        "models/sensors.yml:3: 'at' of sensor 's' must be a time of day like '06:30' or "
        "'06:30:00', not '25:00'",
    ),
    (
        "- {name: s, type: time, at: '06:00', timezone: Europe/Berln}",
        "models/sensors.yml:3: unknown time zone 'Europe/Berln' of sensor 's' (did you mean "
        "'Europe/Berlin' or 'Europe/Belfast' or 'Europe/Helsinki'?)",
    ),
    (
        "- {name: s, type: time, delay: tomorrow}",
        "models/sensors.yml:3: 'delay' of sensor 's' must be a duration, not 'tomorrow' (write a "
        "number of seconds or a duration like 30s, 10m, 1h or 1d)",
    ),
    (
        "- {name: s, type: sql, sql: ''}",
        "models/sensors.yml:3: 'sql' of sensor 's' must be a query, not '' (a query whose first "
        "value is truthy, or that returns a row, when the data is there)",
    ),
]


@pytest.mark.parametrize(("entry", "message"), BAD_SENSORS, ids=[m.split(": ", 1)[1] for _, m in BAD_SENSORS])
def test_bad_sensor_fields(write: WriteFiles, tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=exactly(message)):
        sensors_of(write, tmp_path, f"version: 2\nsensors:\n  {entry}\n")


def test_errors_name_the_line_of_the_key(write: WriteFiles, tmp_path: Path) -> None:
    text = "version: 2\nsensors:\n  - name: s\n    type: file\n    path: x\n    timeout: forever\n"
    message = (
        "models/sensors.yml:6: 'timeout' of sensor 's' must be a duration, not 'forever' "
        "(write a number of seconds or a duration like 30s, 10m, 1h or 1d)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        sensors_of(write, tmp_path, text)


def test_duplicate_sensor_names_name_both_places(write: WriteFiles, tmp_path: Path) -> None:
    entry = "version: 2\nsensors:\n  - {name: landing, type: file, path: x}\n"
    root = write(
        {"sqlflow.yml": "name: shop\n", "models/a.yml": entry, "models/b/c.yml": "\n\n" + entry},
        tmp_path / "p",
    )
    message = (
        "models/b/c.yml:5: sensor 'landing' is already declared in models/a.yml:3 "
        "(sensor names are unique in a project; rename one of them)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


# -- the `sensor:` config of tests and source tables -----------------------------------------------------

TESTED = """\
    version: 2
    models:
      - name: orders
        columns:
          - name: id
            data_tests:
              - not_null:
                  config:
                    sensor:
                      poke_interval: 1m
                      timeout: 1h
                      on_timeout: skip
                      backoff: true
                      max_poke_interval: 10m
              - unique: {config: {sensor: true}}
              - accepted_values: {values: [1], sensor: {timeout: 90}}
    """


def test_sensor_config_of_tests(write: WriteFiles, tmp_path: Path) -> None:
    root = write({"sqlflow.yml": "name: shop\n", "models/schema.yml": TESTED}, tmp_path / "p")
    not_null, unique, accepted = load_project(root).model_properties["orders"].tests
    assert not_null.config["sensor"] == {
        "poke_interval": 60.0,
        "timeout": 3600.0,
        "on_timeout": "skip",
        "backoff": True,
        "max_poke_interval": 600.0,
    }
    assert unique.config["sensor"] == DEFAULT_POKE
    assert accepted.config["sensor"] == {**DEFAULT_POKE, "timeout": 90.0}
    assert accepted.kwargs == {"values": [1]}


@pytest.mark.parametrize(
    ("sensor", "message"),
    [
        (
            "{poke_intervall: 1m}",
            "models/schema.yml:10: unknown key 'poke_intervall' in sensor under test 'not_null' of "
            "column 'id' of model 'orders' (did you mean 'poke_interval' or 'max_poke_interval'?)",
        ),
        (
            "{timeout: 10 minutes later}",
            "models/schema.yml:10: 'timeout' of sensor under test 'not_null' of column 'id' of "
            "model 'orders' must be a duration, not '10 minutes later' "
            "(write a number of seconds or a duration like 30s, 10m, 1h or 1d)",
        ),
        (
            "often",
            "models/schema.yml:9: 'sensor' under test 'not_null' of column 'id' of model 'orders' "
            "must be true, false or a mapping, not a string "
            "(like sensor: {poke_interval: 30s, timeout: 10m, on_timeout: skip})",
        ),
    ],
)
def test_bad_sensor_config(write: WriteFiles, tmp_path: Path, sensor: str, message: str) -> None:
    schema = f"""\
        version: 2
        models:
          - name: orders
            columns:
              - name: id
                data_tests:
                  - not_null:
                      config:
                        sensor:
                          {sensor}
        """
    if not sensor.startswith("{"):
        schema = schema.replace(f"sensor:\n                  {sensor}", f"sensor: {sensor}")
    root = write({"sqlflow.yml": "name: shop\n", "models/schema.yml": schema}, tmp_path / "p")
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_sensor_of_a_source_table_applies_to_its_tests(write: WriteFiles, tmp_path: Path) -> None:
    sources = """\
        version: 2
        sources:
          - name: raw
            sensor: {poke_interval: 5m}
            tables:
              - name: orders
                sensor: {timeout: 1h, on_timeout: skip}
                data_tests: [{row_count: {min: 1}}]
                columns:
                  - name: id
                    data_tests: [not_null, {unique: {config: {sensor: false}}}]
                    expectations: [expect_column_values_to_not_be_null]
              - name: customers
                config: {sensor: {poke_interval: 10s}}
                data_tests: [{row_count: {min: 1}}]
              - name: inherits
                data_tests: [{row_count: {min: 1}}]
              - name: plain
                data_tests: [{row_count: {min: 1}}]
          - name: other
            tables: [{name: t, data_tests: [{row_count: {min: 1}}]}]
        """
    root = write({"sqlflow.yml": "name: shop\n", "models/sources.yml": sources}, tmp_path / "p")
    orders, customers, inherits, _, other = load_project(root).source_tables
    # the table's settings go on top of its source's (poke_interval 5m), not on top of the defaults again
    table = {**DEFAULT_POKE, "poke_interval": 300.0, "timeout": 3600.0, "on_timeout": "skip"}
    assert [t.config.get("sensor") for t in orders.tests] == [table, table, {}, table]
    assert orders.tests[-1].test_type == "expectation"
    assert customers.tests[0].config["sensor"] == {**DEFAULT_POKE, "poke_interval": 10.0}
    assert inherits.tests[0].config["sensor"] == {**DEFAULT_POKE, "poke_interval": 300.0}
    assert other.tests[0].config == {}


def test_durations_and_sizes() -> None:
    assert [parse_duration(v) for v in ("30s", "10m", "1h", "1d", 12, 1.5, "2 hours", "90")] == [
        30.0, 600.0, 3600.0, 86400.0, 12.0, 1.5, 7200.0, 90.0,
    ]  # fmt: skip
    for bad in ("soon", "-1s", True, None, "1w", [1], {"count": 1}):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [parse_size(v) for v in (0, "500B", "10KB", "1MB", "1.5 GB")] == [
        0,
        500,
        10240,
        1048576,
        1610612736,
    ]
    for bad in ("big", -1, 1.5, True):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_times_of_day_stay_strings_in_yaml() -> None:
    doc = parse_yaml("at: 16:30\nb: 1:30:00\nn: 12\nf: 1.5\nh: 0x10\n", "x.yml")
    assert doc == {"at": "16:30", "b": "1:30:00", "n": 12, "f": 1.5, "h": 16}
