"""Expectation tests in a run: dispatched to sqlflow.checks.gx, gating like SQL tests (write-audit-publish),
and a clear error when the Great Expectations bridge cannot load."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

from sqlflow import manifest as mf
from sqlflow.adapters import Adapter
from sqlflow.manifest import Manifest
from sqlflow.runner.events import NullReporter
from sqlflow.runner.execute import execute_plan
from sqlflow.runner.results import RunResult

from .helpers import data_test, manifest, model, plan_all, uid


def expectation(name: str, model_name: str, expectation_name: str, **kwargs: Any) -> mf.TestNode:
    test = data_test(name, "", [model_name])
    return dataclasses.replace(
        test, test_type="expectation", test_name=expectation_name, compiled_sql=None, kwargs=kwargs
    )


def shop(amounts: str, **test_config: Any) -> Manifest:
    test = expectation(
        "positive__orders", "orders", "expect_column_values_to_be_between", column="amount", min_value=0
    )
    if test_config:
        test = dataclasses.replace(test, config=dataclasses.replace(test.config, **test_config))
    return manifest(
        model("orders", f"select * from (values {amounts}) t(id, amount)"),
        model("totals", "select sum(amount) as total from main.orders", ["orders"]),
        model("other", "select 1 as x"),
        test,
    )


def run(m: Manifest, adapter: Adapter, root: Path, command: str = "build") -> RunResult:
    name, _, flag = command.partition(" ")  # "run --audit": run with audits, as build has them
    _, plan = plan_all(m, name, audit=flag == "--audit")  # type: ignore[arg-type]
    return execute_plan(
        plan, m, adapter, threads=1, fail_fast=False, reporter=NullReporter(), project_root=root
    )


def statuses(result: RunResult) -> dict[str, str]:
    return {r.name: r.status for r in result.results}


def test_a_failing_expectation_gates_like_a_test(adapter: Adapter, tmp_path: Path) -> None:
    pytest.importorskip("great_expectations")
    assert statuses(run(shop("(1, 5.0), (2, 7.0)"), adapter, tmp_path)) == {
        "orders": "success",
        "positive__orders": "pass",
        "totals": "success",
        "other": "success",
    }
    result = run(shop("(1, 5.0), (2, -7.0), (3, -1.0)"), adapter, tmp_path, "run --audit")
    assert statuses(result) == {
        "orders": "error",
        "positive__orders": "fail",
        "totals": "skipped",
        "other": "success",
    }
    assert result.get(uid("orders")).message == "audit failed: positive__orders (2 failing rows)"
    failing = result.get(uid("positive__orders"))
    assert failing.failures == 2
    assert [dict(row) for row in failing.sample_rows] == [{"amount": -7.0}, {"amount": -1.0}]
    assert adapter.fetch("select id from main.orders order by id")[1] == [(1,), (2,)]  # the old rows
    # severity warn: reported, not gating
    warned = run(shop("(1, 5.0), (2, -7.0)", severity="warn"), adapter, tmp_path)
    assert statuses(warned)["orders"] == "success" and statuses(warned)["positive__orders"] == "warn"
    assert not warned.failed


def test_without_the_bridge_the_test_errors_with_the_install_command(
    adapter: Adapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sqlflow.checks.gx", None)  # makes the import fail, as if not shipped
    result = run(shop("(1, 5.0)"), adapter, tmp_path, "test")
    assert statuses(result) == {"positive__orders": "error"}
    assert result.get(uid("positive__orders")).message == (
        "positive__orders is a Great Expectations check, and this version of sqlflow cannot run it"
        " (install the gx extra: pip install 'sqlflow[gx]')"
    )


def test_without_great_expectations_the_message_is_the_bridge_s(
    adapter: Adapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlflow.checks import gx

    monkeypatch.setattr(gx, "_STATE", None)
    monkeypatch.setitem(sys.modules, "great_expectations", None)
    result = run(shop("(1, 5.0)"), adapter, tmp_path, "run --audit")
    assert statuses(result) == {
        "orders": "error",
        "positive__orders": "error",
        "totals": "skipped",
        "other": "success",
    }
    message = result.get(uid("positive__orders")).message
    assert message is not None and "needs Great Expectations" in message
    assert message.endswith("(install it with: pip install 'sqlflow[gx]')")
