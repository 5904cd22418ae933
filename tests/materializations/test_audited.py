"""materialize_audited on a real DuckDB file: the audit sees the staged relation; a failed audit rolls the
build back so that the previous rows, columns, view definition and relation kind stay as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlflow.adapters import Adapter
from sqlflow.adapters.duckdb import DuckDBAdapter
from sqlflow.manifest import ModelNode
from sqlflow.materializations import AuditFailedError, BuildContext, materialize, materialize_audited

from .helpers import context, duckdb_target, make_model, rows


class SwapAdapter(DuckDBAdapter):
    """The build-aside-and-swap path of engines without an atomic CREATE OR REPLACE TABLE."""

    replace_table_atomically = False


def state(adapter: Adapter, name: str) -> tuple[Any, ...]:
    kinds = {n: k for (_, n), k in adapter.list_relations().relations.items()}
    columns, data = adapter.fetch(f"select * from main.{name} order by all")
    views = rows(adapter, f"select sql from duckdb_views() where view_name = '{name}'")
    return kinds, columns, data, views


def audited(node: ModelNode, ctx: BuildContext, verdict: str | None, seen: list[Any]) -> None:
    def audit() -> str | None:
        seen.append(rows(ctx.adapter, f"select * from {node.relation} order by all"))
        return verdict

    materialize_audited(node, ctx, audit)


CASES = {
    "table": (
        make_model("m", "select * from range(3) r(id)"),
        make_model("m", "select 'x' as other"),
    ),
    "view": (
        make_model("m", "select 1 as id", materialized="view"),
        make_model("m", "select 2 as id, 'new' as extra", materialized="view"),
    ),
    "incremental": (
        make_model("m", "select * from range(3) r(id)", materialized="incremental", unique_key=("id",)),
        make_model(
            "m",
            "select * from range(3) r(id)",
            materialized="incremental",
            unique_key=("id",),
            incremental_sql="select * from range(2, 6) r(id)",
        ),
    ),
    "table replacing a view": (
        make_model("m", "select 1 as id", materialized="view"),
        make_model("m", "select 5 as id"),
    ),
    "view replacing a table": (
        make_model("m", "select 1 as id"),
        make_model("m", "select 5 as id", materialized="view"),
    ),
    "hooks": (
        make_model("m", "select 1 as id"),
        make_model("m", "select 2 as id", pre_hook=("create table main.hook_ran as select 1 as x",)),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_failed_audit_restores_the_previous_relation(adapter: Adapter, tmp_path: Path, case: str) -> None:
    first, second = CASES[case]
    materialize(first, context(adapter, tmp_path))
    before = state(adapter, "m")
    ctx = context(adapter, tmp_path)
    kind_before = ctx.relations.get(first.relation)
    seen: list[Any] = []
    with pytest.raises(AuditFailedError, match=r"^audit failed: t \(3 failing rows\)$"):
        audited(second, ctx, "audit failed: t (3 failing rows)", seen)
    assert seen and seen[0] != before[2]  # the audit saw the staged rows
    assert state(adapter, "m") == before
    assert ctx.relations.get(first.relation) == kind_before  # the cache follows the rollback
    assert "hook_ran" not in {n for (_, n) in adapter.list_relations().relations}
    # the same build with a passing audit publishes
    audited(second, ctx, None, [])
    assert state(adapter, "m") != before
    assert ctx.relations.get(first.relation) == adapter.relation_type(first.relation)


def test_incremental_publishes_the_merged_rows_only_after_the_audit(adapter: Adapter, tmp_path: Path) -> None:
    first, second = CASES["incremental"]
    materialize(first, context(adapter, tmp_path))
    seen: list[Any] = []
    audited(second, context(adapter, tmp_path), None, seen)
    assert seen == [[(0,), (1,), (2,), (3,), (4,), (5,)]]
    assert rows(adapter, "select * from main.m order by id") == seen[0]


def test_a_failed_first_build_leaves_nothing(adapter: Adapter, tmp_path: Path) -> None:
    node = make_model("fresh", "select 1 as id")
    ctx = context(adapter, tmp_path)
    with pytest.raises(AuditFailedError):
        audited(node, ctx, "audit failed: x (1 failing row)", [])
    assert not adapter.relation_exists(node.relation) and ctx.relations.get(node.relation) is None


def test_seed_is_audited_like_a_table(adapter: Adapter, tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    csv = tmp_path / "seeds" / "codes.csv"
    csv.write_text("code\na\nb\n")
    seed = make_model("codes", "", resource_type="seed", materialized="seed", path="seeds/codes.csv")
    materialize(seed, context(adapter, tmp_path))
    csv.write_text("code\na\na\nc\n")
    seen: list[Any] = []
    with pytest.raises(AuditFailedError):
        audited(seed, context(adapter, tmp_path), "audit failed: unique (1 failing row)", seen)
    assert seen == [[("a",), ("a",), ("c",)]]
    assert rows(adapter, "select * from main.codes order by 1") == [("a",), ("b",)]


def test_swap_path_rolls_back_too(db_path: Path, adapter: Adapter, tmp_path: Path) -> None:
    adapter.close()
    swap = SwapAdapter(duckdb_target(db_path))
    try:
        first, second = CASES["table"]
        materialize(first, context(swap, tmp_path))
        before = state(swap, "m")
        with pytest.raises(AuditFailedError):
            audited(second, context(swap, tmp_path), "audit failed", [])
        assert state(swap, "m") == before
        assert {n for (_, n) in swap.list_relations().relations} == {"m"}  # no m__sqlflow_tmp left
    finally:
        swap.close()
