"""Great Expectations checks against a real DuckDB file: verdicts, failure counts, sample rows, errors.

The `gx` extra is installed in CI, so these tests run there; `gx` (the fixture) skips them only on a machine
without it. The tests of the missing extra and of the lazy import run everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlflow import manifest
from sqlflow.adapters import Adapter, open_adapter
from sqlflow.checks import gx as gx_checks
from sqlflow.checks.gx import ExpectationOutcome, run_expectation, run_expectations
from sqlflow.errors import AdapterError, ConfigError, NodeFailedError
from sqlflow.manifest import NodeConfig, Relation
from sqlflow.project.types import Target

ORDERS = Relation(database="shop", schema="main", identifier="orders")
STAGED = Relation(database="shop", schema="main", identifier="orders__sqlflow_tmp")


def expectation(
    name: str, column: str | None = None, *, where: str | None = None, **kwargs: Any
) -> manifest.TestNode:
    """An expectation test on model orders, as the compiler makes it (`column` filled in kwargs)."""
    if column is not None:
        kwargs = {"column": column, **kwargs}
    return manifest.TestNode(
        unique_id=f"test.shop.{name}_orders",
        name=f"{name}_orders",
        package_name="shop",
        path="models/orders.yml",
        fqn=("shop", f"{name}_orders"),
        test_type="expectation",
        test_name=name,
        raw_sql="",
        checksum="0",
        config=NodeConfig(where=where),
        attached_node="model.shop.orders",
        column_name=column,
        kwargs=kwargs,
        line=12,
    )


@pytest.fixture
def gx() -> None:
    pytest.importorskip("great_expectations")


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[Adapter]:
    target = Target(
        name="dev",
        profile_name="shop",
        type="duckdb",
        schema="main",
        database="shop",
        settings={"path": str(tmp_path / "shop.duckdb")},
    )
    adapter = open_adapter(target)
    adapter.execute(
        "create table orders as select * from (values"
        " (1, 'alice', 'shipped', 10.50, 4, date '2024-01-01'),"
        " (2, 'bob', 'placed', null, 1, date '2024-01-02'),"
        " (3, 'carol', 'lost', 7.25, 9, date '2024-01-03'),"
        " (4, 'bob', 'placed', 3.00, 2, null),"
        " (null, 'dave', 'gone', 1.00, 8, date '2024-01-05')"
        ") as t(id, customer, status, amount, quantity, ordered_on)"
    )
    yield adapter
    adapter.close()


# -- verdicts, counts and samples ------------------------------------------------------------------------


def test_a_passing_expectation(gx: None, adapter: Adapter) -> None:
    outcome = run_expectation(adapter, ORDERS, expectation("expect_column_values_to_not_be_null", "customer"))
    assert outcome == ExpectationOutcome(
        passed=True, failures=0, sample_rows=[], columns=["customer"], message="0 unexpected values of 5"
    )


def test_a_failing_expectation_counts_the_unexpected_rows_and_samples_them(
    gx: None, adapter: Adapter
) -> None:
    test = expectation("expect_column_values_to_be_in_set", "status", value_set=["placed", "shipped"])
    outcome = run_expectation(adapter, ORDERS, test)
    assert outcome.passed is False
    assert outcome.failures == 2
    assert outcome.columns == ["status"]
    assert outcome.sample_rows == [("lost",), ("gone",)]
    assert outcome.message == "2 unexpected values of 5"


def test_sample_values_are_plain_python_and_integers_stay_integers(gx: None, adapter: Adapter) -> None:
    # id has a null, so pandas holds it as floats; the sample shows the integers the table holds
    outcome = run_expectation(
        adapter, ORDERS, expectation("expect_column_values_to_be_between", "id", max_value=2)
    )
    assert outcome.sample_rows == [(3,), (4,)]
    assert type(outcome.sample_rows[0][0]) is int
    dates = run_expectation(
        adapter,
        ORDERS,
        expectation("expect_column_values_to_be_between", "ordered_on", min_value="2024-01-03"),
    )
    assert dates.sample_rows == [(dt.date(2024, 1, 1),), (dt.date(2024, 1, 2),)]


def test_mostly_passes_with_unexpected_rows_and_reports_no_failures(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_not_be_null", "id", mostly=0.5)
    outcome = run_expectation(adapter, ORDERS, test)
    assert (outcome.passed, outcome.failures, outcome.sample_rows) == (True, 0, [])
    assert outcome.message == "1 unexpected value of 5 (within mostly=0.5)"


def test_a_column_pair_expectation(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_pair_values_a_to_be_greater_than_b", column_A="quantity", column_B="id")
    outcome = run_expectation(adapter, ORDERS, test)
    assert outcome.passed is False
    assert outcome.failures == 3  # 1 > 2, 2 > 4, and the row whose id is null
    assert outcome.columns == ["quantity", "id"]
    assert outcome.sample_rows == [(1, 2), (2, 4), (8, None)]


def test_a_multicolumn_expectation(gx: None, adapter: Adapter) -> None:
    unique = expectation("expect_compound_columns_to_be_unique", column_list=["customer", "status"])
    outcome = run_expectation(adapter, ORDERS, unique)
    assert (outcome.passed, outcome.failures, outcome.columns) == (False, 2, ["customer", "status"])
    assert outcome.sample_rows == [("bob", "placed"), ("bob", "placed")]
    other = expectation("expect_compound_columns_to_be_unique", column_list=["id", "customer"])
    assert run_expectation(adapter, ORDERS, other).passed is True


def test_table_and_aggregate_expectations_report_the_observed_value(gx: None, adapter: Adapter) -> None:
    rows = run_expectation(adapter, ORDERS, expectation("expect_table_row_count_to_be_between", min_value=10))
    assert rows == ExpectationOutcome(False, 1, [], [], "observed value: 5 (expected min_value=10)")
    mean = run_expectation(
        adapter, ORDERS, expectation("expect_column_mean_to_be_between", "amount", min_value=0, max_value=10)
    )
    assert (mean.passed, mean.message) == (True, "observed value: 5.4375")  # decimals, with a null
    columns = expectation(
        "expect_table_columns_to_match_set", column_set=["id", "customer"], exact_match=False
    )
    assert run_expectation(adapter, ORDERS, columns).passed is True


def test_where_filters_the_rows_in_the_engine(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_not_be_null", "amount", where="status = 'shipped'")
    assert run_expectation(adapter, ORDERS, test).passed is True
    count = expectation("expect_table_row_count_to_equal", value=2, where="customer = 'bob'")
    assert run_expectation(adapter, ORDERS, count).passed is True


def test_unexpected_rows_expectation_runs_its_query_in_the_engine(gx: None, adapter: Adapter) -> None:
    test = expectation(
        "unexpected_rows_expectation", unexpected_rows_query="select id, amount from {batch} where amount < 2"
    )
    outcome = run_expectation(adapter, ORDERS, test)
    assert (outcome.passed, outcome.failures, outcome.columns) == (False, 1, ["id", "amount"])
    assert [(row[0], float(row[1])) for row in outcome.sample_rows] == [(None, 1.0)]


def test_a_camel_case_class_name_is_accepted(gx: None, adapter: Adapter) -> None:
    test = expectation("ExpectColumnValuesToBeUnique", "customer")
    assert run_expectation(adapter, ORDERS, test).failures == 2


# -- write-audit-publish: the staged data of an open transaction -------------------------------------------


def test_validation_inside_an_open_transaction_sees_the_staged_rows(gx: None, adapter: Adapter) -> None:
    not_null = expectation("expect_column_values_to_not_be_null", "customer")
    count = expectation("expect_table_row_count_to_equal", value=6)

    class Rejected(Exception):
        pass

    with pytest.raises(Rejected), adapter.transaction():
        adapter.execute("create table orders__sqlflow_tmp as select * from orders")
        adapter.execute("insert into orders__sqlflow_tmp (id, customer) values (6, null)")
        outcomes = run_expectations(adapter, STAGED, [not_null, count])
        assert [(o.passed, o.failures) for o in outcomes if isinstance(o, ExpectationOutcome)] == [
            (False, 1),
            (True, 0),
        ]
        raise Rejected  # the audit failed: roll the staged table back
    assert adapter.relation_exists(STAGED) is False
    assert run_expectation(adapter, ORDERS, not_null).passed is True


# -- batching, threads, and what GX leaves behind ---------------------------------------------------------


def test_run_expectations_keeps_the_order_and_isolates_a_broken_check(gx: None, adapter: Adapter) -> None:
    tests = [
        expectation("expect_table_row_count_to_be_between", min_value=1),
        expectation("expect_column_values_to_be_unique", "customer"),
        expectation("expect_column_values_to_not_be_null", "amont"),
        expectation("expect_column_max_to_be_between", "quantity", max_value=5),
        expectation("expect_column_values_to_not_be_null", "id", where="id > 1"),
        expectation(
            "unexpected_rows_expectation", unexpected_rows_query="select * from {batch} where amont > 1"
        ),
    ]
    results = run_expectations(adapter, ORDERS, tests)
    assert [r.passed if isinstance(r, ExpectationOutcome) else type(r) for r in results] == [
        True,
        False,
        ConfigError,
        False,
        True,
        AdapterError,
    ]


def test_threads_validate_at_the_same_time(gx: None, adapter: Adapter) -> None:
    tests = [
        expectation("expect_column_values_to_be_in_set", "status", value_set=["placed", "shipped"]),
        expectation("expect_column_values_to_be_unique", "customer"),
        expectation("expect_column_values_to_be_between", "quantity", min_value=2),
    ]
    found: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                found.append((i, run_expectation(adapter, ORDERS, tests[i % 3]).failures))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(set(found)) == [(0, 2), (1, 2), (2, 1), (3, 2), (4, 2), (5, 1)]


def test_gx_writes_no_files_into_the_project(
    gx: None, adapter: Adapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    run_expectation(adapter, ORDERS, expectation("expect_column_values_to_not_be_null", "id"))
    assert list(project.iterdir()) == []


# -- errors ----------------------------------------------------------------------------------------------


def test_an_unknown_expectation_is_named_with_a_did_you_mean(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_not_be_nul", "id")
    with pytest.raises(ConfigError) as info:
        run_expectation(adapter, ORDERS, test)
    assert str(info.value).startswith(
        "models/orders.yml:12: unknown expectation 'expect_column_values_to_not_be_nul' on orders"
        " (did you mean 'expect_column_values_to_not_be_null'"
    )


def test_bad_arguments_give_gx_complaint_on_one_line(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_be_between", "amount", min_valu=3)
    with pytest.raises(ConfigError) as info:
        run_expectation(adapter, ORDERS, test)
    assert str(info.value) == (
        "models/orders.yml:12: bad arguments for expectation 'expect_column_values_to_be_between' on orders:"
        " unknown argument 'min_valu'; min_value and max_value cannot both be None"
        " (did you mean 'min_value' or 'max_value'?)"
    )
    missing = expectation("expect_column_values_to_be_in_set", "status")
    with pytest.raises(ConfigError, match=re.escape("on orders: value_set: field required")):
        run_expectation(adapter, ORDERS, missing)


def test_a_missing_column_is_named_with_a_did_you_mean(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_not_be_null", "amont")
    with pytest.raises(ConfigError) as info:
        run_expectation(adapter, ORDERS, test)
    assert str(info.value) == (
        "models/orders.yml:12: expectation 'expect_column_values_to_not_be_null' on orders: no column 'amont'"
        " (did you mean 'amount'?)"
    )


def test_column_names_follow_the_engine_case_rules(gx: None, adapter: Adapter) -> None:
    outcome = run_expectation(adapter, ORDERS, expectation("expect_column_values_to_not_be_null", "Customer"))
    assert (outcome.passed, outcome.columns) == (True, ["customer"])


def test_an_expectation_gx_cannot_evaluate_fails_the_node(gx: None, adapter: Adapter) -> None:
    test = expectation("expect_column_values_to_match_json_schema", "amount", json_schema={"type": "object"})
    with pytest.raises(NodeFailedError, match=r"^models/orders.yml:12: expectation .* could not run: "):
        run_expectation(adapter, ORDERS, test)


def test_without_great_expectations_the_message_names_the_extra(
    adapter: Adapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gx_checks, "_STATE", None)
    monkeypatch.setitem(sys.modules, "great_expectations", None)  # makes `import great_expectations` fail
    test = expectation("expect_column_values_to_not_be_null", "id")
    with pytest.raises(ConfigError) as info:
        run_expectation(adapter, ORDERS, test)
    assert str(info.value) == (
        "models/orders.yml:12: expectation 'expect_column_values_to_not_be_null' on orders needs Great"
        " Expectations (install it with: pip install 'sqlflow[gx]')"
    )
    assert gx_checks._STATE is None


def test_importing_the_module_loads_neither_great_expectations_nor_pandas() -> None:
    code = (
        "import sys\n"
        "import sqlflow.checks.gx\n"
        "print(sorted(m for m in ('great_expectations', 'pandas', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
