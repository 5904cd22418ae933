"""The Jinja context of a model: ref, source, config, var, env_var, this, target, macros, is_incremental."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def compiled(compile_files, text: str, name: str = "x", **kwargs) -> str:
    files = kwargs.pop("files", {})
    manifest = compile_files(
        {"models/y.sql": "select 1 as id\n", **files, f"models/{name}.sql": text}, **kwargs
    )
    return manifest.nodes[f"model.shop.{name}"].compiled_sql


def test_ref_prints_the_relation_and_exposes_its_parts(compile_files) -> None:
    text = "select '{{ ref('y').schema }}.{{ ref('y').identifier }}' as n, * from {{ ref('y') }}"
    assert compiled(compile_files, text) == 'select \'main.y\' as n, * from "main"."y"'


def test_ref_sees_the_config_set_in_the_other_models_file(compile_files) -> None:
    files = {"models/y.sql": "{{ config(schema='s', alias='why') }}select 1 as id\n"}
    assert (
        compiled(compile_files, "select * from {{ ref('y') }}", files=files) == 'select * from "main_s"."why"'
    )


def test_explicit_database_is_named(compile_files) -> None:
    files = {"models/y.sql": "{{ config(database='other') }}select 1 as id\n"}
    assert (
        compiled(compile_files, "select * from {{ ref('y') }}", files=files)
        == 'select * from "other"."main"."y"'
    )


def test_this_is_the_models_own_relation(compile_files) -> None:
    assert (
        compiled(compile_files, "{{ config(alias='z') }}select '{{ this }}' as me")
        == 'select \'"main"."z"\' as me'
    )


def test_config_get_reads_the_merged_config(compile_files) -> None:
    files = {"sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +tags: [a]\n"}
    text = "{{ config(materialized='table') }}select '{{ config.get('materialized') }} {{ config.get('tags') | join('+') }}' as m"  # noqa: E501
    assert compiled(compile_files, text, files=files) == "select 'table a' as m"


def test_config_call_merges_over_folder_and_properties(compile_files) -> None:
    manifest = compile_files(
        {
            "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +materialized: table\n    +tags: [a]\n",
            "models/p.yml": "version: 2\nmodels:\n  - name: x\n    config: {tags: [b], schema: p}\n",
            "models/x.sql": "{{ config(tags=['c'], schema='f', unique_key='id', pre_hook='select 1') }}select 1 as id",  # noqa: E501
        }
    )
    config = manifest.nodes["model.shop.x"].config
    assert (config.materialized, config.tags, config.schema) == ("table", ("a", "b", "c"), "f")
    assert (config.unique_key, config.pre_hook) == (("id",), ("select 1",))


def test_vars_cli_over_project(compile_files) -> None:
    files = {"sqlflow.yml": "name: shop\nvars:\n  a: 1\n  b: 2\n"}
    text = "select {{ var('a') }} as a, {{ var('b') }} as b, {{ var('c', 3) }} as c"
    assert compiled(compile_files, text, files=files, vars={"b": 20}) == "select 1 as a, 20 as b, 3 as c"


def test_env_var(compile_files, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLFLOW_TEST_X", "hello")
    monkeypatch.delenv("SQLFLOW_TEST_Y", raising=False)
    text = "select '{{ env_var('SQLFLOW_TEST_X') }}' as x, '{{ env_var('SQLFLOW_TEST_Y', 'dflt') }}' as y"
    assert compiled(compile_files, text) == "select 'hello' as x, 'dflt' as y"


def test_target_run_started_at_and_invocation_id(compile_files) -> None:
    text = (
        "select '{{ target.name }} {{ target.type }} {{ target.schema }} {{ target.database }} "
        "{{ target.profile_name }}' as t, '{{ run_started_at.year }}' as y, '{{ invocation_id }}' as i"
    )
    started = datetime(2024, 5, 1, tzinfo=UTC)
    out = compiled(compile_files, text, run_started_at=started, invocation_id="inv")
    assert out == "select 'default duckdb main shop shop' as t, '2024' as y, 'inv' as i"


def test_macros_set_and_loops(compile_files) -> None:
    files = {
        "macros/util.sql": """\
            {% macro cents(col) %}({{ col }} / 100){% endmacro %}
            {% macro cols(names) %}
            {%- for n in names %}{{ n }}{{ ', ' if not loop.last }}{% endfor -%}
            {% endmacro %}
            {% macro from_y() %}from {{ ref('y') }}{% endmacro %}
            """,
    }
    text = "{% set names = ['id', 'id'] %}select {{ cols(names) }}, {{ cents('id') }} as c {{ from_y() }}"
    assert compiled(compile_files, text, files=files) == 'select id, id, (id / 100) as c from "main"."y"'


def test_macro_calling_a_macro_of_another_file(compile_files) -> None:
    files = {
        "macros/a.sql": "{% macro outer() %}[{{ inner() }}]{% endmacro %}",
        "macros/b.sql": "{% macro inner() %}1{% endmacro %}",
    }
    assert compiled(compile_files, "select {{ outer() }} as one", files=files) == "select [1] as one"


def test_jinja_drops_one_trailing_newline_on_both_paths(compile_files) -> None:
    quick = compiled(compile_files, "select *\nfrom {{ ref('y') }}\n\n", name="q")
    jinja = compiled(compile_files, "select *\nfrom {{ ref('y') | string }}\n\n", name="j")
    assert quick == jinja == 'select *\nfrom "main"."y"'


@pytest.mark.parametrize("incremental", [False, True])
def test_is_incremental_with_else(compile_files, incremental: bool) -> None:
    text = (
        "{{ config(materialized='incremental') }}select {% if is_incremental() %}1{% else %}2{% endif %} as v"
    )
    manifest = compile_files({"models/x.sql": text})
    node = manifest.nodes["model.shop.x"]
    assert (
        node.incremental_sql if incremental else node.compiled_sql
    ) == f"select {1 if incremental else 2} as v"


def test_dbt_style_generic_test_blocks_are_macros(compile_files) -> None:
    files = {
        "tests/generic/positive.sql": """\
            {% test positive(model, column_name) %}
            select * from {{ model }} where {{ column_name }} < 0
            {% endtest %}
            """,
        "models/p.yml": "version: 2\nmodels:\n  - name: y\n    columns:\n      - name: id\n        tests: [positive]\n",  # noqa: E501
    }
    manifest = compile_files({"models/y.sql": "select 1 as id\n", **files})
    (test,) = manifest.tests()
    assert test.name == "positive_y_id"
    assert test.compiled_sql.strip() == 'select * from "main"."y" where id < 0'
    assert test.depends_on == ("model.shop.y",)


def test_hooks_are_rendered_with_the_models_context(compile_files) -> None:
    files = {
        "sqlflow.yml": 'name: shop\nmodels:\n  shop:\n    +post-hook: "analyze {{ this }}"\n',
        "models/x.sql": "{{ config(pre_hook=\"delete from {{ ref('y') }} where false\") }}select 1 as id",
    }
    config = compile_files({"models/y.sql": "select 1 as id\n", **files}).nodes["model.shop.x"].config
    assert config.pre_hook == ('delete from "main"."y" where false',)
    assert config.post_hook == ('analyze "main"."x"',)
