"""SQL written for one engine, compiled for another: filtered refs get an alias (PostgreSQL 15 needs one),
constructs the target cannot run are errors naming file:line and the construct, and a model's `dialect`
config overrides the project's."""

from __future__ import annotations

import re

import pytest

from sqlflow.errors import TranspileError
from sqlflow.manifest import ModelNode

EVENTS = {
    "models/events.sql": "{{ config(time_column='ts') }}\nselect 1 as id, timestamp '2025-01-01' as ts\n",
    "models/clicks.sql": "{{ config(time_column='ts') }}\nselect 1 as id, timestamp '2025-01-01' as ts\n",
}
TIME_RANGE = (
    "{{ config(materialized='incremental', incremental_strategy='time_range', time_column='day', "
    "batch_size='day', begin='2025-01-01') }}\n"
)
FILTER = "where \"ts\" >= '__sqlflow_start__' and \"ts\" < '__sqlflow_end__'"
PG_FILTER = "WHERE \"ts\" >= '__sqlflow_start__' AND \"ts\" < '__sqlflow_end__'"


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def compiled(manifest, name: str) -> str:
    node = manifest.nodes[f"model.shop.{name}"]
    assert isinstance(node, ModelNode) and node.compiled_sql is not None
    return node.compiled_sql


# -- filtered refs ------------------------------------------------------------------------------------------


def test_a_filtered_ref_is_aliased_as_its_table(compile_files) -> None:
    visits = (
        TIME_RANGE
        + "select cast(events.ts as date) as day, count(*) as n\nfrom {{ ref('events') }}\ngroup by 1\n"
    )
    files = {**EVENTS, "models/visits.sql": visits}
    duckdb = compile_files(files)
    assert compiled(duckdb, "visits") == (
        "select cast(events.ts as date) as day, count(*) as n\n"
        f'from (select * from "main"."events" {FILTER}) AS "events"\n'
        "group by 1"
    )  # the text as written, the alias added
    assert duckdb.nodes["model.shop.visits"].incremental_sql == compiled(duckdb, "visits")
    assert compiled(compile_files(files, target_dialect="postgres"), "visits") == (
        "SELECT CAST(events.ts AS DATE) AS day, COUNT(*) AS n "
        f'FROM (SELECT * FROM "main"."events" {PG_FILTER}) AS "events" GROUP BY 1'
    )


def test_an_alias_written_by_the_user_is_kept(compile_files) -> None:
    visits = (
        TIME_RANGE + "select cast(e.ts as date) as day, count(*) as n\n"
        "from {{ ref('events') }} as e\njoin {{ ref('clicks') }} using (id)\n"
        "where clicks.id in (select id from {{ ref('clicks') }})\ngroup by 1\n"
    )
    files = {**EVENTS, "models/visits.sql": visits}
    assert compiled(compile_files(files), "visits") == (
        "select cast(e.ts as date) as day, count(*) as n\n"
        f'from (select * from "main"."events" {FILTER}) as e\n'
        f'join (select * from "main"."clicks" {FILTER}) AS "clicks" using (id)\n'
        f'where clicks.id in (select id from (select * from "main"."clicks" {FILTER}) AS "clicks")\n'
        "group by 1"
    )
    assert compiled(compile_files(files, target_dialect="postgres"), "visits") == (
        "SELECT CAST(e.ts AS DATE) AS day, COUNT(*) AS n "
        f'FROM (SELECT * FROM "main"."events" {PG_FILTER}) AS e '
        f'JOIN (SELECT * FROM "main"."clicks" {PG_FILTER}) AS "clicks" USING (id) '
        f'WHERE clicks.id IN (SELECT id FROM (SELECT * FROM "main"."clicks" {PG_FILTER}) AS "clicks") '
        "GROUP BY 1"
    )


def test_an_unfiltered_ref_stays_a_plain_relation(compile_files) -> None:
    visits = TIME_RANGE + "select cast(ts as date) as day from {{ ref('events').unfiltered() }}\n"
    assert compiled(compile_files({**EVENTS, "models/visits.sql": visits}), "visits") == (
        'select cast(ts as date) as day from "main"."events"'
    )


# -- what the target cannot run -----------------------------------------------------------------------------

HINT = (
    "(write it in a form postgres supports, or write this model in postgres SQL and set dialect: postgres "
    "in its config)"
)
CANNOT = "cannot write model 'a' in postgres"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "{{ config(materialized='table') }}\n"
            "select id,\n  first_value(x ignore nulls) over (order by y) as f\nfrom t",
            f"models/a.sql:3: {CANNOT}: PostgreSQL does not support IGNORE NULLS, in "
            "`FIRST_VALUE(x IGNORE NULLS)`",
        ),
        (
            "select *\nfrom t\npivot (sum(b) for a in (1, 2))",
            f"models/a.sql:3: {CANNOT}: PIVOT unsupported, in `PIVOT(SUM(b) FOR a IN (1, 2))`",
        ),
        (
            "select id,\n  * exclude (secret)\nfrom t",
            f"models/a.sql:2: {CANNOT}: PostgreSQL has no SELECT * EXCLUDE / REPLACE / RENAME; list the "
            "columns, in `* EXCLUDE (secret)`",
        ),
        (
            "select\n  list_transform(xs, x -> x + 1) as ys\nfrom t",
            f"models/a.sql:2: {CANNOT}: PostgreSQL has no lambda functions, in "
            "`LIST_TRANSFORM(xs, LAMBDA x : x + 1)`",
        ),
        (
            "select a\nfrom t\nasof join u on t.x >= u.x",
            f"models/a.sql:3: {CANNOT}: PostgreSQL has no ASOF joins, in `ASOF JOIN u ON t.x >= u.x`",
        ),
        (
            "select {{ 'any_value(a)' }} from t",
            f"models/a.sql:1: {CANNOT}: PostgreSQL does not support IGNORE NULLS, in `ANY_VALUE(a)` "
            "(line 1 of the rendered SQL: 'select any_value(a) from t')",
        ),
    ],
)
def test_a_construct_the_target_cannot_run_names_its_line(compile_files, sql: str, message: str) -> None:
    with pytest.raises(TranspileError, match=exactly(f"{message} {HINT}")):
        compile_files({"models/a.sql": sql}, target_dialect="postgres")


def test_duckdb_runs_it_as_written(compile_files) -> None:
    sql = "select id, * exclude (secret) from t"
    assert compiled(compile_files({"models/a.sql": sql}), "a") == sql


# -- a model's dialect overrides the project's --------------------------------------------------------------


def test_a_model_written_for_postgres_compiles_for_duckdb(compile_files) -> None:
    files = {
        "models/pg.sql": "{{ config(dialect='postgres') }}\n"
        "select a ~ 'x' as m, b::text as b, t.j->>'k' as k from t\n",
        "models/duck.sql": "select * exclude (secret) from t\n",
    }
    manifest = compile_files(files)
    assert compiled(manifest, "pg") == (
        "SELECT REGEXP_MATCHES(a, 'x') AS m, CAST(b AS TEXT) AS b, t.j ->> '$.k' AS k FROM t"
    )
    assert compiled(manifest, "duck") == "select * exclude (secret) from t"


def test_a_model_written_for_postgres_is_kept_as_written_on_postgres(compile_files) -> None:
    sql = "select a ~ 'x' as m, b::text as b from t"
    manifest = compile_files(
        {"models/pg.sql": "{{ config(dialect='postgres') }}\n" + sql}, target_dialect="postgres"
    )
    assert compiled(manifest, "pg") == sql


def test_a_duckdb_model_in_a_postgres_project(compile_files) -> None:
    files = {
        "sqlflow.yml": "name: shop\ndialect: postgres\nmodels:\n  shop:\n    duck:\n      +dialect: duckdb\n",
        "models/duck.sql": "select strftime(ts, '%Y-%m') as month, epoch_ms(ms) as at from t\n",
        "models/pg.sql": "select b::text as b from t\n",
    }
    on_postgres = compile_files(files, target_dialect="postgres")
    assert compiled(on_postgres, "duck") == (
        "SELECT TO_CHAR(ts, 'YYYY-MM') AS month, "
        "TO_TIMESTAMP(CAST(ms AS DOUBLE PRECISION) / POWER(10, 3)) AS at FROM t"
    )
    assert compiled(on_postgres, "pg") == "select b::text as b from t"
    on_duckdb = compile_files(files)
    assert compiled(on_duckdb, "duck") == "select strftime(ts, '%Y-%m') as month, epoch_ms(ms) as at from t"
    assert compiled(on_duckdb, "pg") == "SELECT CAST(b AS TEXT) AS b FROM t"
