"""Every user error of the compile, with its exact message: file:line, what is wrong, and a hint."""

from __future__ import annotations

import re

import pytest

from sqlflow.compile.lint import lint
from sqlflow.errors import (
    ConfigError,
    CycleError,
    DuplicateNodeError,
    SqlSyntaxError,
    TemplateError,
    TranspileError,
    UnknownRefError,
)


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


CUSTOMERS = {"models/customers.sql": "select 1 as id\n"}
RAW = {"models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables: [{name: orders}]\n"}


@pytest.mark.parametrize(
    "text",
    [
        "select *\nfrom t\njoin {{ ref('custmers') }} using (id)\n",  # the quick path
        "{% set x = 1 %}select *\nfrom t\njoin {{ ref('custmers') | string }} using (id)\n",  # Jinja
    ],
)
def test_unknown_ref_names_the_line_and_suggests(compile_files, text: str) -> None:
    with pytest.raises(
        UnknownRefError,
        match=exactly("models/orders.sql:3: unknown ref 'custmers' (did you mean 'customers'?)"),
    ):
        compile_files({**CUSTOMERS, "models/orders.sql": text})


def test_unknown_ref_inside_a_macro_names_the_macro_file(compile_files) -> None:
    files = {
        "macros/m.sql": "{% macro m() %}\n{{ ref('nope') }}\n{% endmacro %}\n",
        "models/orders.sql": "select *\nfrom {{ m() }}\n",
    }
    with pytest.raises(UnknownRefError, match=exactly("macros/m.sql:2: unknown ref 'nope'")):
        compile_files(files)


def test_unknown_ref_inside_is_incremental_is_found(compile_files) -> None:
    text = (
        "{{ config(materialized='incremental') }}\nselect 1 as id\n"
        "{% if is_incremental() %}\nwhere id in (select id from {{ ref('custmers') }})\n{% endif %}\n"
    )
    with pytest.raises(
        UnknownRefError, match=exactly("models/a.sql:4: unknown ref 'custmers' (did you mean 'customers'?)")
    ):
        compile_files({**CUSTOMERS, "models/a.sql": text})


def test_ref_to_a_disabled_model(compile_files) -> None:
    files = {
        "models/a.sql": "{{ config(enabled=false) }}select 1",
        "models/b.sql": "select * from {{ ref('a') }}",
    }
    with pytest.raises(
        UnknownRefError,
        match=exactly("models/b.sql:1: ref 'a' names a disabled model (models/a.sql has enabled: false)"),
    ):
        compile_files(files)


def test_ref_to_another_package(compile_files) -> None:
    with pytest.raises(
        UnknownRefError,
        match=exactly(
            "models/b.sql:1: unknown package 'other' in ref('other', 'customers') "
            "(the project is 'shop'; packages are not supported)"
        ),
    ):
        compile_files({**CUSTOMERS, "models/b.sql": "select * from {{ ref('other', 'customers') }}"})


def test_ref_with_the_project_name_works(compile_files) -> None:
    manifest = compile_files({**CUSTOMERS, "models/b.sql": "select * from {{ ref('shop', 'customers') }}"})
    assert manifest.nodes["model.shop.b"].depends_on == ("model.shop.customers",)


def test_unknown_source(compile_files) -> None:
    with pytest.raises(
        UnknownRefError, match=exactly("models/a.sql:1: unknown source 'rw' (did you mean 'raw'?)")
    ):
        compile_files({**RAW, "models/a.sql": "select * from {{ source('rw', 'orders') }}\n"})


def test_unknown_source_table(compile_files) -> None:
    with pytest.raises(
        UnknownRefError,
        match=exactly("models/a.sql:1: unknown table 'order' in source 'raw' (did you mean 'orders'?)"),
    ):
        compile_files({**RAW, "models/a.sql": "select * from {{ source('raw', 'order') }}\n"})


def test_two_models_of_the_same_name(compile_files) -> None:
    with pytest.raises(
        DuplicateNodeError,
        match=exactly(
            "models/b/orders.sql: two models are named 'orders' "
            "(the other is models/a/orders.sql; rename one of them)"
        ),
    ):
        compile_files({"models/a/orders.sql": "select 1", "models/b/orders.sql": "select 1"})


def test_a_model_and_a_seed_of_the_same_name(compile_files) -> None:
    with pytest.raises(
        DuplicateNodeError,
        match=exactly(
            "seeds/orders.csv: a model and a seed are named 'orders' "
            "(the other is models/orders.sql; rename one of them)"
        ),
    ):
        compile_files({"models/orders.sql": "select 1", "seeds/orders.csv": "a\n1\n"})


def test_a_disabled_duplicate_is_fine(compile_files) -> None:
    files = {"models/a/orders.sql": "{{ config(enabled=false) }}select 1", "models/b/orders.sql": "select 2"}
    assert compile_files(files).nodes["model.shop.orders"].path == "models/b/orders.sql"


def test_syntax_error_names_the_line(compile_files) -> None:
    with pytest.raises(
        SqlSyntaxError, match=exactly("models/x.sql:3: syntax error: Expected table name but got 'where'")
    ):
        compile_files({"models/x.sql": "select *\nfrom\nwhere x\n"})


def test_syntax_error_in_a_template_maps_back_to_the_file_line(compile_files) -> None:
    files = {
        "models/y.sql": "select 1\n",
        "models/x.sql": "{{ config(materialized='table') }}\n\n\nselect *\nfrom {{ ref('y') }}\nwhere\n",
    }
    with pytest.raises(
        SqlSyntaxError, match=exactly("models/x.sql:6: syntax error: incomplete WHERE near 'where'")
    ):
        compile_files(files)


def test_syntax_error_on_a_generated_line_says_it_is_the_rendered_line(compile_files) -> None:
    text = "{% for c in ['a', 'b'] %}select {{ c }} from{% endfor %}\n"
    with pytest.raises(
        SqlSyntaxError,
        match=exactly(
            "models/x.sql:1: syntax error: Invalid expression / Unexpected token near 'b' "
            "(line 1 of the rendered SQL: 'select a fromselect b from')"
        ),
    ):
        compile_files({"models/x.sql": text})


def test_two_statements_are_an_error(compile_files) -> None:
    with pytest.raises(
        SqlSyntaxError,
        match=exactly(
            "models/a.sql:2: expected one query, found 2 statements "
            "(a model is one SELECT; run other statements in pre_hook or post_hook)"
        ),
    ):
        compile_files({"models/a.sql": "select 1;\nselect 2;\n"})


def test_a_model_must_be_a_query(compile_files) -> None:
    with pytest.raises(
        SqlSyntaxError,
        match=exactly(
            "models/a.sql:1: expected a query (SELECT, WITH or VALUES), not INSERT "
            "(a model selects its rows; sqlflow creates the table or view)"
        ),
    ):
        compile_files({"models/a.sql": "insert into t values (1)\n"})


def test_an_empty_model(compile_files) -> None:
    with pytest.raises(
        SqlSyntaxError, match=exactly("models/a.sql: no SQL statement (a model is one SELECT)")
    ):
        compile_files({"models/a.sql": "{{ config(materialized='table') }}\n"})


@pytest.mark.parametrize(
    ("text", "line", "name", "hint"),
    [
        (
            "select 1\n-- hi\nfrom {{ refs('y') }}\n",
            3,
            "refs",
            "did you mean 'ref'?",
        ),  # quick path falls back
        ("select 1\n{% if 1 %}\nfrom {{ thing }}{% endif %}\n", 3, "thing", "did you mean 'this'?"),
        ("select {{ zzzzzz }}\n", 1, "zzzzzz", None),
    ],
)
def test_undefined_name_names_the_line(
    compile_files, text: str, line: int, name: str, hint: str | None
) -> None:
    message = f"models/x.sql:{line}: '{name}' is undefined" + (f" ({hint})" if hint else "")
    with pytest.raises(TemplateError, match=exactly(message)):
        compile_files({"models/x.sql": text})


def test_undefined_name_in_a_macro_names_the_macro_line(compile_files) -> None:
    files = {
        "macros/m.sql": "{% macro m() %}\n  {{ nothing_here }}\n{% endmacro %}\n",
        "models/x.sql": "{{ m() }}",
    }
    with pytest.raises(TemplateError, match=exactly("macros/m.sql:2: 'nothing_here' is undefined")):
        compile_files(files)


def test_template_syntax_error(compile_files) -> None:
    with pytest.raises(
        TemplateError,
        match=exactly("models/a.sql:2: template syntax error: unexpected 'end of print statement'"),
    ):
        compile_files({"models/a.sql": "select\n{{ 1 + }}"})


def test_unset_env_var(compile_files, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQLFLOW_TEST_UNSET", raising=False)
    with pytest.raises(
        TemplateError,
        match=exactly(
            "models/x.sql:2: env var 'SQLFLOW_TEST_UNSET' is not set (export it, or give env_var() a default)"
        ),
    ):
        compile_files({"models/x.sql": "select\n'{{ env_var('SQLFLOW_TEST_UNSET') }}' as x\n"})


def test_missing_var(compile_files) -> None:
    with pytest.raises(
        TemplateError,
        match=exactly(
            "models/x.sql:2: var 'start' is not set "
            "(set it under vars: in sqlflow.yml, pass --vars, or give var() a default)"
        ),
    ):
        compile_files({"models/x.sql": "\nselect {{ var('start') }}\n"})


def test_unknown_config_key_in_config_call_is_kept_with_a_warning(compile_files) -> None:
    manifest = compile_files({"models/x.sql": "\n{{ config(materialised='table') }}\nselect 1\n"})
    assert manifest.nodes["model.shop.x"].config.extra == {"materialised": "table"}
    assert [str(w) for w in lint(manifest)] == [
        "models/x.sql:2: unknown config 'materialised' is kept as a custom config "
        "(did you mean 'materialized'?)"
    ]


def test_bad_config_value_in_config_call(compile_files) -> None:
    with pytest.raises(
        ConfigError,
        match=exactly(
            "models/x.sql:1: 'materialized' must be one of view, table, ephemeral, incremental, seed, snapshot, not 'tabel' "  # noqa: E501
            "(did you mean 'table'?)"
        ),
    ):
        compile_files({"models/x.sql": "{{ config(materialized='tabel') }}\nselect 1\n"})


def test_properties_of_a_model_that_does_not_exist(compile_files) -> None:
    files = {"models/orders.sql": "select 1", "models/p.yml": "version: 2\nmodels:\n  - name: ordrs\n"}
    assert [str(w) for w in lint(compile_files(files))] == [
        "models/p.yml:3: unknown model 'ordrs': its properties and tests are ignored (did you mean 'orders'?)"
    ]


def test_properties_of_a_seed_that_does_not_exist(compile_files) -> None:
    files = {"seeds/codes.csv": "a\n1\n", "seeds/p.yml": "version: 2\nseeds:\n  - name: code\n"}
    assert [str(w) for w in lint(compile_files(files))] == [
        "seeds/p.yml:3: unknown seed 'code': its properties and tests are ignored (did you mean 'codes'?)"
    ]


def test_cycle_through_a_plain_name_and_a_ref(compile_files) -> None:
    files = {"models/a.sql": "select * from b\n", "models/b.sql": "select * from {{ ref('a') }}\n"}
    with pytest.raises(
        CycleError,
        match=exactly("models/a.sql: cycle: a (models/a.sql) -> b (models/b.sql) -> a (models/a.sql)"),
    ):
        compile_files(files)


def test_construct_the_target_cannot_express(compile_files) -> None:
    with pytest.raises(
        TranspileError,
        match=exactly(
            "models/a.sql:1: cannot write model 'a' in postgres: PostgreSQL does not support IGNORE NULLS, "
            "in `FIRST_VALUE(x IGNORE NULLS)` (write it in a form postgres supports, or write this model in "
            "postgres SQL and set dialect: postgres in its config)"
        ),
    ):
        compile_files(
            {"models/a.sql": "select first_value(x ignore nulls) over (order by y) from t"},
            target_dialect="postgres",
        )


def test_unknown_dialect(compile_files) -> None:
    with pytest.raises(
        ConfigError, match=r"^sqlflow.yml: unknown SQL dialect 'duckdbb' \(the target dialect\)"
    ):
        compile_files({"models/a.sql": "select 1"}, target_dialect="duckdbb")


def test_unknown_generic_test(compile_files) -> None:
    files = {
        "models/a.sql": "select 1 as id",
        "models/p.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests: [not_nul]\n",  # noqa: E501
    }
    with pytest.raises(
        ConfigError, match=exactly("models/p.yml:6: unknown test 'not_nul' (did you mean 'not_null'?)")
    ):
        compile_files(files)
