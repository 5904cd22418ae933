-- depends_on: {{ ref('raw_orders') }}
{# the Jinja context: run_query and statement while executing, graph, model, this, modules #}
{%- set statuses = status_list() -%}
select
    {%- for status in statuses %}
    sum(case when status = '{{ status }}' then 1 else 0 end) as n_{{ status }},
    {%- endfor %}
    count(*) as n_orders,
    {{ statement_count(ref('stg_orders')) }} as n_counted,
    '{{ model.name }}' as model_name,
    '{{ this.identifier }}' as this_identifier,
    '{{ this.schema }}' as this_schema,
    {{ graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed') | list | length }} as n_seeds,
    {{ (set(['a', 'b', 'a']) | length) }} as n_distinct,
    {{ (zip([1, 2], ['x', 'y']) | list | length) }} as n_pairs,
    '{{ fromjson('{"k": "v"}')['k'] }}' as from_json,
    '{{ modules.datetime.date(2024, 1, 31).isoformat() }}' as a_date,
    {{ var('big_order') }} as big_order
from {{ ref('stg_orders') }}
