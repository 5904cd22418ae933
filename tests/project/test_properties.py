"""Property YAML: models, seeds, columns, tests in every dbt form, sources, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.manifest import ColumnInfo
from sqlflow.project import NodeProperties, SourceTable, TestSpec, load_project

from .conftest import WriteFiles
from .helpers import exactly

SCHEMA = """\
    version: 2
    models:
      - name: orders
        description: One row per order.
        config:
          materialized: table
          +tags: core
        meta: {owner: ana}
        tests:
          - dbt_utils.expression_is_true:
              expression: "amount >= 0"
        columns:
          - name: order_id
            description: Primary key.
            data_type: integer
            data_tests: [not_null, unique]
          - name: status
            tests:
              - accepted_values:
                  values: [placed, shipped]
                  config: {severity: warn}
              - accepted_values:
                  arguments: {values: [placed], quote: false}
                  config: {where: "status is not null"}
                  name: only_placed
              - relationships:
                  to: ref('customers')
                  field: id
                  severity: warn
              - name: custom_name
                test_name: not_null
                description: Status is always set.
    seeds:
      - name: raw_payments
        config:
          column_types: {amount: integer}
    """


def props(root: Path, write: WriteFiles, files: dict[str, str]) -> Path:
    return write({"sqlflow.yml": "name: shop\n", **files}, root)


def test_models_columns_and_tests(write: WriteFiles, tmp_path: Path) -> None:
    root = props(tmp_path / "p", write, {"models/marts/schema.yml": SCHEMA})
    project = load_project(root)
    path = "models/marts/schema.yml"
    orders = project.model_properties["orders"]
    assert orders == NodeProperties(
        name="orders",
        path=path,
        line=3,
        description="One row per order.",
        columns=(
            ColumnInfo(name="order_id", data_type="integer", description="Primary key."),
            ColumnInfo(name="status"),
        ),
        config={"meta": {"owner": "ana"}, "materialized": "table", "tags": ("core",)},
        tests=(
            TestSpec(
                test_name="dbt_utils.expression_is_true",
                kwargs={"expression": "amount >= 0"},
                path=path,
                line=10,
            ),
            TestSpec(test_name="not_null", column_name="order_id", path=path, line=16),
            TestSpec(test_name="unique", column_name="order_id", path=path, line=16),
            TestSpec(
                test_name="accepted_values",
                kwargs={"values": ["placed", "shipped"]},
                config={"severity": "warn"},
                column_name="status",
                path=path,
                line=19,
            ),
            TestSpec(
                test_name="accepted_values",
                kwargs={"values": ["placed"], "quote": False},
                config={"where": "status is not null"},
                column_name="status",
                path=path,
                line=22,
                name="only_placed",
            ),
            TestSpec(
                test_name="relationships",
                kwargs={"to": "ref('customers')", "field": "id"},
                config={"severity": "warn"},
                column_name="status",
                path=path,
                line=26,
            ),
            TestSpec(
                test_name="not_null",
                column_name="status",
                path=path,
                line=30,
                name="custom_name",
                description="Status is always set.",
            ),
        ),
    )
    assert project.seed_properties["raw_payments"].config == {"column_types": {"amount": "integer"}}


def test_sources(write: WriteFiles, tmp_path: Path) -> None:
    root = props(
        tmp_path / "p",
        write,
        {
            "models/sources.yml": """\
                version: 2
                sources:
                  - name: shop
                    database: lake
                    loader: fivetran
                    loaded_at_field: _loaded_at
                    freshness:
                      warn_after: {count: 12, period: hour}
                    tags: [raw]
                    meta: {team: data}
                    tables:
                      - name: orders
                        identifier: raw_orders_v2
                        description: Orders as loaded.
                        tags: [pii]
                        meta: {pii: true}
                        columns:
                          - name: id
                            tests: [unique]
                        tests:
                          - dbt_utils.at_least_one
                      - name: customers
                        freshness: null
                        loaded_at_field: updated_at
                      - name: old
                        config: {enabled: false}
                  - name: crm
                    schema: salesforce
                    tables:
                      - name: accounts
                """
        },
    )
    path = "models/sources.yml"
    orders, customers, accounts = load_project(root).source_tables
    assert orders == SourceTable(
        source_name="shop",
        name="orders",
        path=path,
        line=12,
        database="lake",
        schema="shop",
        identifier="raw_orders_v2",
        description="Orders as loaded.",
        columns=(ColumnInfo(name="id"),),
        loaded_at_field="_loaded_at",
        freshness={"warn_after": {"count": 12, "period": "hour"}},
        tags=("raw", "pii"),
        meta={"team": "data", "pii": True},
        tests=(
            TestSpec(test_name="dbt_utils.at_least_one", path=path, line=21),
            TestSpec(test_name="unique", column_name="id", path=path, line=19),
        ),
    )
    assert (customers.freshness, customers.loaded_at_field, customers.identifier) == (
        {},
        "updated_at",
        "customers",
    )
    assert (accounts.source_name, accounts.schema, accounts.database, accounts.tags) == (
        "crm",
        "salesforce",
        None,
        (),
    )


def test_duplicate_model_entries_name_both_files(write: WriteFiles, tmp_path: Path) -> None:
    entry = "version: 2\nmodels:\n  - name: orders\n"
    root = props(tmp_path / "p", write, {"models/a.yml": entry, "models/staging/b.yml": "\n" + entry})
    message = (
        "models/staging/b.yml:4: model 'orders' already has properties in models/a.yml:3 "
        "(merge the two entries into one)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_duplicate_sources_name_both_files(write: WriteFiles, tmp_path: Path) -> None:
    entry = "sources:\n  - name: shop\n    tables: [{name: a}]\n"
    root = props(tmp_path / "p", write, {"models/a.yml": entry, "models/b.yml": entry})
    message = (
        "models/b.yml:2: source 'shop' is already declared in models/a.yml:2 "
        "(declare each source once; list all its tables under it)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_bad_yaml_in_a_property_file(write: WriteFiles, tmp_path: Path) -> None:
    root = props(
        tmp_path / "p",
        write,
        {"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n   columns: []\n"},
    )
    with pytest.raises(ConfigError, match=r"^models/schema\.yml:4: invalid YAML: .+ \(check the indentation"):
        load_project(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\n", "models/s.yml:1: unsupported property file version 1 (write 'version: 2')"),
        ("models:\n  - description: x\n", "models/s.yml:2: a model entry needs a 'name'"),
        ("models:\n  - name: a\n    columns:\n      - name: id\n      - name: id\n",
         "models/s.yml:5: column 'id' of model 'a' is described twice (first at line 4) "
         "(merge the two entries)"),
        ("models:\n  - name: a\n    tests:\n      - unique:\n        column_name: id\n",
         "models/s.yml:4: a test entry under model 'a' must name one test, not 'unique', 'column_name' "
         "(check the indentation of the test's arguments)"),
        ("models:\n  - name: a\n    tests:\n      - accepted_values:\n          values: [x]\n"
         "          config: {severity: fatal}\n",
         "models/s.yml:6: 'severity' under test 'accepted_values' of model 'a' must be one of error, warn, "
         "not 'fatal'"),
        ("models:\n  - name: a\n    tests: [[unique]]\n",
         "models/s.yml:3: a test under model 'a' must be a test name or a mapping, not a list "
         "(write '- not_null' or '- accepted_values: {values: [a, b]}')"),
        ("sources:\n  - name: s\n    tables:\n      - name: t\n        freshness:\n"
         "          warn_after: {count: 1, period: week}\n",
         "models/s.yml:6: 'period' of warn_after of source table 's.t' must be one of minute, hour, day, "
         "not 'week'"),
        ("sources:\n  - name: s\n    tables:\n      - name: t\n      - name: t\n",
         "models/s.yml:5: table 't' is declared twice in source 's' (first at line 4)"),
        ("sources:\n  - schema: raw\n", "models/s.yml:2: a source needs a 'name'"),
        ("sources:\n  - name: s\n    tables: [identifier: x]\n",
         "models/s.yml:3: a table of source 's' needs a 'name'"),
        ("sources:\n  - name: s\n    freshness: {error_after: {count: 0, period: day}}\n",
         "models/s.yml:3: 'count' of error_after of source 's' must be a whole number of at least 1, not 0"),
        ("sources:\n  - name: s\n    config: {enabled: no_thanks}\n",
         "models/s.yml:3: 'enabled' under config of source 's' must be true or false, not a string"),
        ("models:\n  - name: a\n    tests:\n      - unique: [id]\n",
         "models/s.yml:4: the arguments of test 'unique' under model 'a' must be a mapping, not a list"),
        ("models:\n  - name: a\n    tests:\n      - {name: x, test_name: null}\n",
         "models/s.yml:4: 'test_name' under model 'a' must name a test"),
        ("models:\n  - name: a\n    columns: [{description: x}]\n",
         "models/s.yml:3: a column under model 'a' needs a 'name'"),
        ("- models\n",
         "models/s.yml:1: a property file must be a mapping (version:, models:, ...), not a list"),
        ("models:\n  ? [a, b]\n  : x\n", "models/s.yml:2: a mapping key must be a plain value"),
    ],
)  # fmt: skip
def test_property_errors(write: WriteFiles, tmp_path: Path, text: str, message: str) -> None:
    root = props(tmp_path / "p", write, {"models/s.yml": text})
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


def test_properties_under_seed_and_test_paths(write: WriteFiles, tmp_path: Path) -> None:
    root = props(
        tmp_path / "p",
        write,
        {
            "seeds/seeds.yaml": "version: 2\nseeds:\n  - name: raw_payments\n",
            "tests/tests.yml": "version: 2\nmodels:\n  - name: orders\n",
            "macros/macros.yml": "version: 2\nmodels:\n  - name: not_read\n",
            "models/empty.yml": "",
        },
    )
    project = load_project(root)
    assert list(project.seed_properties) == ["raw_payments"]
    assert list(project.model_properties) == ["orders"]
