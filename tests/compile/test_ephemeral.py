"""Ephemeral models are inlined as CTEs in their dependents, recursively and in dependency order."""

from __future__ import annotations

FILES = {
    "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    eph:\n      +materialized: ephemeral\n",
    "models/base.sql": "select 1 as id, 10 as amount\n",
    "models/eph/e1.sql": "select id, amount from {{ ref('base') }}\n",
    "models/eph/e2.sql": "with w as (select * from {{ ref('e1') }}) select id, amount * 2 as amount from w\n",
}


def test_a_ref_to_an_ephemeral_model_inlines_it_and_its_ephemeral_parents(compile_files, golden) -> None:
    files = {**FILES, "models/final.sql": "select * from {{ ref('e2') }} join e1 using (id)\n"}
    manifest = compile_files(files)
    final = manifest.nodes["model.shop.final"]
    assert final.depends_on == ("model.shop.e1", "model.shop.e2")
    assert final.compiled_sql == (
        'WITH __sqlflow_ephemeral_e1 AS (SELECT id, amount FROM "main"."base"), '
        "__sqlflow_ephemeral_e2 AS (WITH w AS (SELECT * FROM __sqlflow_ephemeral_e1) "
        "SELECT id, amount * 2 AS amount FROM w) "
        "SELECT * FROM __sqlflow_ephemeral_e2 JOIN __sqlflow_ephemeral_e1 AS e1 USING (id)"
    )
    golden("ephemeral/final.sql", final.compiled_sql)
    assert final.inferred_columns == ("id", "amount", "id", "amount")


def test_ephemeral_ctes_go_first_in_an_existing_with(compile_files) -> None:
    files = {
        **FILES,
        "models/final.sql": "with a as (select * from e2), b as (select 1 as x) select * from a, b\n",
    }
    assert compile_files(files).nodes["model.shop.final"].compiled_sql == (
        'WITH __sqlflow_ephemeral_e1 AS (SELECT id, amount FROM "main"."base"), '
        "__sqlflow_ephemeral_e2 AS (WITH w AS (SELECT * FROM __sqlflow_ephemeral_e1) "
        "SELECT id, amount * 2 AS amount FROM w), "
        "a AS (SELECT * FROM __sqlflow_ephemeral_e2 AS e2), b AS (SELECT 1 AS x) SELECT * FROM a, b"
    )


def test_ephemeral_in_a_union(compile_files) -> None:
    files = {**FILES, "models/final.sql": "select id from e1 union all select id from base\n"}
    assert compile_files(files).nodes["model.shop.final"].compiled_sql == (
        'WITH __sqlflow_ephemeral_e1 AS (SELECT id, amount FROM "main"."base") '
        'SELECT id FROM __sqlflow_ephemeral_e1 AS e1 UNION ALL SELECT id FROM "main"."base" AS base'
    )


def test_an_ephemeral_models_own_sql_inlines_its_parents_only(compile_files) -> None:
    manifest = compile_files(FILES)
    assert manifest.nodes["model.shop.e1"].compiled_sql == 'select id, amount from "main"."base"'
    assert manifest.nodes["model.shop.e2"].compiled_sql.startswith(
        'WITH __sqlflow_ephemeral_e1 AS (SELECT id, amount FROM "main"."base"), w AS'
    )


def test_tests_on_ephemeral_models_inline_them(compile_files) -> None:
    files = {
        **FILES,
        "models/p.yml": "version: 2\nmodels:\n  - name: e1\n    columns:\n      - name: id\n        tests: [not_null]\n",  # noqa: E501
    }
    (test,) = compile_files(files).tests()
    assert test.compiled_sql == (
        'WITH __sqlflow_ephemeral_e1 AS (SELECT id, amount FROM "main"."base") '
        "SELECT id FROM __sqlflow_ephemeral_e1 WHERE id IS NULL"
    )


def test_inlining_with_the_cache_uses_the_compiled_sql_of_a_cached_ephemeral(
    compile_files, write, tmp_path
) -> None:
    files = {**FILES, "models/final.sql": "select * from {{ ref('e2') }}\n"}
    first = compile_files(files, cache_dir=tmp_path / "cache")
    write({"models/final.sql": "select id from {{ ref('e2') }}\n"})
    second = compile_files({}, cache_dir=tmp_path / "cache")
    before = first.nodes["model.shop.final"].compiled_sql
    after = second.nodes["model.shop.final"].compiled_sql
    assert after == before.replace(
        "SELECT * FROM __sqlflow_ephemeral_e2", "SELECT id FROM __sqlflow_ephemeral_e2"
    )
