"""The dbt compatibility report (`sqlflow debug --dbt`) on a dbt project that uses many things sqlflow
does not do: each finding with its file:line, kind and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli
from sqlflow.compile.dbt_report import scan_project

FILES = {
    "dbt_project.yml": """\
name: legacy
profile: legacy
on-run-start:
  - "create schema if not exists audit"
dispatch:
  - macro_namespace: dbt_utils
    search_order: [legacy, dbt_utils]
models:
  legacy:
    +persist_docs: {relation: true}
    marts:
      +materialized: materialized_view
      +contract: {enforced: true}
      +partition_by: {field: day}
    staging:
      +contract: {enforced: false}
""",
    "packages.yml": """\
packages:
  - package: dbt-labs/dbt_utils
    version: [">=1.0.0"]
  - git: "https://github.com/acme/dbt-macros.git"
""",
    "macros/columns.sql": """\
{% macro columns_of(relation) %}
  {% set cols = adapter.get_columns_in_relation(relation) %}
  {% set missing = adapter.get_missing_columns(relation, relation) %}
  {{ return(cols) }}
{% endmacro %}
""",
    "macros/mv.sql": """\
{% materialization materialized_view, adapter='duckdb' %}
{% endmaterialization %}
""",
    "models/staging/stg_orders.sql": """\
{{ config(materialized='view', grants={'select': ['reporter']}) }}
select {{ dbt_utils.star(ref('raw_orders')) }}
from {{ ref('raw_orders') }}
""",
    "models/marts/orders.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('stg_orders') }}\n",
    "models/marts/scores.py": "def model(dbt, session):\n    return dbt.ref('orders')\n",
    "models/marts/schema.yml": """\
version: 2
models:
  - name: orders
    versions:
      - v: 2
    columns:
      - name: order_id
        constraints:
          - type: not_null
        data_tests:
          - dbt_utils.accepted_range: {min_value: 0}
          - dbt_expectations.expect_column_to_exist
semantic_models:
  - name: orders
metrics:
  - name: revenue
exposures:
  - name: dashboard
""",
}

EXPECTED = [
    "dbt_project.yml:10: ignored: config 'persist_docs' (models.legacy.+persist_docs). Descriptions stay "
    "in manifest.json and the docs site, not in warehouse comments.",
    "dbt_project.yml:12: unsupported: materialization 'materialized_view' is not one sqlflow knows. Use "
    "table, view, incremental or ephemeral (custom materializations are not run).",
    "dbt_project.yml:13: ignored: config 'contract' (models.legacy.marts.+contract). The contract is not "
    "enforced: add data tests (not_null, accepted_values ...) instead.",
    "dbt_project.yml:14: ignored: config 'partition_by' (models.legacy.marts.+partition_by) is ignored on "
    "duckdb/postgres. It has no effect here, as in dbt-duckdb; keep it for other warehouses or remove it.",
    "macros/columns.sql:3: unsupported: adapter.get_missing_columns is not available in sqlflow's Jinja. "
    "Rewrite it in SQL or with run_query (docs/dbt.md lists the adapter methods).",
    "macros/mv.sql:1: unsupported: custom materialization 'materialized_view' is not run. Models that use"
    " it need table, view, incremental or ephemeral.",
    "models/marts/schema.yml:4: unsupported: model versions of 'orders' are not built. Keep one version "
    "per model name (a file per version, each with its own name).",
    "models/marts/schema.yml:8: ignored: constraints on order_id are not created. Add data tests "
    "(not_null, unique, relationships) for what they checked.",
    "models/marts/schema.yml:12: unsupported: test 'dbt_expectations.expect_column_to_exist' needs the "
    "dbt_expectations package, not installed by sqlflow. Copy its {% test %} macro into macros/ and drop "
    "the prefix.",
    "models/marts/schema.yml:13: ignored: semantic models (the semantic layer) are not built or served. "
    "The models build the same; nothing to do unless you use them.",
    "models/marts/schema.yml:15: ignored: metrics (the semantic layer) are not computed. The models build"
    " the same; nothing to do unless you use them.",
    "models/marts/schema.yml:17: ignored: exposures are not shown in the docs site or the manifest. The "
    "models build the same; nothing to do unless you use them.",
    "models/marts/scores.py:1: unsupported: python models are not run. Rewrite it in SQL, or build the "
    "table outside sqlflow and declare it as a source.",
    "models/staging/stg_orders.sql:1: ignored: config 'grants' (config()). Grant access outside sqlflow, "
    "or in a post_hook (`grant select on {{ this }} to ...`).",
    "models/staging/stg_orders.sql:2: unsupported: dbt_utils.star() needs the dbt_utils package, which "
    "sqlflow does not install. Copy the macro into macros/ and call it as star().",
    "packages.yml:2: unsupported: package 'dbt-labs/dbt_utils' is not installed (sqlflow has no `deps`). "
    "Copy the macros the project calls into macros/; dbt_utils' tests unique_combination_of_columns, "
    "accepted_range and expression_is_true are built in.",
    "packages.yml:4: unsupported: package 'https://github.com/acme/dbt-macros.git' is not installed "
    "(sqlflow has no `deps`). Copy the macros the project calls into macros/; dbt_utils' tests "
    "unique_combination_of_columns, accepted_range and expression_is_true are built in.",
]


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_every_unsupported_thing_is_listed_with_its_line_and_what_to_do(legacy: Path) -> None:
    found = [str(f) for f in scan_project(legacy)]
    assert found == EXPECTED


def test_what_sqlflow_has_is_not_listed(legacy: Path) -> None:
    """adapter.get_columns_in_relation is sqlflow's, dbt_utils.accepted_range a built-in test, a contract
    that enforces nothing changes nothing."""
    text = "\n".join(str(f) for f in scan_project(legacy))
    assert "get_columns_in_relation" not in text and "accepted_range'" not in text
    assert "staging.+contract" not in text


def test_debug_dbt_prints_the_report_and_fails_on_unsupported_things(legacy: Path) -> None:
    result = CliRunner().invoke(cli, ["--no-color", "debug", "--dbt", "--project-dir", str(legacy)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("IGNORED     dbt_project.yml:10: config 'persist_docs'")
    assert "dispatch" not in result.output  # dispatch: is read (tests/compile/test_packages.py)
    assert "on-run-start" not in result.output  # the hooks run (api/session.py)
    assert lines[-1] == "9 unsupported, 8 ignored"


def test_a_project_sqlflow_fully_reads_reports_nothing(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: tidy\nmodels:\n  tidy:\n    +materialized: table\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1 as id\n")
    result = CliRunner().invoke(cli, ["--no-color", "debug", "--dbt", "--project-dir", str(tmp_path)])
    assert (result.exit_code, result.output.strip()) == (
        0,
        "Nothing found: sqlflow reads everything this project uses.",
    )
