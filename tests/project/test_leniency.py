"""dbt's leniency, with sqlflow's clarity: what dbt accepts loads, with one warning line naming file:line
(and the key probably meant, for a likely typo); what dbt refuses is still refused before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlflow.artifacts import manifest_document
from sqlflow.compile import compile_project
from sqlflow.compile.lint import lint
from sqlflow.errors import ConfigError
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.project import load_project

from .conftest import WriteFiles
from .helpers import exactly

DBT_PROJECT = """\
    name: shop
    models:
      shop:
        +materialized: view
        marts:
          +start: '2020-01-01'
          materialised: table
"""


def compiled(write: WriteFiles, files: dict[str, str]) -> Manifest:
    return compile_project(
        load_project(write({"dbt_project.yml": "name: shop\n", **files})), target_dialect="duckdb"
    )


def warnings_of(manifest: Manifest) -> list[str]:
    return [str(w) for w in lint(manifest)]


def model(manifest: Manifest, name: str) -> ModelNode:
    node = manifest.nodes[f"model.shop.{name}"]
    assert isinstance(node, ModelNode)
    return node


def test_unknown_config_keys_in_the_project_file_are_kept_and_a_typo_is_named(write: WriteFiles) -> None:
    manifest = compiled(
        write,
        {
            "dbt_project.yml": DBT_PROJECT,
            "macros/start.sql": "{% macro start_of() %}'{{ config.get('start') }}'{% endmacro %}\n",
            "models/marts/orders.sql": "select {{ start_of() }} as since\n",
        },
    )
    orders = model(manifest, "orders")
    assert orders.config.extra == {"start": "2020-01-01", "materialised": "table"}
    assert orders.config.materialized == "view"  # a typo is not taken for the key it probably meant
    assert "'2020-01-01' as since" in (orders.compiled_sql or "")  # config.get() sees the custom key
    assert warnings_of(manifest) == [
        "dbt_project.yml:7: unknown config 'materialised' under models.shop.marts is kept as a custom config "
        "(did you mean 'materialized'?)"
    ]
    config = manifest_document(manifest)["nodes"]["model.shop.orders"]["config"]
    assert (config["start"], config["materialised"], "extra" in config) == ("2020-01-01", "table", False)


def test_unknown_config_keys_in_config_and_property_files(write: WriteFiles) -> None:
    manifest = compiled(
        write,
        {
            "models/a.sql": "{{ config(owner_team='growth', uniqe_key='id') }}\nselect 1 as id\n",
            "models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      sla_hours: 4\n",
        },
    )
    assert model(manifest, "a").config.extra == {"owner_team": "growth", "uniqe_key": "id", "sla_hours": 4}
    assert model(manifest, "a").config.unique_key == ()
    assert warnings_of(manifest) == [
        "models/a.sql:1: unknown config 'uniqe_key' is kept as a custom config (did you mean 'unique_key'?)"
    ]


def test_unknown_top_level_keys_of_a_property_file_are_ignored_with_a_warning(write: WriteFiles) -> None:
    props = "version: 2\nmodels:\n  - name: a\n    description: the a\ntests:\n  - name: x\nmodel: []\n"
    manifest = compiled(write, {"models/a.sql": "select 1 as id\n", "models/stg.yml": props})
    assert model(manifest, "a").description == "the a"
    assert warnings_of(manifest) == [
        "models/stg.yml:5: unknown key 'tests' in a property file is ignored (did you mean 'unit_tests'?)",
        "models/stg.yml:7: unknown key 'model' in a property file is ignored (did you mean 'models'?)",
    ]


def test_properties_of_a_model_without_a_file_are_dropped_with_their_tests(write: WriteFiles) -> None:
    props = """\
        version: 2
        models:
          - name: orders
            columns:
              - name: id
                tests: [unique]
          - name: dim_feature
            columns:
              - name: id
                tests: [not_null, unique]
    """
    manifest = compiled(write, {"models/orders.sql": "select 1 as id\n", "models/schema.yml": props})
    assert [uid.rsplit(".", 1)[0] for uid in sorted(manifest.nodes)] == [
        "model.shop",
        "test.shop.unique_orders_id",
    ]
    assert warnings_of(manifest) == [
        "models/schema.yml:7: unknown model 'dim_feature': its properties and tests are ignored"
    ]


@pytest.mark.parametrize("key", ["cluster_by", "file_format", "partition_by", "location"])
def test_configs_the_engine_ignores_are_accepted_with_a_warning(write: WriteFiles, key: str) -> None:
    manifest = compiled(
        write,
        {
            "dbt_project.yml": f"name: shop\nmodels:\n  shop:\n    +{key}: x\n",
            "models/a.sql": f"{{{{ config({key}='y') }}}}\nselect 1 as id\n",
        },
    )
    assert key not in model(manifest, "a").config.extra
    assert warnings_of(manifest) == [
        f"dbt_project.yml:4: dbt config '{key}' under models.shop is ignored on duckdb/postgres",
        f"models/a.sql:1: dbt config '{key}' is ignored on duckdb/postgres",
    ]


def test_a_warning_is_printed_once_by_the_cli(write: WriteFiles) -> None:
    from click.testing import CliRunner

    from sqlflow.cli.main import cli

    root = write({"dbt_project.yml": DBT_PROJECT, "models/marts/orders.sql": "select 1 as id\n"})
    result = CliRunner().invoke(cli, ["--no-color", "compile", "--project-dir", str(root)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warned == [
        "warning: dbt_project.yml:7: unknown config 'materialised' under models.shop.marts is kept as a "
        "custom config (did you mean 'materialized'?)"
    ]
    document = json.loads((root / "target" / "manifest.json").read_text())
    assert document["nodes"]["model.shop.orders"]["config"]["start"] == "2020-01-01"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        # a known config of the wrong type or value: dbt refuses it when it parses the project
        ({"dbt_project.yml": "name: shop\nmodels:\n  +enabled: maybe\n"},
         "dbt_project.yml:3: 'enabled' under models must be true or false, not a string"),
        ({"models/a.sql": "{{ config(materialized='tabel') }}\nselect 1\n"},
         "models/a.sql:1: 'materialized' must be one of view, table, ephemeral, incremental, seed, snapshot, "
         "not 'tabel' (did you mean 'table'?)"),
        ({"models/a.sql": "select 1\n", "models/s.yml": "models:\n  - name: a\n    tags: {x: 1}\n"},
         "models/s.yml:3: 'tags' under model 'a' must be a string or a list of strings, not a mapping"),
        ({"models/a.sql": "select 1\n", "models/s.yml": "version: 1\n"},
         "models/s.yml:1: unsupported property file version 1 (write 'version: 2')"),
        # what would build other relations than dbt's: refused, never silently ignored
        ({"models/a.sql": "{{ config(merge_update_columns=['x']) }}\nselect 1\n"},
         "models/a.sql:1: dbt config 'merge_update_columns' is not supported by sqlflow (remove it; "
         "docs/dbt.md lists what sqlflow reads from a dbt project)"),
    ],
)  # fmt: skip
def test_what_dbt_refuses_is_still_refused(write: WriteFiles, files: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=exactly(message)):
        compiled(write, files)


def test_a_cached_render_warns_again(write: WriteFiles, tmp_path: Path) -> None:
    root = write({"dbt_project.yml": "name: shop\n", "models/a.sql": "{{ config(shema='x') }}\nselect 1\n"})
    for _ in range(2):
        manifest = compile_project(load_project(root), target_dialect="duckdb", cache_dir=tmp_path / "cache")
        assert warnings_of(manifest) == [
            "models/a.sql:1: unknown config 'shema' is kept as a custom config (did you mean 'schema'?)"
        ]


def test_a_strategy_the_engine_cannot_do_is_refused_only_by_an_incremental_run(write: WriteFiles) -> None:
    from click.testing import CliRunner

    from sqlflow.cli.main import cli

    sql = (
        "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\nselect 1 as id\n"
    )
    root = write({"dbt_project.yml": "name: shop\n", "models/events.sql": sql})
    run = ["--no-color", "run", "--project-dir", str(root)]
    first = CliRunner().invoke(cli, run)
    assert first.exit_code == 0, first.output  # a first build creates the table, as in dbt-duckdb
    again = CliRunner().invoke(cli, run)
    assert again.exit_code == 1
    assert (
        "models/events.sql: incremental_strategy 'insert_overwrite' of events is not available on "
        "duckdb/postgres (use append, merge or delete+insert; a first or --full-refresh build creates the "
        "table)"
    ) in again.output
    assert CliRunner().invoke(cli, [*run, "--full-refresh"]).exit_code == 0


def test_an_unknown_strategy_is_still_an_error_before_anything_runs(write: WriteFiles) -> None:
    with pytest.raises(
        ConfigError, match=r"^models/a.sql:1: 'incremental_strategy' must be one of .*'mrege'"
    ):
        compiled(write, {"models/a.sql": "{{ config(incremental_strategy='mrege') }}\nselect 1\n"})


def test_debug_dbt_lists_what_is_ignored_and_the_strategy_an_incremental_run_refuses(
    write: WriteFiles,
) -> None:
    from sqlflow.compile.dbt_report import scan_project

    project = (
        "name: shop\nmodels:\n  shop:\n    +cluster_by: [id]\n    +incremental_strategy: insert_overwrite\n"
    )
    props = "version: 2\nmodels:\n  - name: a\ntests:\n  - name: x\n"
    root = write({"dbt_project.yml": project, "models/a.sql": "select 1 as id\n", "models/stg.yml": props})
    assert [str(f) for f in scan_project(root)] == [
        "dbt_project.yml:4: ignored: config 'cluster_by' (models.shop.+cluster_by) is ignored on "
        "duckdb/postgres. It has no effect here, as in dbt-duckdb; keep it for other warehouses or "
        "remove it.",
        "dbt_project.yml:5: unsupported: incremental_strategy 'insert_overwrite' "
        "(models.shop.+incremental_strategy) is not available on duckdb/postgres: a first build creates "
        "the table, an incremental run fails. Use append, merge or delete+insert.",
        "models/stg.yml:4: ignored: unknown key 'tests' of a property file is ignored. Remove it, or move "
        "what it holds under a key dbt reads (models:, sources: ...).",
    ]


def test_a_likely_typo_in_a_test_config_is_named(write: WriteFiles) -> None:
    props = """\
        version: 2
        models:
          - name: a
            columns:
              - name: id
                tests:
                  - unique:
                      config: {severty: warn}
    """
    manifest = compiled(write, {"models/a.sql": "select 1 as id\n", "models/schema.yml": props})
    test = next(n for uid, n in manifest.nodes.items() if uid.startswith("test."))
    assert (test.config.severity, test.config.extra) == ("error", {"severty": "warn"})
    assert warnings_of(manifest) == [
        "models/schema.yml:8: unknown config 'severty' under test 'unique' of column 'id' of model 'a' is "
        "kept as a custom config (did you mean 'severity'?)"
    ]


def test_unknown_keys_of_a_model_entry_and_a_column_are_ignored_with_a_warning(write: WriteFiles) -> None:
    props = """\
        version: 2
        models:
          - name: a
            descripton: the a
            owner: ana
            columns:
              - name: id
                data_test: [unique]
    """
    manifest = compiled(write, {"models/a.sql": "select 1 as id\n", "models/schema.yml": props})
    assert [uid for uid in manifest.nodes if uid.startswith("test.")] == []
    assert warnings_of(manifest) == [
        "models/schema.yml:4: unknown key 'descripton' under model 'a' is ignored "
        "(did you mean 'description'?)",
        "models/schema.yml:5: unknown key 'owner' under model 'a' is ignored",
        "models/schema.yml:8: unknown key 'data_test' under column 'id' of model 'a' is ignored "
        "(did you mean 'data_tests' or 'data_type'?)",
    ]
