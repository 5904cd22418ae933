"""sqlflow.yml / dbt_project.yml: keys, trees, errors with file:line; find_project_root."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import find_project_root, load_project

from .conftest import WriteFiles
from .helpers import exactly


def test_example_project(shop: Path) -> None:
    project = load_project(shop)
    assert project.root == shop
    assert project.name == "shop"
    assert project.config_file == "sqlflow.yml"
    assert project.profile is None
    assert project.dialect == "duckdb"
    assert project.model_paths == ("models",)
    assert project.target_path == "target"
    assert project.target_dir == shop / "target"
    assert project.clean_targets == ("target",)
    assert project.model_configs == {
        "+materialized": "view",
        "marts": {"+materialized": "table", "+tags": ("nightly",)},
    }


def test_every_key(write: WriteFiles) -> None:
    root = write(
        {
            "sqlflow.yml": """\
                name: shop
                profile: warehouse
                version: "1.0"
                config-version: 2
                dialect: Postgres
                model-paths: [sql/models, more_models/]
                seed-paths: data
                test-paths: [checks]
                macro-paths: [lib]
                snapshot-paths: [snaps]
                analysis-paths: [analyses]
                docs-paths: [docs]
                target-path: build
                clean-targets: [build, logs]
                vars:
                  start: 2024-01-01
                  shop: {region: eu}
                seeds:
                  shop:
                    +schema: raw
                    payments: {+column_types: {amount: integer}}
                tests:
                  +severity: warn
                data_tests:
                  shop:
                    +store_failures: true
                """,
            "profiles.yml": "warehouse:\n  outputs:\n    dev: {type: duckdb}\n",
        }
    )
    project = load_project(root)
    assert project.profile == "warehouse"
    assert project.dialect == "postgres"
    assert project.model_paths == ("sql/models", "more_models")
    assert project.seed_paths == ("data",)
    assert project.test_paths == ("checks",)
    assert project.macro_paths == ("lib",)
    assert project.target_path == "build"
    assert project.clean_targets == ("build", "logs")
    assert project.vars == {"start": __import__("datetime").date(2024, 1, 1), "region": "eu"}
    assert project.seed_configs == {"+schema": "raw", "payments": {"+column_types": {"amount": "integer"}}}
    assert project.test_configs == {"+severity": "warn", "+store_failures": True}


def test_dbt_project_yml_only(write: WriteFiles) -> None:
    root = write(
        {
            "dbt_project.yml": """\
                name: 'jaffle_shop'
                version: '1.0.0'
                config-version: 2
                profile: 'jaffle_shop'
                require-dbt-version: [">=1.5.0", "<2.0.0"]
                on-run-start: ["select 1"]
                quoting: {identifier: false}
                model-paths: ["models"]
                clean-targets: ["target", "dbt_packages"]
                models:
                  jaffle_shop:
                    materialized: table
                    staging:
                      materialized: view
                      +docs: {node_color: silver}
                    not_a_folder_here:
                      +enabled: false
                """,
            "models/staging/stg_customers.sql": "select 1 as id\n",
            "profiles.yml": "jaffle_shop:\n  outputs:\n    dev: {type: duckdb}\n",
        }
    )
    project = load_project(root)
    assert project.config_file == "dbt_project.yml"
    assert project.name == "jaffle_shop"
    assert project.clean_targets == ("target", "dbt_packages")
    assert project.model_configs == {
        "+materialized": "table",
        "staging": {"+materialized": "view", "+docs": {"node_color": "silver"}},
        "not_a_folder_here": {"+enabled": False},
    }
    assert [f.path for f in project.model_files] == ["models/staging/stg_customers.sql"]


def test_sqlflow_yml_is_preferred(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: mine\n", "dbt_project.yml": "name: theirs\n"})
    assert load_project(root).name == "mine"


def test_configs_above_the_project_level_apply_too(write: WriteFiles) -> None:
    root = write(
        {
            "sqlflow.yml": """\
                name: shop
                models:
                  +materialized: table
                  +tags: [a]
                  staging: {+schema: stg}
                  shop:
                    +tags: [b]
                    staging: {+alias: x}
                """
        }
    )
    assert load_project(root).model_configs == {
        "+materialized": "table",
        "+tags": ("b",),
        "staging": {"+schema": "stg", "+alias": "x"},
    }


def test_unknown_top_level_key(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: shop\n\nmodle-paths: [models]\n"})
    message = "sqlflow.yml:3: unknown key 'modle-paths' (did you mean 'model-paths' or 'macro-paths' or "
    message += "'test-paths'?)"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_unknown_config_key_in_the_models_tree(write: WriteFiles) -> None:
    root = write(
        {
            "sqlflow.yml": """\
                name: shop
                models:
                  shop:
                    +materialized: view
                    staging:
                      +schema: staging
                      +materialised: table
                """
        }
    )
    project = load_project(root)
    assert project.model_configs["staging"]["+materialised"] == "table"  # kept, as dbt keeps it
    assert [(str(at), m) for m, at in project.warnings] == [
        (
            "sqlflow.yml:7",
            "unknown config 'materialised' under models.shop.staging is kept as a custom config "
            "(did you mean 'materialized'?)",
        )
    ]


def test_a_scalar_under_an_unknown_key_is_not_a_folder(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: shop\nmodels:\n  shop:\n    materialised: view\n"})
    project = load_project(root)
    assert project.model_configs == {"+materialised": "view"}
    assert [str(at) for _, at in project.warnings] == ["sqlflow.yml:4"]


def test_bad_config_value_in_the_tree(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: shop\nseeds:\n  +quote_columns: maybe\n"})
    message = "sqlflow.yml:3: 'quote_columns' under seeds must be true or false, not a string"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 2\n", "sqlflow.yml:1: missing key 'name' (add 'name: my_project')"),
        (
            "name: my-shop\n",
            "sqlflow.yml:1: project name 'my-shop' is not a valid identifier "
            "(use letters, digits and underscores, not starting with a digit)",
        ),
        ("name: shop\nsource-paths: [models]\n", "sqlflow.yml:2: 'source-paths' was renamed 'model-paths' "
         "(write 'model-paths:')"),
        ("name: shop\nmodel-paths: {a: 1}\n", "sqlflow.yml:2: 'model-paths' must be a string or a list of "
         "strings, not a mapping"),
        ("name: shop\nconfig-version: 1\n", "sqlflow.yml:2: unsupported config-version 1 "
         "(use config-version: 2 or leave it out)"),
        ("- name: shop\n", "sqlflow.yml:1: the project file must be a mapping of keys"),
        ("name: shop\nvars: [1]\n", "sqlflow.yml:2: 'vars' must be a mapping, not a list"),
    ],
)  # fmt: skip
def test_project_file_errors(write: WriteFiles, text: str, message: str) -> None:
    root = write({"sqlflow.yml": text})
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_bad_yaml_in_the_project_file(write: WriteFiles) -> None:
    root = write({"sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +tags: [a, b\n"})
    with pytest.raises(ConfigError, match=r"^sqlflow\.yml:4: invalid YAML: .+ \(check the indentation"):
        load_project(root)


def test_find_project_root_walks_up(shop: Path) -> None:
    assert find_project_root(shop / "models" / "staging") == shop
    assert find_project_root(shop / "models" / "marts" / "orders.sql") == shop
    assert find_project_root(shop) == shop


def test_find_project_root_without_a_project(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(
        ConfigError, match=r"^no sqlflow\.yml or dbt_project\.yml in .*empty or any folder above it"
    ):
        find_project_root(folder)
