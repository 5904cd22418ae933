{# a dispatched macro of the project: the duckdb__ form wins on DuckDB #}
{% macro to_cents(column) -%}
    {{ return(adapter.dispatch('to_cents', 'dbt_features')(column)) }}
{%- endmacro %}

{% macro default__to_cents(column) -%}
    cast({{ column }} * 100 as integer)
{%- endmacro %}

{% macro duckdb__to_cents(column) -%}
    cast(round({{ column }} * 100) as bigint)
{%- endmacro %}
