"""Classic incremental models on every engine: the three strategies (with MERGE, and without it where the
engine lacks it), on_schema_change append_new_columns / sync_all_columns, incremental_predicates."""

from __future__ import annotations

import pytest

from sqlflow.adapters import Adapter
from sqlflow.manifest import ModelNode, NodeConfig, Relation
from sqlflow.materializations import BuildContext, RelationCache, materialize

from .engines import Engine, messages, statuses

INC = """
{{{{ config(materialized='incremental', {config}) }}}}
select {columns} from {{{{ ref('src') }}}}
{{% if is_incremental() %}} where id >= 2 {{% endif %}}
"""


def src(*rows: tuple[int, str, int]) -> str:
    """A table model `src` holding (id integer, name text, amount integer) rows."""
    selects = [f"select {i} as id, '{n}' as name, {a} as amount" for i, n, a in rows]
    return "{{ config(materialized='table') }}\n" + "\nunion all ".join(selects)


def inc(config: str, columns: str = "id, name, amount") -> str:
    return INC.format(config=config, columns=columns)


@pytest.mark.parametrize(
    ("config", "message", "expected"),
    [
        ("", "APPEND 2", [(1, "a", 10), (2, "B", 21), (2, "b", 20), (3, "c", 30)]),
        ("unique_key='id'", "MERGE 2", [(1, "a", 10), (2, "B", 21), (3, "c", 30)]),
        (
            "unique_key='id', incremental_strategy='delete+insert'",
            "DELETE+INSERT 2",
            [(1, "a", 10), (2, "B", 21), (3, "c", 30)],
        ),
    ],
    ids=["append", "merge", "delete+insert"],
)
def test_strategies(engine: Engine, config: str, message: str, expected: list[tuple[object, ...]]) -> None:
    engine.write({"models/src.sql": src((1, "a", 10), (2, "b", 20)), "models/inc.sql": inc(config)})
    out = engine.run("run")
    assert messages(out)["inc"] == "CREATE TABLE 2"
    engine.write({"models/src.sql": src((1, "A", 11), (2, "B", 21), (3, "c", 30))})
    out = engine.run("run")
    assert messages(out)["inc"] == message
    assert engine.rows("inc", order="1, 2") == expected


def test_merge_without_a_merge_statement(engine: Engine, adapter: Adapter) -> None:
    """UPDATE ... FROM then INSERT of the new keys, as on PostgreSQL before 15."""
    adapter.supports_merge = False  # type: ignore[misc]
    adapter.execute(
        f"create table {engine.rel('src')} as select 1 as id, 'a' as name union all select 2, 'b'"
    )
    node = model(engine, "inc", f"select id, name from {engine.rel('src')}", unique_key=("id",))
    assert materialize(node, build_context(adapter, engine)).message == "CREATE TABLE 2"
    adapter.execute(f"drop table {engine.rel('src')}")
    adapter.execute(
        f"create table {engine.rel('src')} as select 2 as id, 'B' as name union all select 3, 'c'"
    )
    result = materialize(node, build_context(adapter, engine))
    assert (result.rows_affected, result.message) == (2, "MERGE 2")
    assert engine.rows("inc") == [(1, "a"), (2, "B"), (3, "c")]


def test_on_schema_change_append_new_columns(engine: Engine) -> None:
    engine.write(
        {"models/src.sql": src((1, "a", 10), (2, "b", 20)), "models/inc.sql": inc("unique_key='id'")}
    )
    engine.run("run")
    engine.write(
        {
            "models/inc.sql": inc(
                "unique_key='id', on_schema_change='append_new_columns'",
                "id, name, 'x' as note, cast(1.5 as decimal(9, 2)) as rate",
            )
        }
    )
    out = engine.run("run")
    assert messages(out)["inc"] == "MERGE 1 (added: note, rate)"
    assert engine.columns("inc") == ["id", "name", "amount", "note", "rate"]
    assert engine.rows("inc") == [(1, "a", 10, None, None), (2, "b", 20, "x", 1.5)]
    rate = engine.query(f"select cast(rate as varchar) from {engine.rel('inc')} where id = 2")
    assert rate == [("1.50",)]
    precision = engine.query(
        "select numeric_precision, numeric_scale from information_schema.columns "
        f"where table_schema = '{engine.schema}' and table_name = 'inc' and column_name = 'rate'"
    )
    assert precision == [(9, 2)]  # typed as the model's rows: decimal(9, 2)


def test_on_schema_change_sync_all_columns(engine: Engine) -> None:
    engine.write(
        {"models/src.sql": src((1, "a", 10), (2, "b", 20)), "models/inc.sql": inc("unique_key='id'")}
    )
    engine.run("run")
    engine.write(
        {
            "models/inc.sql": inc(
                "unique_key='id', on_schema_change='sync_all_columns'",
                "id, cast(amount as bigint) as amount, 'x' as note",
            )
        }
    )
    out = engine.run("run")
    assert statuses(out)["inc"] == "success", messages(out)["inc"]
    assert messages(out)["inc"].lower() == (
        "merge 1 (added: note; dropped: name; retyped: amount integer -> bigint)"
    )
    assert engine.columns("inc") == ["id", "amount", "note"]
    assert engine.rows("inc") == [(1, 10, None), (2, 20, "x")]


@pytest.mark.parametrize("strategy", ["merge", "delete+insert"])
def test_incremental_predicates(engine: Engine, strategy: str) -> None:
    def days(*rows: tuple[int, int, int]) -> str:
        selects = [f"select {i} as id, {d} as day, {a} as amount" for i, d, a in rows]
        return "{{ config(materialized='table') }}\n" + "\nunion all ".join(selects)

    model_sql = """
        {{ config(materialized='incremental', unique_key='id', incremental_strategy='%s',
                  incremental_predicates=%s) }}
        select id, day, amount from {{ ref('src') }}
        {%% if is_incremental() %%} where day >= 3 {%% endif %%}
    """
    predicates = "['DBT_INTERNAL_DEST.day >= 3', 'DBT_INTERNAL_SOURCE.day >= 3']"
    engine.write(
        {
            "models/src.sql": days((1, 1, 10), (2, 2, 20), (3, 3, 30), (4, 4, 40)),
            "models/inc.sql": model_sql % (strategy, predicates),
        }
    )
    engine.run("run")
    # id 1 moved to day 5: its old row (day 1) lies outside the predicate, so it stays, and the new row is
    # inserted beside it (as in dbt); id 3 is inside and replaced
    engine.write({"models/src.sql": days((1, 5, 11), (3, 3, 33), (5, 5, 50))})
    out = engine.run("run")
    assert statuses(out)["inc"] == "success", messages(out)["inc"]
    assert engine.rows("inc", order="1, 2") == [
        (1, 1, 10),
        (1, 5, 11),
        (2, 2, 20),
        (3, 3, 33),
        (4, 4, 40),
        (5, 5, 50),
    ]


# -- helpers ----------------------------------------------------------------------------------------------


def model(engine: Engine, name: str, sql: str, **config: object) -> ModelNode:
    """A compiled incremental model node written in the engine's own SQL."""
    return ModelNode(
        unique_id=f"model.contract.{name}",
        name=name,
        resource_type="model",
        package_name="contract",
        path=f"models/{name}.sql",
        fqn=("contract", name),
        raw_sql=sql,
        checksum="0",
        config=NodeConfig(materialized="incremental", **config),  # type: ignore[arg-type]
        relation=Relation(database=None, schema=engine.schema, identifier=name),
        compiled_sql=sql,
        incremental_sql=sql,
    )


def build_context(adapter: Adapter, engine: Engine) -> BuildContext:
    return BuildContext(
        adapter=adapter,
        relations=RelationCache.of(adapter),
        project_root=engine.root,
    )
