"""view, table, ephemeral and seed on every engine, through `sqlflow.api`: results, replacing one kind by
another, swaps that keep the views built on a table, and failures that leave the previous table."""

from __future__ import annotations

from .engines import Engine, statuses

SEEDS_CONFIG = """
name: contract
profile: contract
seeds:
  contract:
    raw_codes:
      +column_types: {code: varchar}
"""


def test_view_table_ephemeral_and_seed_with_column_types(engine: Engine) -> None:
    engine.write(
        {
            "sqlflow.yml": SEEDS_CONFIG,
            "seeds/raw_codes.csv": "code,amount,label\n001,10,a\n002,20,b\n003,30,c\n",
            "models/base.sql": """
                {{ config(materialized='table') }}
                select code, amount * 2 as amount from {{ ref('raw_codes') }}
            """,
            "models/eph.sql": """
                {{ config(materialized='ephemeral') }}
                select code, amount from {{ ref('base') }} where amount > 20
            """,
            "models/big.sql": "select * from {{ ref('eph') }}",
        }
    )
    out = engine.run("build")
    assert statuses(out) == {"raw_codes": "success", "base": "success", "big": "success"}
    assert engine.rows("raw_codes") == [("001", 10, "a"), ("002", 20, "b"), ("003", 30, "c")]
    types = engine.query(
        "select data_type from information_schema.columns "
        f"where table_schema = '{engine.schema}' and table_name = 'raw_codes' and column_name = 'code'"
    )
    assert types[0][0].lower() in ("varchar", "character varying", "text")
    assert engine.rows("base") == [("001", 20), ("002", 40), ("003", 60)]
    assert engine.rows("big") == [("002", 40), ("003", 60)]
    assert (engine.kind("base"), engine.kind("big"), engine.kind("eph")) == ("table", "view", None)
    # a second load replaces the rows
    engine.write({"seeds/raw_codes.csv": "code,amount,label\n007,70,g\n008,,\n"})
    out = engine.run("seed")
    assert statuses(out) == {"raw_codes": "success"}
    assert engine.rows("raw_codes") == [("007", 70, "g"), ("008", None, None)]  # an empty field is NULL


def test_a_table_swap_keeps_the_views_built_on_it(engine: Engine) -> None:
    engine.write(
        {
            "seeds/raw_items.csv": "id,name\n1,a\n",
            "models/base.sql": "{{ config(materialized='table') }} select 1 as id, 'a' as name",
            "models/v.sql": "select id, name from {{ ref('base') }}",
            "models/items.sql": "select * from {{ ref('raw_items') }}",
        }
    )
    assert set(statuses(engine.run("build")).values()) == {"success"}
    # a view sqlflow does not know about, on top of a view it does
    engine.execute(f"create view {engine.rel('ext')} as select count(*) as n from {engine.rel('v')}")
    engine.write(
        {
            "seeds/raw_items.csv": "id,name\n1,a\n2,b\n",
            "models/base.sql": """
                {{ config(materialized='table') }}
                select 1 as id, 'a' as name union all select 2, 'b'
            """,
        }
    )
    out = engine.run("build", select_=["base", "raw_items"])
    assert statuses(out) == {"base": "success", "raw_items": "success"}
    assert engine.rows("v") == [(1, "a"), (2, "b")]
    assert engine.rows("ext") == [(2,)]
    assert engine.rows("items") == [(1, "a"), (2, "b")]
    assert [engine.kind(n) for n in ("base", "v", "ext", "items")] == ["table", "view", "view", "view"]


def test_a_view_is_replaced_by_one_with_other_columns_and_kinds_swap(engine: Engine) -> None:
    engine.write(
        {
            "models/v.sql": "select 1 as a, 2 as b",
            "models/w.sql": "select a from {{ ref('v') }}",
            "models/t.sql": "{{ config(materialized='table') }} select 5 as x",
        }
    )
    assert set(statuses(engine.run("run")).values()) == {"success"}
    engine.write(
        {
            "models/v.sql": "select 'x' as c, 10 as a",
            "models/t.sql": "select 6 as x",  # table -> view
        }
    )
    assert statuses(engine.run("run", select_=["v", "t"])) == {"v": "success", "t": "success"}
    assert engine.columns("v") == ["c", "a"]
    assert engine.rows("v") == [("x", 10)]
    assert engine.rows("w") == [(10,)]  # the view on it survived the replacement
    assert engine.kind("t") == "view" and engine.rows("t") == [(6,)]
    engine.write({"models/t.sql": "{{ config(materialized='table') }} select 7 as x"})  # view -> table
    assert statuses(engine.run("run", select_=["t"])) == {"t": "success"}
    assert engine.kind("t") == "table" and engine.rows("t") == [(7,)]


def test_a_failing_model_leaves_the_previous_table_and_its_rows(engine: Engine) -> None:
    engine.write(
        {
            "models/t.sql": "{{ config(materialized='table') }} select 1 as id, 'old' as v",
            "models/after.sql": "select * from {{ ref('t') }}",
        }
    )
    assert set(statuses(engine.run("run")).values()) == {"success"}
    # fails in the SELECT
    engine.write(
        {"models/t.sql": "{{ config(materialized='table') }} select 2 as id, cast('x' as integer) as v"}
    )
    out = engine.run("run")
    assert statuses(out) == {"t": "error", "after": "skipped"}
    assert engine.rows("t") == [(1, "old")]
    # fails after the new table was built and swapped in (a post-hook), inside the same transaction
    engine.write(
        {
            "models/t.sql": """
                {{ config(materialized='table', post_hook='select * from no_such_table') }}
                select 3 as id, 'new' as v
            """
        }
    )
    out = engine.run("run", select_=["t"])
    assert statuses(out) == {"t": "error"}
    assert "no_such_table" in (out.result.results[0].message or "")
    assert engine.rows("t") == [(1, "old")]
    assert engine.rows("after") == [(1, "old")]
    leftovers = engine.query(
        "select table_name from information_schema.tables "
        f"where table_schema = '{engine.schema}' and table_name like '%sqlflow%'"
    )
    assert leftovers == []
