{# the project's own form of one of dbt's macros: dbt.split_part dispatches here first #}
{% macro duckdb__split_part(string_text, delimiter_text, part_number) -%}
    coalesce(split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }}), '')
{%- endmacro %}
