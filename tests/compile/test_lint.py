"""Compile-time lint warnings about classic incremental models, on compiled example projects."""

from __future__ import annotations

import pytest

from sqlflow.compile.lint import LintWarning, lint

FILTERED = """\
    {{ config(materialized='incremental', unique_key='id') }}
    select 1 as id, current_date as day
    {% if is_incremental() %} where day > (select max(day) from {{ this }}) {% endif %}
    """
NOT_NULL = """\
    version: 2
    models:
      - name: orders
        columns:
          - name: ID
            data_tests: [not_null]
    """


def test_a_nullable_unique_key(compile_files) -> None:
    manifest = compile_files({"models/orders.sql": FILTERED})
    assert lint(manifest) == (
        LintWarning(
            message="unique_key 'id' of orders may be null: rows with a null key are never matched and "
            "pile up",
            path="models/orders.sql",
            line=1,
            hint="add a not_null test on orders.id",
        ),
    )


def test_a_not_null_test_on_the_key_silences_it(compile_files) -> None:
    assert lint(compile_files({"models/orders.sql": FILTERED, "models/schema.yml": NOT_NULL})) == ()


def test_a_not_null_test_on_another_model_or_column_does_not(compile_files) -> None:
    other = NOT_NULL.replace("name: ID", "name: day")
    manifest = compile_files({"models/orders.sql": FILTERED, "models/schema.yml": other})
    assert [w.hint for w in lint(manifest)] == ["add a not_null test on orders.id"]
    elsewhere = NOT_NULL.replace("name: orders", "name: customers")
    files = {
        "models/orders.sql": FILTERED,
        "models/customers.sql": "select 1 as id",
        "models/schema.yml": elsewhere,
    }
    assert [w.hint for w in lint(compile_files(files))] == ["add a not_null test on orders.id"]


def test_each_key_column_is_checked(compile_files) -> None:
    sql = FILTERED.replace("unique_key='id'", "unique_key=['id', 'day']")
    manifest = compile_files({"models/orders.sql": sql, "models/schema.yml": NOT_NULL})
    assert [w.message.split(" may")[0] for w in lint(manifest)] == ["unique_key 'day' of orders"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("materialized='incremental'", " and appends it again"),
        ("materialized='incremental', incremental_strategy='append'", " and appends it again"),
        ("materialized='incremental', unique_key='id', incremental_strategy='delete+insert'", ""),
    ],
)
def test_an_incremental_model_without_a_filter(compile_files, config: str, expected: str) -> None:
    sql = f"\n{{{{ config({config}) }}}}\nselect 1 as id\n"
    manifest = compile_files({"models/orders.sql": sql, "models/schema.yml": NOT_NULL})
    assert lint(manifest) == (
        LintWarning(
            message="incremental model orders never filters its input (no is_incremental() block): every run "
            f"re-reads everything{expected}",
            path="models/orders.sql",
            line=2,
            hint="add {% if is_incremental() %} where ... > (select max(...) from {{ this }}) {% endif %}",
        ),
    )


def test_other_models_are_not_linted(compile_files) -> None:
    files = {
        "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
        "models/b.sql": "select 1 as id",
        "models/c.sql": "{{ config(materialized='incremental') }} select 1 as id "
        "{% if is_incremental() %} where id > 0 {% endif %}",
    }
    assert lint(compile_files(files)) == ()


def test_time_range_models_are_left_to_their_own_checks(compile_files) -> None:
    sql = (
        "{{ config(materialized='incremental', incremental_strategy='microbatch', unique_key='id', "
        "time_column='ts', batch_size='day') }} select 1 as id, current_timestamp as ts"
    )
    assert lint(compile_files({"models/events.sql": sql})) == ()
