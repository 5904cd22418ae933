"""dbt's Jinja surface: return, adapter.dispatch, the dbt. cross-database macros, run_query / statement /
execute, log, exceptions, modules, graph, model, flags, var, env_var, zip, set, json and yaml."""

from __future__ import annotations

import re

import pytest

from sqlflow.compile.compiler import LateCompile
from sqlflow.errors import TemplateError


def compiled(compile_files, text: str, name: str = "x", **kwargs) -> str:
    files = kwargs.pop("files", {})
    manifest = compile_files(
        {"models/y.sql": "select 1 as id\n", **files, f"models/{name}.sql": text}, **kwargs
    )
    return manifest.nodes[f"model.shop.{name}"].compiled_sql


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


# -- return and dispatch ------------------------------------------------------------------------------------


def test_return_gives_any_value_to_the_caller(compile_files) -> None:
    macros = {
        "macros/m.sql": """\
            {% macro columns() %}{{ return(['a', 'b']) }}{% endmacro %}
            {% macro first(items) %}{% for i in items %}{% if loop.first %}{{ return(i) }}{% endif %}
            {% endfor %}{% endmacro %}
            """
    }
    text = "select {{ columns() | join(', ') }}, '{{ first(columns()) }}' as f from {{ ref('y') }}"
    assert compiled(compile_files, text, files=macros) == 'select a, b, \'a\' as f from "main"."y"'


def test_dispatch_prefers_the_adapters_macro_then_default(compile_files) -> None:
    macros = {
        "macros/m.sql": """\
            {% macro cents(c) %}{{ return(adapter.dispatch('cents', 'shop')(c)) }}{% endmacro %}
            {% macro default__cents(c) %}{{ c }} * 100{% endmacro %}
            {% macro duckdb__cents(c) %}cast({{ c }} * 100 as bigint){% endmacro %}
            {% macro default__only(c) %}{{ c }}{% endmacro %}
            """
    }
    text = "select {{ cents('id') }} as a, {{ adapter.dispatch('only')('id') }} as b from {{ ref('y') }}"
    assert (
        compiled(compile_files, text, files=macros)
        == 'select cast(id * 100 as bigint) as a, id as b from "main"."y"'
    )


def test_a_projects_macro_overrides_dbts_through_dispatch(compile_files) -> None:
    macros = {"macros/m.sql": "{% macro duckdb__split_part(s, d, n) %}my_split({{ s }}){% endmacro %}\n"}
    text = "select {{ dbt.split_part('a', \"'-'\", 1) }} as p, {{ split_part('a', \"'-'\", 1) }} as q"
    assert compiled(compile_files, text, files=macros) == "select my_split(a) as p, my_split(a) as q"


def test_dispatch_of_an_unknown_macro_names_the_candidates_and_the_line(compile_files) -> None:
    with pytest.raises(TemplateError) as info:
        compiled(compile_files, "select 1 as a,\n{{ adapter.dispatch('nope', 'shop')() }}")
    assert str(info.value) == (
        "models/x.sql:2: adapter.dispatch('nope' of package 'shop') found no macro: looked for "
        "'duckdb__nope', 'default__nope' (define one of them in macros/ (packages are not installed))"
    )


# -- the dbt. namespace -------------------------------------------------------------------------------------

CROSS_DB = [
    ("dbt.datediff('a', 'b', 'day')", "(date_diff('day', a::timestamp, b::timestamp ))"),
    ("dbt.dateadd('month', 1, 'd')", "(d + cast(1 as bigint) * interval 1 month)"),
    ("dbt.dateadd('quarter', 2, 'd')", "(d + (cast(2 as bigint) * 3) * interval 1 month)"),
    ("dbt.date_trunc('month', 'd')", "date_trunc('month', d)"),
    ("dbt.safe_cast('a', 'integer')", "cast(a as integer)"),
    ("dbt.concat(['a', \"'-'\", 'b'])", "a || '-' || b"),
    ("dbt.type_string()", "TEXT"),
    ("dbt.type_int()", "integer"),
    ("dbt.type_bigint()", "bigint"),
    ("dbt.type_float()", "float"),
    ("dbt.type_numeric()", "numeric(28,6)"),
    ("dbt.type_timestamp()", "timestamp"),
    ("dbt.type_boolean()", "boolean"),
    ("dbt.current_timestamp()", "now()"),
    ("dbt.hash('a')", "md5(cast(a as TEXT))"),
    ("dbt.split_part('a', \"','\", 2)", "string_split(a, ',')[ 2 ]"),
    ("dbt.last_day('d', 'month')", "cast(((date_trunc('month', d) + cast(1 as bigint) * interval 1 month) + "
     "cast(-1 as bigint) * interval 1 day) as date)"),
    ("dbt.listagg('s', \"', '\", 'order by s')", "string_agg(s, ', ' order by s)"),
    ("dbt.any_value('a')", "arbitrary(a)"),
    ("dbt.bool_or('a')", "bool_or(a)"),
    ("dbt.cast_bool_to_text('a')", "cast(a as TEXT)"),
    ("dbt.string_literal(dbt.escape_single_quotes(\"it's\"))", "'it''s'"),
    ("dbt.string_literal('x')", "'x'"),
    ("dbt.length('a')", "length(a)"),
    ("dbt.position(\"'a'\", 'b')", "position('a' in b)"),
    ("dbt.replace('a', \"'x'\", \"'y'\")", "replace(a, 'x', 'y')"),
    ("dbt.right('a', 2)", "right(a, 2)"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "sql"), CROSS_DB)
def test_cross_database_macros_write_duckdb_sql(compile_files, call: str, sql: str) -> None:
    assert compiled(compile_files, f"select {{{{ {call} }}}} as v") == f"select {sql} as v"


def test_last_day_of_a_quarter(compile_files) -> None:
    assert "* 3" not in compiled(compile_files, "select {{ dbt.last_day('d', 'month') }} as v")
    assert "interval 1 month" in compiled(compile_files, "select {{ dbt.last_day('d', 'quarter') }} as v")


POSTGRES = [
    ("dbt.datediff('a', 'b', 'day')", "((b)::date - (a)::date)"),
    ("dbt.dateadd('day', 3, 'd')", "d + ((interval '1 day') * (3))"),
    ("dbt.split_part('a', \"','\", 2)", "split_part(a, ',', 2)"),
    ("dbt.any_value('a')", "min(a)"),
    ("dbt.listagg('s')", "string_agg(s, ',')"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "sql"), POSTGRES)
def test_cross_database_macros_write_postgres_sql_on_a_postgres_target(write, call: str, sql: str) -> None:
    from sqlflow.compile import compile_project
    from sqlflow.project import load_project

    root = write(
        {
            "sqlflow.yml": "name: shop\ndialect: postgres\n",
            "profiles.yml": "shop:\n  outputs:\n    dev: {type: postgres, host: localhost, dbname: shop}\n",
            "models/x.sql": f"select {{{{ {call} }}}} as v",
        }
    )
    manifest = compile_project(load_project(root), target_dialect="postgres")
    assert manifest.nodes["model.shop.x"].compiled_sql.lower() == f"select {sql} as v".lower()


def test_the_datediff_of_weeks_counts_week_boundaries(compile_files) -> None:
    assert "// 7 + case" in compiled(compile_files, "select {{ dbt.datediff('a', 'b', 'week') }} as v")


def test_dbt_concat_of_a_string_is_an_error(compile_files) -> None:
    with pytest.raises(TemplateError, match=r"dbt.concat\(\) takes a list of expressions, not a string"):
        compiled(compile_files, "select {{ dbt.concat('a') }} as v")


# -- execute, run_query, statement ------------------------------------------------------------------------


def fake_query(sql: str):
    if "fail" in sql:
        raise RuntimeError("Catalog Error: no such table")
    return ["status", "n"], [("placed", 1), ("shipped", 2)]


PIVOT = """\
{%- set rows = run_query("select status from t") -%}
{%- if execute -%}{%- set statuses = rows.columns[0].values() -%}
{%- else -%}{%- set statuses = [] -%}{%- endif -%}
select {% for s in statuses %}'{{ s }}' as s{{ loop.index }}, {% endfor %}1 as one from {{ ref('y') }}
"""


def test_without_a_connection_execute_is_false_and_run_query_gives_none(compile_files) -> None:
    assert compiled(compile_files, PIVOT) == 'select 1 as one from "main"."y"'


def test_a_node_running_queries_is_late_and_rendered_again_with_its_results(compile_files) -> None:
    late = LateCompile()
    manifest = compile_files(
        {"models/y.sql": "select 1 as id\n", "models/x.sql": PIVOT}, query=fake_query, late=late
    )
    node = manifest.nodes["model.shop.x"]
    assert node.late_sql and node.compiled_sql == 'select 1 as one from "main"."y"'
    again = late(node)
    assert again.compiled_sql == "select 'placed' as s1, 'shipped' as s2, 1 as one from \"main\".\"y\""
    assert not manifest.nodes["model.shop.y"].late_sql


def test_statement_and_load_result(compile_files) -> None:
    text = """\
        {%- call statement('counts', fetch_result=True) -%}select status, n from t{%- endcall -%}
        {%- if execute -%}{%- set data = load_result('counts')['data'] -%}
        {%- else -%}{%- set data = [] -%}{%- endif -%}
        select {{ data | length }} as n, '{{ (data[0] if data else ['none'])[0] }}' as first
        """
    late = LateCompile()
    manifest = compile_files({"models/x.sql": text}, query=fake_query, late=late)
    node = manifest.nodes["model.shop.x"]
    assert node.compiled_sql == "select 0 as n, 'none' as first"
    assert late(node).compiled_sql == "select 2 as n, 'placed' as first"


def test_a_failing_query_names_the_template_line(compile_files) -> None:
    late = LateCompile()
    text = "select 1 as a\n{% if execute %}{% do run_query('select fail') %}{% endif %}"
    manifest = compile_files({"models/x.sql": text}, query=fake_query, late=late)
    with pytest.raises(
        TemplateError, match=exactly("models/x.sql:2: run_query failed: Catalog Error: no such table")
    ):
        late(manifest.nodes["model.shop.x"])


def test_query_results_read_like_agate_tables(compile_files) -> None:
    text = """\
        {%- if execute -%}{%- set t = run_query('select 1') -%}
        select '{{ t.column_names | join(',') }}' as names, {{ t.rows[1]['n'] }} as n,
        {{- ' ' ~ t.columns['n'].values() | sum }} as total, {{ t | length }} as rows
        {%- else -%}select 1 as names{%- endif -%}
        """
    late = LateCompile()
    manifest = compile_files({"models/x.sql": text}, query=fake_query, late=late)
    assert (
        late(manifest.nodes["model.shop.x"]).compiled_sql
        == "select 'status,n' as names, 2 as n, 3 as total, 2 as rows"
    )


# -- the rest of the context ------------------------------------------------------------------------------


def test_model_is_the_node_being_rendered(compile_files) -> None:
    text = (
        "{{ config(materialized='table', tags=['t']) }}select '{{ model.name }}|{{ model.resource_type }}|"
        "{{ model.config.materialized }}|{{ model.tags | join(',') }}|{{ model.schema }}' as m"
    )
    assert compiled(compile_files, text) == "select 'x|model|table|t|main' as m"


def test_graph_lists_the_projects_nodes_shaped_like_manifest_json(compile_files) -> None:
    text = """\
        {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list %}
        select {{ models | length }} as models,
        '{{ graph.nodes['model.shop.y'].relation_name }}' as y, {{ graph.sources | length }} as sources
        """
    assert compiled(compile_files, text).startswith('select 2 as models,\n\'"main"."y"\' as y, 0 as sources')


def test_flags_say_what_runs(compile_files) -> None:
    text = "select {{ flags.FULL_REFRESH }} as fr, '{{ flags.WHICH }}' as which"
    assert (
        compiled(compile_files, text, flags={"FULL_REFRESH": True, "WHICH": "build"})
        == "select True as fr, 'build' as which"
    )
    assert compiled(compile_files, text) == "select False as fr, 'compile' as which"


def test_small_functions_of_dbts_context(compile_files, monkeypatch) -> None:
    monkeypatch.setenv("REGION", "eu")
    text = """\
        {%- do log('compiling', info=True) -%}
        select {{ set([1, 1, 2]) | length }} as a, {{ zip([1, 2], [3, 4]) | list | length }} as b,
        '{{ tojson({'k': 1}) }}' as c, '{{ fromjson('{"k": 2}')['k'] }}' as d,
        '{{ fromyaml('k: 3')['k'] }}' as e, '{{ toyaml({'k': 4}) | trim }}' as f,
        '{{ modules.datetime.date(2024, 2, 1).isoformat() }}' as g,
        {{- " '" ~ modules.re.sub('a', 'b', 'aa') }}' as h,
        '{{ env_var('REGION') }}' as i, '{{ var('v', 'dflt') }}' as j,
        {{- ' ' ~ modules.itertools.chain([1], [2]) | list | length }} as k
        """
    assert compiled(compile_files, text) == (
        "select 2 as a, 2 as b,\n'{\"k\": 1}' as c, '2' as d,\n'3' as e, 'k: 4' as f,\n"
        "'2024-02-01' as g, 'bb' as h,\n'eu' as i, 'dflt' as j, 2 as k"
    )


def test_raise_compiler_error_names_the_line(compile_files) -> None:
    with pytest.raises(TemplateError, match=exactly("models/x.sql:2: region must be set")):
        compiled(compile_files, "select 1 as a\n{{ exceptions.raise_compiler_error('region must be set') }}")


def test_exceptions_warn_becomes_a_compile_warning(compile_files) -> None:
    manifest = compile_files({"models/x.sql": "select 1 as a\n{% do exceptions.warn('check me') %}"})
    assert manifest.metadata["warnings"] == [{"message": "check me", "path": "models/x.sql", "line": 2}]


def test_unsupported_parts_of_the_context_are_named(compile_files) -> None:
    with pytest.raises(
        TemplateError, match=r"^models/x.sql:1: adapter.drop_relation is not supported by sqlflow"
    ):
        compiled(compile_files, "{% do adapter.drop_relation(this) %}select 1 as a")
    with pytest.raises(
        TemplateError, match=r"^models/x.sql:1: exceptions.raise_database_error is not supported"
    ):
        compiled(compile_files, "{% do exceptions.raise_database_error('x') %}select 1 as a")


def test_api_relation_create_and_adapter_quote(compile_files) -> None:
    text = (
        "select * from {{ api.Relation.create(database='d', schema='s', identifier='t') }} "
        "as {{ adapter.quote('q') }}"
    )
    assert compiled(compile_files, text) == 'select * from "d"."s"."t" as "q"'


def test_do_and_loop_controls(compile_files) -> None:
    text = (
        "{% set xs = [] %}{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}"
        "{% do xs.append(i) %}{% endfor %}select {{ xs | length }} as n"
    )
    assert compiled(compile_files, text) == "select 3 as n"
