"""`expectations:` and `expectation_suite:` in property YAML -> TestSpec(test_type="expectation")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import TestSpec, load_project

from .conftest import WriteFiles
from .helpers import exactly

SCHEMA = """\
    version: 2
    models:
      - name: orders
        expectation_suite: gx/orders.json
        expectations:
          - expect_table_row_count_to_be_between: {min_value: 1, config: {severity: warn}}
          - expectation: expect_table_columns_to_match_set
            kwargs: {column_set: [id, amount]}
            config: {tags: [gx]}
            description: The shape.
        columns:
          - name: id
            expectations:
              - expect_column_values_to_not_be_null
              - expect_column_values_to_be_between: {min_value: 0, column: other}
    """
SUITE = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}, "meta": {}},
        {"expectation_type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 10}},
    ],
}


def project_with(write: WriteFiles, tmp_path: Path, schema: str, suite: str | None = None) -> Path:
    files = {"sqlflow.yml": "name: shop\n", "models/schema.yml": schema}
    if suite is not None:
        files["gx/orders.json"] = suite
    return write(files, tmp_path / "p")


def test_expectations_of_a_model_and_its_columns(write: WriteFiles, tmp_path: Path) -> None:
    root = project_with(write, tmp_path, SCHEMA, json.dumps(SUITE, indent=2))
    tests = load_project(root).model_properties["orders"].tests
    path = "models/schema.yml"
    assert tests == (
        TestSpec(
            test_name="expect_table_row_count_to_be_between",
            kwargs={"min_value": 1},
            config={"severity": "warn"},
            path=path,
            line=6,
            test_type="expectation",
        ),
        TestSpec(
            test_name="expect_table_columns_to_match_set",
            kwargs={"column_set": ["id", "amount"]},
            config={"tags": ("gx",)},
            path=path,
            line=7,
            description="The shape.",
            test_type="expectation",
        ),
        TestSpec(
            test_name="expect_column_values_to_be_unique",
            kwargs={"column": "id"},
            column_name="id",
            path=path,
            line=4,
            test_type="expectation",
        ),
        TestSpec(
            test_name="expect_table_row_count_to_be_between",
            kwargs={"max_value": 10},
            path=path,
            line=4,
            test_type="expectation",
        ),
        TestSpec(
            test_name="expect_column_values_to_not_be_null",
            kwargs={"column": "id"},
            column_name="id",
            path=path,
            line=14,
            test_type="expectation",
        ),
        TestSpec(
            test_name="expect_column_values_to_be_between",
            kwargs={"min_value": 0, "column": "other"},
            column_name="other",
            path=path,
            line=15,
            test_type="expectation",
        ),
    )


def test_a_suite_with_its_own_config(write: WriteFiles, tmp_path: Path) -> None:
    schema = (
        "version: 2\nmodels:\n  - name: orders\n"
        "    expectation_suite: {path: gx/orders.json, config: {severity: warn}}\n"
    )
    root = project_with(write, tmp_path, schema, json.dumps(SUITE))
    tests = load_project(root).model_properties["orders"].tests
    assert [t.config for t in tests] == [{"severity": "warn"}, {"severity": "warn"}]


SUITE_ERRORS = [
    (
        None,
        "models/schema.yml:4: expectation suite 'gx/orders.json' of model 'orders' not found "
        "(the path is relative to the project root)",
    ),
    (
        '{"expectations": [\n  {"type": "expect_x",}\n]}',
        "gx/orders.json:2: expectation suite is not valid JSON: Expecting property name enclosed in double "
        "quotes (named by models/schema.yml:4)",
    ),
    (
        '{"name": "orders"}',
        "gx/orders.json: expectation suite has no 'expectations' list "
        '(a GX suite is {"expectations": [{"type": "expect_...", "kwargs": {...}}]})',
    ),
    (
        '{"expectations": [{"type": "expect_a"}, {"kwargs": {}}]}',
        "gx/orders.json: expectation 2 of the suite has no 'type' "
        '(each is {"type": "expect_...", "kwargs": {...}} ("expectation_type" in GX 0.x))',
    ),
    (
        '{"expectations": [{"type": "not_null"}]}',
        "gx/orders.json: unknown expectation 'not_null' under suite gx/orders.json (Great Expectations "
        "names start with expect_, like expect_column_values_to_not_be_null; sqlflow's own tests go under "
        "data_tests:)",
    ),
    (
        '{"expectations": [{"type": "expect_a", "kwargs": [1]}]}',
        "gx/orders.json: the kwargs of expectation 1 ('expect_a') of the suite must be an object",
    ),
]


@pytest.mark.parametrize(("suite", "message"), SUITE_ERRORS)
def test_bad_suites(write: WriteFiles, tmp_path: Path, suite: str | None, message: str) -> None:
    schema = "version: 2\nmodels:\n  - name: orders\n    expectation_suite: gx/orders.json\n"
    root = project_with(write, tmp_path, schema, suite)
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(root)


BAD_ENTRIES = [
    (
        "- not_null",
        "models/schema.yml:5: unknown expectation 'not_null' under model 'orders' (Great Expectations names "
        "start with expect_, like expect_column_values_to_not_be_null; sqlflow's own tests go under "
        "data_tests:)",
    ),
    (
        "- expect_a: [1]",
        "models/schema.yml:5: the kwargs of expectation 'expect_a' under model 'orders' must be a mapping, "
        "not a list (like '- expect_column_values_to_not_be_null: {}' or '- expectation: <name>' with "
        "'kwargs:')",
    ),
    (
        "- {expect_a: {}, expect_b: {}}",
        "models/schema.yml:5: an expectation under model 'orders' must be a name or a mapping naming one "
        "expectation (like '- expect_column_values_to_not_be_null: {}' or '- expectation: <name>' with "
        "'kwargs:')",
    ),
    (
        "- {expectation: expect_a, kwarg: {}}",
        "models/schema.yml:5: unknown key 'kwarg' under expectation 'expect_a' of model 'orders' "
        "(did you mean 'kwargs'?)",
    ),
    (
        "- {expect_a: {config: {severity: fatal}}}",
        "models/schema.yml:5: 'severity' under config of expectation 'expect_a' of model 'orders' must be "
        "one of error, warn, not 'fatal'",
    ),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
def test_bad_expectation_entries(write: WriteFiles, tmp_path: Path, entry: str, message: str) -> None:
    schema = f"version: 2\nmodels:\n  - name: orders\n    expectations:\n      {entry}\n"
    with pytest.raises(ConfigError, match=exactly(message)):
        load_project(project_with(write, tmp_path, schema))


def test_expectations_of_a_source_table(write: WriteFiles, tmp_path: Path) -> None:
    sources = """\
        version: 2
        sources:
          - name: raw
            tables:
              - name: orders
                expectation_suite: gx/orders.json
                expectations: [expect_table_row_count_to_be_between: {min_value: 1}]
                columns:
                  - name: id
                    expectations: [expect_column_values_to_not_be_null]
        """
    root = write(
        {"sqlflow.yml": "name: shop\n", "models/sources.yml": sources, "gx/orders.json": json.dumps(SUITE)},
        tmp_path / "p",
    )
    (orders,) = load_project(root).source_tables
    assert [(t.test_type, t.test_name, t.column_name) for t in orders.tests] == [
        ("expectation", "expect_table_row_count_to_be_between", None),
        ("expectation", "expect_column_values_to_be_unique", "id"),
        ("expectation", "expect_table_row_count_to_be_between", None),
        ("expectation", "expect_column_values_to_not_be_null", "id"),
    ]
