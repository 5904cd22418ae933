"""The compile cache: an unchanged project compiles without Jinja or sqlglot; every input invalidates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlflow.compile import compile_project
from sqlflow.compile.cache import CACHE_FILE
from sqlflow.compile.context import CompileTools
from sqlflow.project import load_project

from .conftest import SHOP


def nodes(manifest):
    return {uid: replace(node) for uid, node in manifest.nodes.items()}


def test_unchanged_project_is_answered_by_the_cache(write, tmp_path: Path, monkeypatch) -> None:
    root = write(SHOP)
    cache = tmp_path / "cache"
    first = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert (cache / CACHE_FILE).is_file()

    def refuse(self):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(CompileTools, "renderer", refuse)
    monkeypatch.setattr(CompileTools, "sql_tools", refuse)
    second = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert nodes(second) == nodes(first)
    assert second.sources == first.sources


def compile_twice(write, tmp_path: Path, change: dict[str, str], **kwargs):
    root = write(SHOP)
    cache = tmp_path / "cache"
    first = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache, **kwargs)
    write(change)
    second = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache, **kwargs)
    return first, second


def test_a_changed_model_is_compiled_again(write, tmp_path: Path) -> None:
    change = {"models/staging/stg_orders.sql": "select 1 as order_id from {{ source('raw', 'orders') }}\n"}
    _, second = compile_twice(write, tmp_path, change)
    assert second.nodes["model.shop.stg_orders"].compiled_sql == 'select 1 as order_id from "raw"."orders"'
    assert second.nodes["model.shop.stg_orders"].inferred_columns == ("order_id",)


def test_a_changed_relation_recompiles_the_models_that_name_it(write, tmp_path: Path) -> None:
    change = {"models/staging/stg_orders.sql": "{{ config(alias='o2') }}select 1 as order_id\n"}
    _, second = compile_twice(write, tmp_path, change)
    assert '"main"."o2"' in second.nodes["model.shop.orders"].compiled_sql
    assert second.nodes["test.shop.assert_no_negative"].compiled_sql.startswith('select * from "main_marts"')


def test_changed_columns_upstream_change_the_inferred_columns_downstream(write, tmp_path: Path) -> None:
    files = {
        "models/a.sql": "select 1 as x\n",
        "models/b.sql": "select * from {{ ref('a') }}\n",
    }
    root = write(files)
    cache = tmp_path / "cache"
    compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    write({"models/a.sql": "select 1 as x, 2 as y\n"})
    second = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert second.nodes["model.shop.b"].inferred_columns == ("x", "y")


def test_a_changed_macro_recompiles(write, tmp_path: Path) -> None:
    _, second = compile_twice(
        write, tmp_path, {"macros/cents.sql": "{% macro cents(c) %}{{ c }} * 0.01{% endmacro %}"}
    )
    assert "o.amount * 0.01" in second.nodes["model.shop.orders"].compiled_sql


def test_changed_vars_recompile(write, tmp_path: Path) -> None:
    root = write({"models/a.sql": "select {{ var('n', 1) }} as n\n"})
    cache = tmp_path / "cache"
    compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    again = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache, vars={"n": 2})
    assert again.nodes["model.shop.a"].compiled_sql == "select 2 as n"


def test_a_changed_env_var_recompiles(write, tmp_path: Path, monkeypatch) -> None:
    root = write({"models/a.sql": "select '{{ env_var('SQLFLOW_TEST_E', 'x') }}' as e\n"})
    cache = tmp_path / "cache"
    monkeypatch.setenv("SQLFLOW_TEST_E", "one")
    compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    monkeypatch.setenv("SQLFLOW_TEST_E", "two")
    again = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert again.nodes["model.shop.a"].compiled_sql == "select 'two' as e"


def test_a_changed_target_dialect_recompiles(write, tmp_path: Path) -> None:
    root = write({"models/a.sql": "select 1 as x from b\n", "models/b.sql": "select 1 as x\n"})
    cache = tmp_path / "cache"
    compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    again = compile_project(load_project(root), target_dialect="postgres", cache_dir=cache)
    assert again.nodes["model.shop.a"].compiled_sql == 'SELECT 1 AS x FROM "main"."b" AS b'


def test_models_naming_run_started_at_are_never_cached(write, tmp_path: Path) -> None:
    root = write({"models/a.sql": "select '{{ run_started_at.year }}' as y\n"})
    cache = tmp_path / "cache"
    for year in (2023, 2024):
        manifest = compile_project(
            load_project(root),
            target_dialect="duckdb",
            cache_dir=cache,
            run_started_at=datetime(year, 1, 1, tzinfo=UTC),
        )
        assert manifest.nodes["model.shop.a"].compiled_sql == f"select '{year}' as y"


def test_a_broken_cache_file_is_ignored(write, tmp_path: Path) -> None:
    root = write({"models/a.sql": "select 1 as x\n"})
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / CACHE_FILE).write_bytes(b"not a pickle")
    manifest = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert manifest.nodes["model.shop.a"].compiled_sql == "select 1 as x"


def test_errors_still_raise_with_a_warm_cache(write, tmp_path: Path) -> None:
    from sqlflow.errors import UnknownRefError

    root = write({"models/a.sql": "select 1 as x\n", "models/b.sql": "select * from {{ ref('a') }}\n"})
    cache = tmp_path / "cache"
    compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    (root / "models" / "a.sql").unlink()
    with pytest.raises(UnknownRefError, match=r"^models/b.sql:1: unknown ref 'a'$"):
        compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
