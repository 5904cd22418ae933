"""dbt-duckdb's external sources and Jinja in a source's names: source() prints the formatted
`external_location` (a quoted path or a table function), the source's meta or config, the table's winning;
`database`, `schema` and `identifier` may hold Jinja. Built end to end on a real DuckDB file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from sqlflow import api
from sqlflow.errors import ConfigError

SOURCES = """
version: 2
sources:
  - name: landing
    meta:
      external_location: "data/{name}.csv"
    tables:
      - name: orders
      - name: customers
        config:
          external_location: "read_csv('data/%(identifier)s.csv', header = true, types = {'id': 'BIGINT'})"
          formatter: oldstyle
        identifier: people
      - name: payments
        config:
          external_location: "read_csv('data/${name}_${extra}.csv')"
          formatter: template
          extra: v2
  - name: raw
    schema: "{{ env_var('RAW_SCHEMA', 'fallback') }}"
    tables:
      - name: events
        identifier: "{{ var('events_table', 'events') }}"
"""


def project(root: Path, sources: str = SOURCES) -> Path:
    files = {
        "sqlflow.yml": "name: shop\nmodels: {shop: {+materialized: table}}\nvars: {events_table: clicks}\n",
        "models/sources.yml": sources,
        "models/orders.sql": "select * from {{ source('landing', 'orders') }}\n",
        "models/customers.sql": "select * from {{ source('landing', 'customers') }}\n",
        "models/payments.sql": "select * from {{ source('landing', 'payments') }}\n",
        "models/events.sql": "select * from {{ source('raw', 'events') }}\n",
        "data/orders.csv": "id,amount\n1,10\n2,20\n",
        "data/people.csv": "id,name\n7,ann\n",
        "data/payments_v2.csv": "id\n1\n2\n3\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def test_external_locations_are_what_source_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAW_SCHEMA", "ingest")
    root = project(tmp_path / "shop")
    compiled = api.compile_all(api.Options(project_dir=root))
    sql = {n.name: n.compiled_sql for n in compiled.manifest.models()}
    assert sql["orders"] == "select * from 'data/orders.csv'"
    assert sql["customers"] == (
        "select * from read_csv('data/people.csv', header = true, types = {'id': 'BIGINT'})"
    )
    assert sql["payments"] == "select * from read_csv('data/payments_v2.csv')"
    # Jinja in a source's schema and identifier is rendered, as dbt renders it
    assert sql["events"] == 'select * from "ingest"."clicks"'
    events = compiled.manifest.sources["source.shop.raw.events"]
    assert (events.relation.schema, events.relation.identifier, events.external) == ("ingest", "clicks", None)

    with duckdb.connect(str(root / "shop.duckdb")) as con:
        con.execute("create schema ingest; create table ingest.clicks as select 1 as id")
    out = api.run("run", api.Options(project_dir=root))
    assert out.result is not None and not out.failed, [r.message for r in out.result.results]
    with duckdb.connect(str(root / "shop.duckdb"), read_only=True) as con:
        counts = {t: con.sql(f"select count(*) from main.{t}").fetchall()[0][0] for t in sql}
    assert counts == {"orders": 2, "customers": 1, "payments": 3, "events": 1}


def test_a_placeholder_the_table_does_not_have_is_one_clear_error(tmp_path: Path) -> None:
    sources = SOURCES.replace('"data/{name}.csv"', '"data/{name}_{region}.csv"')
    root = project(tmp_path / "shop", sources)
    with pytest.raises(
        ConfigError,
        match=r"^models/sources\.yml:\d+: external_location of source table 'landing\.orders' names "
        r"'region', which the table does not have",
    ):
        api.compile_all(api.Options(project_dir=root))


def test_an_unknown_formatter_names_the_choices(tmp_path: Path) -> None:
    root = project(tmp_path / "shop", SOURCES.replace("formatter: template", "formatter: fstring"))
    with pytest.raises(
        ConfigError, match=r"unknown formatter 'fstring' for source table 'landing\.payments'"
    ) as e:
        api.compile_all(api.Options(project_dir=root))
    assert e.value.hint == "use newstyle, oldstyle, template"
