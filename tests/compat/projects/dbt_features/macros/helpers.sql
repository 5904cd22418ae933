{% macro status_list() %}
    {#- a macro returning a list, read with run_query when executing -#}
    {%- if execute -%}
        {%- set result = run_query("select distinct status from " ~ ref('raw_orders') ~ " order by 1") -%}
        {{ return(result.columns[0].values() | list) }}
    {%- else -%}
        {{ return([]) }}
    {%- endif -%}
{% endmacro %}

{% macro statement_count(relation) %}
    {%- call statement('counted', fetch_result=True) -%}
        select count(*) as n from {{ relation }}
    {%- endcall -%}
    {%- if execute -%}
        {{ return(load_result('counted')['data'][0][0]) }}
    {%- endif -%}
    {{ return(0) }}
{% endmacro %}
